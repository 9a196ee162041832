/** `cronium run <job>`: runs a job on its servers, streaming the output live. */
import type { Command } from 'commander';

import type { RunRequest } from '../../contract.ts';
import type { Execution, LogChunk, Run } from '../../core/domain.ts';
import { CONNECTION_KINDS, CroniumError, type ErrorKind } from '../../core/errors.ts';
import { printedBytes } from '../../core/logBytes.ts';
import { log } from '../../core/logger.ts';
import { viaWorkersRefused } from '../../team/teamMode.ts';
import { action, type CommandContext, databaseUrl, type Host } from '../context.ts';
import { chainStepLine } from '../format.ts';
import type { CliIo, GlobalOptions } from '../io.ts';
import { LinePrefixer } from '../linePrefixer.ts';
import { collect, parseJsonOption, parseSetOptions, splitList } from '../parse.ts';

interface RunOptions {
  on?: string;
  input?: string;
  helpers?: string;
  concurrency?: string;
  set?: string[];
  via?: string;
}

export function register(cmd: Command, ctx: CommandContext): void {
  cmd
    .argument('<job>')
    .option(
      '--on <servers>',
      "servers and tag:NAME (every server with that tag), comma-separated (default: the job's own)",
    )
    .option('--input <json>', 'input for the script (cronium.input())')
    .option('--helpers <mode>', 'auto, api or bundled')
    .option('--concurrency <n>', 'servers at once (default 10)')
    .option('--set <name=value>', "a value for one of the job's parameters (repeatable)", collect)
    .option('--via <where>', 'direct (here, the default) or workers (team mode: queued for cronium worker)')
    .action(
      action(
        ctx,
        async (host, job: string, o: RunOptions) => runCommand(host, job, o, ctx.global(), ctx.io),
        {
          // Once the run's end is stored and said, the process ends (see action()).
          endEarly: true,
        },
      ),
    );
}

/**
 * `cronium run`'s exit code when the worker running its one execution was lost: 75, EX_TEMPFAIL of
 * sysexits.h ("a temporary failure: the user is invited to retry") — the script's own end is unknown.
 */
export const WORKER_LOST_EXIT = 75;

/** Exit code for one server: the script's own, or what ssh(1) and timeout(1) users expect. */
export function exitCodeOf(e: Execution): number {
  if (e.status === 'succeeded') return 0;
  if (e.status === 'worker_lost') return WORKER_LOST_EXIT;
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
export class LiveOutput {
  private readonly prefixer = new LinePrefixer<Output>();
  private readonly waiting: Record<Output, Promise<void> | null> = { stdout: null, stderr: null };
  closed = false;
  private readonly io: CliIo;
  private readonly names: Map<string, string>;
  private readonly isSingle: () => boolean;
  private readonly slowDown: (until: Promise<void>) => void;

  constructor(
    io: CliIo,
    names: Map<string, string>,
    single: () => boolean,
    slowDown: (until: Promise<void>) => void,
  ) {
    this.io = io;
    this.names = names;
    this.isSingle = single;
    this.slowDown = slowDown;
  }

  write(chunk: LogChunk): void {
    if (this.closed) return;
    if (this.isSingle()) {
      // Bytes as the script printed them (invalid UTF-8 included: see escapedUtf8.ts).
      if (chunk.stream === 'stdout') this.put('stdout', printedBytes(chunk));
      else
        this.put(
          'stderr',
          // A chunk of system lines may hold several (batched): each gets the prefix.
          chunk.stream === 'system'
            ? chunk.text.replace(/(^|\n)(?=[^\n])/g, '$1cronium: ')
            : printedBytes(chunk),
        );
      return;
    }
    const source = {
      key: `${chunk.executionId}:${chunk.stream}`,
      output: chunk.stream === 'stdout' ? ('stdout' as const) : ('stderr' as const),
      prefix: `[${this.names.get(chunk.executionId) ?? '?'}] ${chunk.stream === 'system' ? 'cronium: ' : ''}`,
    };
    for (const piece of this.prefixer.push(source, printedBytes(chunk))) this.put(piece.output, piece.bytes);
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
  // Refused before the job is looked up: outside team mode the job may not even be in this store.
  if (values.via === 'workers' && databaseUrl(global, io.env) === null) throw viaWorkersRefused();
  const job = await service.getJob(jobRef);
  const serverRefs = values.on ? splitList(values.on) : job.defaultServerIds;
  if (serverRefs.length === 0)
    throw new CroniumError('invalid_input', `Say where to run ${job.name}: --on SERVER[,SERVER...].`, {
      fields: { on: 'required' },
    });
  const input = values.input === undefined ? undefined : parseJsonOption(values.input, 'input');
  // `tag:NAME` entries are expanded by the service (as for the app and schedules).
  // Names and `tag:NAME` entries are resolved by the service, once (as for the app and schedules).
  const serverIds = serverRefs;
  const params = parseSetOptions(values.set);
  return followRun(
    service,
    () =>
      inOptionWords(() =>
        service.startRun({
          jobId: job.id,
          serverIds,
          input,
          // The service holds the value to the helper-mode rule (invalid_input naming the field).
          helperMode: values.helpers as RunRequest['helperMode'],
          concurrency: values.concurrency ?? 10,
          trigger: 'cli',
          params,
          // The service holds the value to its list (invalid_input naming the field).
          via: values.via as RunRequest['via'],
        }),
      ),
    global,
    io,
  );
}

/**
 * Calls `start`; a refusal of parameter values (`--set`) is said in one line per value, with the note that
 * nothing was started (the core checks every value before it starts anything).
 */
async function inOptionWords(start: () => Promise<Run>): Promise<Run> {
  try {
    return await start();
  } catch (err) {
    const fields = err instanceof CroniumError ? err.fields : undefined;
    if (!fields || !Object.keys(fields).some((f) => f.startsWith('params.'))) throw err;
    const said = Object.entries(fields).map(([f, m]) => (f.startsWith('params.') ? m : `${f}: ${m}`));
    throw new CroniumError('invalid_input', `${said.join('; ')}. Nothing was started.`, { fields });
  }
}

/**
 * Starts a run with `start` and follows it to its end on the CLI's outputs: the live log (prefixed by
 * server for several), Ctrl-C/SIGTERM/SIGHUP and a closed reader cancel it, then a summary on stderr (or
 * `--json`: the run and its executions). Returns the exit code (see exitCodeOf). `cronium run` and
 * `cronium rerun` share it.
 */
export async function followRun(
  service: Host,
  start: () => Promise<Run>,
  global: GlobalOptions,
  io: CliIo,
): Promise<number> {
  const names = new Map<string, string>();
  let single = true;
  const live = new LiveOutput(
    io,
    names,
    () => single,
    (until) => service.slowDown(until),
  );
  // Subscribed before the start: no log line can come before it (executions start asynchronously).
  const unsubscribe = service.subscribe((event) => {
    if (event.type !== 'log' || global.json || !names.has(event.chunk.executionId)) return;
    live?.write(event.chunk);
  });
  let run: Run;
  try {
    run = await start();
  } catch (err) {
    unsubscribe();
    throw err;
  }
  single = run.executionIds.length === 1;
  // The run carries its servers' names: no read back per execution.
  run.executionIds.forEach((id, i) => names.set(id, run.serverNames[i]!));
  log().debug(`run ${run.id} of ${run.jobName} started on ${run.executionIds.length} server(s)`);

  // Ctrl-C (and SIGTERM, SIGHUP) cancels the run (ending the remote processes) instead of leaving them
  // behind; the exit code is then the shell's for that signal (128 + its number: 130, 143, 129).
  let interrupted: number | null = null;
  const stopSignals = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  // The run, and the runs its chain has started (every run of this process is this command's). Called
  // from signal and abort handlers, so not awaited: a cancel that fails leaves the run to end by itself,
  // and the wait below ends with it either way.
  const cancelAll = () => {
    for (const id of new Set([run.id, ...service.activeRunIds()]))
      service.cancelRun(id).catch((err: unknown) => log().debug({ err }, `cancelling run ${id} failed`));
  };
  const onSignal = (signal: keyof typeof stopSignals) => {
    if (interrupted === null) io.stderr.write('\ncronium: cancelling…\n');
    interrupted ??= stopSignals[signal];
    cancelAll();
  };
  for (const signal of Object.keys(stopSignals) as (keyof typeof stopSignals)[]) process.on(signal, onSignal);
  // A reader that went away (`| head`) is the pipe's Ctrl-C: cancel the run, like SIGPIPE ends a
  // coreutils program, and say nothing more (main() exits with CLOSED_OUTPUT_EXIT).
  const onOutputClosed = () => {
    live.closed = true;
    cancelAll();
  };
  io.outputClosed?.addEventListener('abort', onOutputClosed, { once: true });
  if (io.outputClosed?.aborted) onOutputClosed();
  let finished;
  let chained: Run[] = [];
  try {
    finished = await service.waitForRun(run.id);
    // The runs its chain links start run in this process: it stays until the whole chain has ended.
    chained = await service.waitForChain(run.id);
  } finally {
    for (const signal of Object.keys(stopSignals) as (keyof typeof stopSignals)[])
      process.off(signal, onSignal);
    io.outputClosed?.removeEventListener('abort', onOutputClosed);
    unsubscribe();
    live.end();
  }
  if (live.closed) return 1;
  const executions: Execution[] = [];
  for (const id of finished.executionIds) executions.push(await service.getExecution(id));

  if (global.json) {
    io.stdout.write(JSON.stringify({ run: finished, executions, chained }, null, 2) + '\n');
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
    const down: Execution[] = [];
    for (const c of chained) for (const id of c.executionIds) down.push(await service.getExecution(id));
    for (const step of [...executions, ...down].flatMap((e) => e.chain).filter((s) => s.skipped))
      io.stderr.write(`cronium: chain: ${chainStepLine(step)}\n`);
    for (const c of chained) {
      const parent = c.parentExecutionId ? await service.getExecution(c.parentExecutionId) : null;
      const names: string[] = [];
      for (const id of c.executionIds) names.push((await service.getExecution(id)).serverName);
      const servers = names.join(', ');
      io.stderr.write(
        `cronium: chain: ${c.jobName} on ${servers}${parent ? ` (after ${parent.jobName} on ${parent.serverName})` : ''}: ${c.status} (run ${c.id.slice(0, 8)})\n`,
      );
    }
    for (const n of finished.notifications.filter((n) => !n.ok))
      io.stderr.write(`cronium: the ${n.channel} failed: ${n.error}\n`);
    if (single && executions[0]!.status === 'worker_lost')
      io.stderr.write(
        `cronium: its worker was lost while the script ran; to run it again: cronium rerun ${finished.id.slice(0, 8)}\n`,
      );
    if (!single && finished.status !== 'succeeded')
      io.stderr.write(
        `cronium: to run the hosts that did not succeed again: cronium rerun ${finished.id.slice(0, 8)} --failed\n`,
      );
  }
  if (interrupted !== null && finished.status !== 'succeeded') return interrupted;
  if (single) return exitCodeOf(executions[0]!);
  return finished.status === 'succeeded' ? 0 : 1;
}
