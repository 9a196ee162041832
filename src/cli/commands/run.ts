/** `cronium run <job>`: runs a job on its servers, streaming the output live. */
import type { Command } from 'commander';

import type { RunRequest } from '../../contract.ts';
import type { Execution, LogChunk, Run } from '../../core/domain.ts';
import { CONNECTION_KINDS, CroniumError, type ErrorKind } from '../../core/errors.ts';
import { log } from '../../core/logger.ts';
import { encodeEscaped } from '../../exec/escapedUtf8.ts';
import { action, type CommandContext, type Host } from '../context.ts';
import type { CliIo, GlobalOptions } from '../io.ts';
import { LinePrefixer } from '../linePrefixer.ts';
import { parseJsonOption, splitList } from '../parse.ts';

interface RunOptions {
  on?: string;
  input?: string;
  helpers?: string;
  concurrency?: string;
}

export function register(cmd: Command, ctx: CommandContext): void {
  cmd
    .argument('<job>')
    .option('--on <servers>', "servers, comma-separated (default: the job's own)")
    .option('--input <json>', 'input for the script (cronium.input())')
    .option('--helpers <mode>', 'auto, api or bundled')
    .option('--concurrency <n>', 'servers at once (default 10)')
    .action(
      action(ctx, (host, job: string, o: RunOptions) => runCommand(host, job, o, ctx.global(), ctx.io)),
    );
}

/** Exit code for one server: the script's own, or what ssh(1) and timeout(1) users expect. */
export function exitCodeOf(e: Execution): number {
  if (e.status === 'succeeded') return 0;
  if (e.status === 'failed') return e.exitCode ?? 1;
  if (e.status === 'timed_out') return 124;
  if (e.status === 'cancelled') return 130;
  if (e.errorKind === 'interpreter_missing') return 127;
  if (e.errorKind && CONNECTION_KINDS.has(e.errorKind as ErrorKind)) return 255;
  return 1;
}

type Output = 'stdout' | 'stderr';

/**
 * The run's live log on the CLI's outputs: as is for one server, each line prefixed with its server's name
 * for several (see LinePrefixer). When an output's buffer is full it asks the service to pause the scripts'
 * output until the buffer drains, so memory stays flat whatever the output size and the reader's speed.
 * Once an output is closed (the reader went away) nothing more is written.
 */
class LiveOutput {
  private readonly prefixer = new LinePrefixer<Output>();
  private readonly waiting: Record<Output, Promise<void> | null> = { stdout: null, stderr: null };
  closed = false;
  private readonly io: CliIo;
  private readonly names: Map<string, string>;
  private readonly single: boolean;
  private readonly slowDown: (until: Promise<void>) => void;

  constructor(
    io: CliIo,
    names: Map<string, string>,
    single: boolean,
    slowDown: (until: Promise<void>) => void,
  ) {
    this.io = io;
    this.names = names;
    this.single = single;
    this.slowDown = slowDown;
  }

  write(chunk: LogChunk): void {
    if (this.closed) return;
    if (this.single) {
      // Bytes as the script printed them (invalid UTF-8 included: see escapedUtf8.ts).
      if (chunk.stream === 'stdout') this.put('stdout', encodeEscaped(chunk.text));
      else
        this.put('stderr', chunk.stream === 'system' ? `cronium: ${chunk.text}` : encodeEscaped(chunk.text));
      return;
    }
    const source = {
      key: `${chunk.executionId}:${chunk.stream}`,
      output: chunk.stream === 'stdout' ? ('stdout' as const) : ('stderr' as const),
      prefix: `[${this.names.get(chunk.executionId) ?? '?'}] ${chunk.stream === 'system' ? 'cronium: ' : ''}`,
    };
    for (const piece of this.prefixer.push(source, encodeEscaped(chunk.text)))
      this.put(piece.output, piece.bytes);
  }

  /** Ends the last unterminated line of every server (several servers only). */
  end(): void {
    for (const piece of this.prefixer.end()) this.put(piece.output, piece.bytes);
  }

  private put(output: Output, data: string | Buffer): void {
    if (this.closed) return;
    const stream = this.io[output];
    if (stream.write(data) || this.waiting[output]) return;
    const until = new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        stream.off('error', done);
        this.waiting[output] = null;
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
      stream.on('error', done);
    });
    this.waiting[output] = until;
    this.slowDown(until);
  }
}

async function runCommand(
  service: Host,
  jobRef: string,
  values: RunOptions,
  global: GlobalOptions,
  io: CliIo,
): Promise<number> {
  const job = service.getJob(jobRef);
  const serverRefs = values.on ? splitList(values.on) : job.defaultServerIds;
  if (serverRefs.length === 0)
    throw new CroniumError('invalid_input', `Say where to run ${job.name}: --on SERVER[,SERVER...].`, {
      fields: { on: 'required' },
    });
  const input = values.input === undefined ? undefined : parseJsonOption(values.input, 'input');

  // What the run's executions are (their server's name, at the end their final row) comes with the
  // events that publish them: nothing is read back. Before startRun returns, every execution event is
  // this run's (a CLI process runs one); log events come only after it has returned.
  let run: Run | null = null;
  const executionsSeen = new Map<string, Execution>();
  const names = new Map<string, string>();
  let live: LiveOutput | null = null;
  const unsubscribe = service.subscribe((event) => {
    if (event.type === 'execution' && (run === null || event.execution.runId === run.id)) {
      executionsSeen.set(event.execution.id, event.execution);
      names.set(event.execution.id, event.execution.serverName);
    }
    if (event.type !== 'log' || global.json || !live || !names.has(event.chunk.executionId)) return;
    live.write(event.chunk);
  });

  try {
    run = service.startRun({
      jobId: job.id,
      serverIds: serverRefs,
      input,
      // The service holds the value to the helper-mode rule (invalid_input naming the field).
      helperMode: values.helpers as RunRequest['helperMode'],
      concurrency: values.concurrency ?? 10,
      trigger: 'cli',
    });
  } catch (err) {
    unsubscribe();
    throw err;
  }
  const started: Run = run;
  const single = started.executionIds.length === 1;
  const output = new LiveOutput(io, names, single, (until) => service.slowDown(until));
  live = output;
  log().debug(
    `run ${started.id} of ${job.name} started on ${single ? 1 : started.executionIds.length} server(s)`,
  );

  // Ctrl-C (and SIGTERM, SIGHUP) cancels the run (ending the remote processes) instead of leaving them
  // behind; the exit code is then the shell's for that signal (128 + its number: 130, 143, 129).
  let interrupted: number | null = null;
  const stopSignals = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  const onSignal = (signal: keyof typeof stopSignals) => {
    if (interrupted === null) io.stderr.write('\ncronium: cancelling…\n');
    interrupted ??= stopSignals[signal];
    service.cancelRun(started.id);
  };
  for (const signal of Object.keys(stopSignals) as (keyof typeof stopSignals)[]) process.on(signal, onSignal);
  // A reader that went away (`| head`) is the pipe's Ctrl-C: cancel the run, like SIGPIPE ends a
  // coreutils program, and say nothing more (main() exits with CLOSED_OUTPUT_EXIT).
  const onOutputClosed = () => {
    output.closed = true;
    service.cancelRun(started.id);
  };
  io.outputClosed?.addEventListener('abort', onOutputClosed, { once: true });
  if (io.outputClosed?.aborted) onOutputClosed();
  let finished;
  try {
    finished = await service.waitForRun(started.id);
  } finally {
    for (const signal of Object.keys(stopSignals) as (keyof typeof stopSignals)[])
      process.off(signal, onSignal);
    io.outputClosed?.removeEventListener('abort', onOutputClosed);
    unsubscribe();
    output.end();
  }
  if (output.closed) return 1;
  // Each execution's final row, as its last event published it.
  const executions = finished.executionIds.map((id) => executionsSeen.get(id) ?? service.getExecution(id));

  if (global.json) {
    io.stdout.write(JSON.stringify({ run: finished, executions }, null, 2) + '\n');
  } else {
    for (const e of executions) {
      if (e.status === 'succeeded' && single) continue;
      const what =
        e.status === 'succeeded'
          ? 'succeeded'
          : e.errorKind === 'script_failed'
            ? `failed (exit ${e.exitCode})`
            : `${e.status}: ${e.errorMessage}`;
      io.stderr.write(
        `cronium: ${single ? '' : `${e.serverName}: `}${what}${e.fallbackReason ? ` [helpers fell back to bundled mode: ${e.fallbackReason}]` : ''}\n`,
      );
    }
    if (!single)
      io.stderr.write(
        `cronium: run ${finished.status} (${executions.filter((e) => e.status === 'succeeded').length}/${executions.length} succeeded)\n`,
      );
  }
  if (interrupted !== null && finished.status !== 'succeeded') return interrupted;
  if (single) return exitCodeOf(executions[0]!);
  return finished.status === 'succeeded' ? 0 : 1;
}
