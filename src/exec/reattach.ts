/**
 * Keep-running executions (Job.keepRunning): the script runs detached on its host with its output spooled
 * to its work directory (see src/remote/runner.sh and follow.sh), so a lost connection or a killed app
 * leaves it running and the execution `detached`. Reattaching follows it again: the spool is read from its
 * start, what the stored log already holds is skipped (by characters per stream, after the same decoding
 * and masking), the rest is logged and published as it comes, then the real exit status and the helpers'
 * results (bundled mode) are recorded and the work directory removed. A cancel while attached stops the
 * script's whole tree (stop.sh), as for any execution.
 */
import type { Execution, ExecutionStatus, LogChunk, Run, RunStatus } from '../core/domain.ts';
import { CroniumError, toErrorValue } from '../core/errors.ts';
import { finalStatus } from '../core/executionStatus.ts';
import type { EventHub } from '../core/eventHub.ts';
import type { RemoteBundle } from '../remote/assets.ts';
import type { RuntimeContext, VariableAccess } from '../runtime/executionRegistry.ts';
import { applyCollected, parseCollected } from '../runtime/helperSession.ts';
import type { ConnectionPool, Lease } from '../ssh/connectionPool.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import type { ExecutionPatch, HistoryRepo } from '../store/historyRepo.ts';
import type { LogWriter } from '../store/logWriter.ts';
import { ControlFilter, NoiseLines } from './controlFilter.ts';
import { between, collectCommand, ensureDeployed } from './deploy.ts';
import { LogSink } from './logSink.ts';
import { maskDeep } from './secretMasker.ts';
import { randomToken } from './shell.ts';

/** How an execution whose connection was lost while its keep-running script ran is written. */
export function detachedEnding(
  serverName: string,
  collectMs: number,
): ExecutionPatch & { status: 'detached' } {
  return {
    status: 'detached',
    collectMs,
    errorKind: 'connection_lost',
    errorMessage: `The connection to ${serverName} was lost; the script keeps running there (detached): \`cronium attach\` follows it again.`,
  };
}

/**
 * The command that follows a detached execution's spool (see follow.sh): ready lines with `nonce` first,
 * then the script's output from the start, and the script's exit status as its own.
 */
export function followCommand(
  bundle: RemoteBundle,
  executionId: string,
  nonce: string,
  graceSec: number,
): string {
  if (!/^[A-Za-z0-9-]+$/.test(executionId) || !/^[a-f0-9]+$/.test(nonce))
    throw new Error('unsafe runner arguments');
  return `exec sh "$HOME/.cronium/runner/${bundle.hash}/follow.sh" ${executionId} ${nonce} ${Math.max(0, Math.round(graceSec))}`;
}

export interface ReattachDeps {
  pool: ConnectionPool;
  history: HistoryRepo;
  logs: LogWriter;
  hub: EventHub;
  bundle: RemoteBundle;
  variables: VariableAccess;
  /** Seconds between TERM and KILL when the script is cancelled. */
  killGraceSec: number;
  /** The status of a run from its executions' (runStatusOf in runManager.ts). */
  runStatusOf: (executions: Pick<Execution, 'status'>[]) => RunStatus;
}

/** Milliseconds the collector may take after the script was cancelled (its results still count). */
const COLLECT_AFTER_STOP_MS = 15_000;

/**
 * Follows a claimed execution (HistoryRepo.claimDetached: now `running`) to its end and records it;
 * returns it as written. `secrets` are the values to mask (as for its first start); `signal` cancels the
 * script. A connection lost again leaves it `detached` once more; a work directory that is gone ends it
 * `error`. Never rejects: every failure is written on the execution.
 */
export async function followDetached(
  deps: ReattachDeps,
  execution: Execution,
  secrets: string[],
  signal: AbortSignal,
): Promise<Execution> {
  const { history } = deps;
  const id = execution.id;
  const extent = history.storedLogExtent(id);
  const log = new LogSink({
    executionId: id,
    secrets,
    startSeq: extent.lastSeq + 1,
    skip: { stdout: extent.stdout, stderr: extent.stderr },
    write: (chunks) => writeLog(deps, chunks),
  });
  log.system('reattached: following the script on its host again');
  let lease: Lease | null = null;
  let final: ExecutionPatch & { status: ExecutionStatus };
  const started = performance.now();
  try {
    lease = await deps.pool.acquire(execution.serverId, signal);
    await ensureDeployed(lease.connection, deps.bundle, signal);
    final = await follow(deps, lease.connection, execution, log, signal);
  } catch (err) {
    const error = toErrorValue(err);
    if (signal.aborted && err === signal.reason) {
      // Cancelled before the follower ran: the script is still there, untouched.
      log.system('cancelled before the script was reached: it is still detached');
      final = { status: 'detached' };
    } else if (CONNECTION_FAILURES.has(error.kind)) {
      log.system(`could not reach ${execution.serverName}: ${error.message} (still detached)`);
      final = { status: 'detached' };
    } else {
      final = { status: 'error', errorKind: error.kind, errorMessage: error.message };
    }
  } finally {
    lease?.release();
  }
  log.close();
  try {
    await deps.logs.flush();
  } catch (err) {
    const error = toErrorValue(err);
    if (final.status !== 'detached')
      final = { status: 'error', errorKind: error.kind, errorMessage: error.message };
  }
  const { status, ...fields } = final;
  const ending: ExecutionPatch =
    status === 'detached'
      ? fields
      : {
          ...fields,
          scriptMs: (execution.timings.scriptMs ?? 0) + Math.round(performance.now() - started),
          endedAt: Date.now(),
        };
  const written = history.moveExecution(id, status, ending);
  deps.hub.emit({ type: 'execution', execution: written });
  const run: Run | null = history.finishRunIfDone(written.runId, deps.runStatusOf);
  if (run) deps.hub.emit({ type: 'run', run });
  return written;
}

/** Errors that leave a detached script where it is: the host could not be reached this time. */
const CONNECTION_FAILURES: ReadonlySet<string> = new Set([
  'connection_refused',
  'connect_timeout',
  'dns',
  'connection_lost',
  'auth_failed',
  'host_key_unknown',
  'host_key_mismatch',
]);

async function follow(
  deps: ReattachDeps,
  connection: SshConnection,
  execution: Execution,
  log: LogSink,
  signal: AbortSignal,
): Promise<ExecutionPatch & { status: ExecutionStatus }> {
  const nonce = randomToken();
  const proc = await connection.exec(followCommand(deps.bundle, execution.id, nonce, deps.killGraceSec), {
    signal,
  });
  const heard: { gone: boolean; cancelled: boolean; left: boolean } = {
    gone: false,
    cancelled: false,
    left: false,
  };
  const onControl = (message: string) => {
    if (message === 'gone') heard.gone = true;
  };
  const noise = {
    stdout: new NoiseLines('stdout', (line) => log.system(line)),
    stderr: new NoiseLines('stderr', (line) => log.system(line)),
  };
  const filters = {
    stdout: new ControlFilter(nonce, onControl, (d, br) => noise.stdout.push(d, br)),
    stderr: new ControlFilter(nonce, onControl, (d, br) => noise.stderr.push(d, br)),
  };
  proc.onStdout((data) => {
    const rest = filters.stdout.push(data);
    if (rest.length) log.data('stdout', rest);
  });
  proc.onStderr((data) => {
    const rest = filters.stderr.push(data);
    if (rest.length) log.data('stderr', rest);
  });
  let forceClose: NodeJS.Timeout | null = null;
  const onAbort = () => {
    if (heard.cancelled || heard.left) return;
    // This process is closing (RunManager.cancelAll): the script stays on its host, detached again; the
    // end of input ends only the follower.
    if (signal.reason instanceof CroniumError && signal.reason.kind === 'connection_lost') {
      heard.left = true;
      proc.end();
      return;
    }
    heard.cancelled = true;
    log.system('cancelled: stopping the script');
    proc.write('cancel\n');
    // A host that no longer answers must not hold the execution for ever.
    forceClose = setTimeout(() => proc.channel.close(), (deps.killGraceSec + 10) * 1000);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  let result;
  try {
    result = await proc.exited;
  } finally {
    if (forceClose) clearTimeout(forceClose);
    signal.removeEventListener('abort', onAbort);
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    const tail = filters[stream].end();
    if (filters[stream].ready) {
      if (tail.length) log.data(stream, tail);
    } else noise[stream].end();
  }
  if (heard.gone)
    return {
      status: 'error',
      errorKind: 'connection_lost',
      errorMessage: `The script's work directory on ${execution.serverName} is gone (the host removed it, or it was collected already): its end is unknown.`,
    };
  if (heard.left || result.code === null) {
    if (heard.cancelled)
      return {
        status: 'cancelled',
        errorKind: 'cancelled',
        errorMessage: 'Cancelled; the connection was lost as the script was being stopped.',
      };
    log.system(`the connection to ${execution.serverName} was lost again: the script is still detached`);
    return detachedEnding(execution.serverName, 0);
  }
  const code = result.code;
  const collected = await collect(deps, connection, execution, log, heard.cancelled ? undefined : signal);
  const fields: ExecutionPatch = {
    exitCode: code,
    collectMs: collected.ms,
    output: collected.context.outputSet
      ? maskDeep(collected.context.output, (text) => log.mask(text))
      : undefined,
    condition: collected.context.condition,
    variableChanges: collected.context.changes,
  };
  if (heard.cancelled)
    return {
      ...fields,
      status: 'cancelled',
      errorKind: 'cancelled',
      errorMessage: 'Cancelled; the script and its processes were stopped.',
    };
  const status = finalStatus({ ended: 'exit', code });
  return status === 'succeeded'
    ? { ...fields, status, errorKind: null, errorMessage: null }
    : {
        ...fields,
        status,
        errorKind: 'script_failed',
        errorMessage:
          code === 255
            ? 'The script ended without an exit status (its host restarted, or it was killed).'
            : `The script exited with code ${code}.`,
      };
}

/**
 * Reads back what the helpers left (bundled mode) and removes the work directory (collect.sh). Problems
 * are logged; the results are in the returned context.
 */
async function collect(
  deps: ReattachDeps,
  connection: SshConnection,
  execution: Execution,
  log: LogSink,
  signal: AbortSignal | undefined,
): Promise<{ ms: number; context: RuntimeContext }> {
  const started = performance.now();
  const context: RuntimeContext = {
    executionId: execution.id,
    jobId: execution.jobId,
    serverId: execution.serverId,
    input: null,
    event: {},
    output: undefined,
    outputSet: false,
    condition: null,
    changes: [],
    onSecretValue: (value) => {
      if (typeof value === 'string') log.addSecret(value);
    },
  };
  try {
    const nonce = randomToken();
    const result = await connection.run(
      collectCommand(deps.bundle, execution.id, nonce),
      undefined,
      signal ? { signal } : { timeoutMs: COLLECT_AFTER_STOP_MS },
    );
    const frames = between(result.stdoutBytes, nonce, 'collect', 'collected');
    if (!frames)
      throw new CroniumError('internal', result.stderr.trim().split('\n').pop() || `exit ${result.code}`);
    for (const problem of await applyCollected(parseCollected(frames), context, deps.variables))
      log.system(problem);
  } catch (err) {
    log.system(`the helpers' results could not be collected: ${(err as Error).message}`);
  }
  return { ms: Math.round(performance.now() - started), context };
}

function writeLog(deps: ReattachDeps, chunks: LogChunk[]): void {
  deps.logs.write(chunks);
  for (const chunk of chunks) deps.hub.emit({ type: 'log', chunk });
}
