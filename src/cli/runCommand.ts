import type { Execution, LogChunk } from '../core/domain.ts';
import { CONNECTION_KINDS, CroniumError, type ErrorKind } from '../core/errors.ts';
import type { CroniumService } from '../service/service.ts';
import type { CliIo, CliValues } from './main.ts';

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

/** Prefixes each line with the server's name; partial lines wait for their end (or the run's end). */
class PrefixedWriter {
  private readonly partial = new Map<string, string>();
  private readonly io: CliIo;
  private readonly names: Map<string, string>;

  constructor(io: CliIo, names: Map<string, string>) {
    this.io = io;
    this.names = names;
  }

  write(chunk: LogChunk): void {
    const key = `${chunk.executionId}:${chunk.stream}`;
    const text = (this.partial.get(key) ?? '') + chunk.text;
    const lastNewline = text.lastIndexOf('\n');
    this.partial.set(key, text.slice(lastNewline + 1));
    if (lastNewline < 0) return;
    const prefix = `[${this.names.get(chunk.executionId) ?? '?'}] ${chunk.stream === 'system' ? 'cronium: ' : ''}`;
    const lines = text
      .slice(0, lastNewline)
      .split('\n')
      .map((l) => prefix + l + '\n')
      .join('');
    (chunk.stream === 'stdout' ? this.io.stdout : this.io.stderr).write(lines);
  }

  end(): void {
    for (const [key, rest] of this.partial) {
      if (!rest) continue;
      const [executionId, stream] = key.split(':') as [string, LogChunk['stream']];
      this.write({ executionId, stream, seq: 0, ts: 0, text: rest + '\n' });
    }
  }
}

export async function runCommand(
  service: CroniumService,
  jobRef: string,
  values: CliValues,
  io: CliIo,
): Promise<number> {
  const job = service.getJob(jobRef);
  const serverRefs = values.on
    ? values.on
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : job.defaultServerIds;
  if (serverRefs.length === 0)
    throw new CroniumError('invalid_input', `Say where to run ${job.name}: --on SERVER[,SERVER...].`, {
      fields: { on: 'required' },
    });
  let input: unknown = undefined;
  if (values.input !== undefined) {
    try {
      input = JSON.parse(values.input) as unknown;
    } catch (err) {
      throw new CroniumError('invalid_input', `--input is not valid JSON: ${(err as Error).message}`, {
        fields: { input: 'not valid JSON' },
      });
    }
  }
  const serverIds = serverRefs.map((ref) => service.getServer(ref).id);

  const names = new Map<string, string>();
  const single = serverIds.length === 1;
  const prefixed = new PrefixedWriter(io, names);
  const unsubscribe = service.subscribe((event) => {
    if (event.type !== 'log' || values.json || !names.has(event.chunk.executionId)) return;
    const { chunk } = event;
    if (!single) prefixed.write(chunk);
    else if (chunk.stream === 'stdout') io.stdout.write(chunk.text);
    else io.stderr.write(chunk.stream === 'system' ? `cronium: ${chunk.text}` : chunk.text);
  });

  const run = service.startRun({
    jobId: job.id,
    serverIds,
    input,
    helperMode: values.helpers,
    concurrency: values.concurrency ?? 10,
    trigger: 'cli',
  });
  for (const id of run.executionIds) names.set(id, service.getExecution(id).serverName);

  // Ctrl-C cancels the run (ending the remote processes) instead of leaving them behind.
  const onSigint = () => {
    io.stderr.write('\ncronium: cancelling…\n');
    service.cancelRun(run.id);
  };
  process.on('SIGINT', onSigint);
  let finished;
  try {
    finished = await service.waitForRun(run.id);
  } finally {
    process.off('SIGINT', onSigint);
    unsubscribe();
    prefixed.end();
  }
  const executions = finished.executionIds.map((id) => service.getExecution(id));

  if (values.json) {
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
  if (single) return exitCodeOf(executions[0]!);
  return finished.status === 'succeeded' ? 0 : 1;
}
