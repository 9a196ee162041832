/**
 * Runs one job on one server: connect (pooled), deploy the runner if needed, stream the script's output,
 * enforce timeout and cancel, and record everything. One place moves the execution through its states:
 * queued → connecting → running → succeeded | failed | timed_out | cancelled | error.
 */
import { constants as osConstants } from 'node:os';

import type {
  Execution,
  ExecutionStatus,
  HelperMode,
  Language,
  LogChunk,
  RunTrigger,
} from '../core/domain.ts';
import { CroniumError, toErrorValue } from '../core/errors.ts';
import type { EventHub } from '../core/eventHub.ts';
import type { ClientChannel } from 'ssh2';

import type { RemoteBundle } from '../remote/assets.ts';
import type { ConnectionPool, Lease } from '../ssh/connectionPool.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import type { RuntimeContext } from '../runtime/executionRegistry.ts';
import {
  applyCollected,
  openHelperSession,
  parseCollected,
  type HelperDeps,
  type HelperSession,
} from '../runtime/helperSession.ts';
import type { ExecutionPatch, HistoryRepo } from '../store/historyRepo.ts';
import type { LogWriter } from '../store/logWriter.ts';
import { ControlFilter } from './controlFilter.ts';
import { collectCommand, ensureDeployed, launchCommand, markStale } from './deploy.ts';
import { LogSink } from './logSink.ts';
import { exportLine, randomToken, shellQuote } from './shell.ts';

const INTERPRETERS: Record<Language, { command: string; file: string }> = {
  bash: { command: 'bash', file: 'script.sh' },
  python: { command: 'python3', file: 'script.py' },
  node: { command: 'node', file: 'script.js' },
};

export interface ExecutionPlan {
  executionId: string;
  runId: string;
  job: { id: string; name: string; language: Language; script: string; timeoutSec: number };
  /** Environment for the script, secrets decrypted (they travel on stdin only). */
  env: { key: string; value: string; secret: boolean }[];
  server: { id: string; name: string; host: string };
  input: unknown;
  helperMode: HelperMode;
  trigger: RunTrigger;
  attempt: number;
}

export interface ExecutorOptions {
  pool: ConnectionPool;
  history: HistoryRepo;
  logs: LogWriter;
  hub: EventHub;
  bundle: RemoteBundle;
  helpers: HelperDeps;
  /** Seconds between TERM and KILL when a script is cancelled or times out. */
  killGraceSec?: number;
}

/**
 * Pauses the script's output streams while a consumer catches up: the log writer, or a live subscriber such
 * as the CLI's stdout (SSH flow control then slows the host). Several consumers may ask at once; the
 * streams resume when every one of them has caught up.
 */
class Backpressure {
  private channel: ClientChannel | null = null;
  private readonly waits = new Set<Promise<void>>();

  attach(channel: ClientChannel): void {
    this.channel = channel;
    if (this.waits.size > 0) this.setPaused(true);
  }

  pause(until: Promise<void>): void {
    if (!this.channel || this.waits.has(until)) return;
    if (this.waits.size === 0) this.setPaused(true);
    this.waits.add(until);
    const done = () => {
      this.waits.delete(until);
      if (this.waits.size === 0) this.setPaused(false);
    };
    until.then(done, done);
  }

  private setPaused(paused: boolean): void {
    const channel = this.channel;
    if (!channel) return;
    if (paused) {
      channel.pause();
      channel.stderr.pause();
    } else {
      channel.resume();
      channel.stderr.resume();
    }
  }
}

type EndReason = { kind: 'timed_out' | 'cancelled' } | null;

export class Executor {
  private readonly killGraceSec: number;

  private readonly options: ExecutorOptions;

  constructor(options: ExecutorOptions) {
    this.options = options;
    this.killGraceSec = options.killGraceSec ?? 5;
  }

  async run(plan: ExecutionPlan, signal: AbortSignal): Promise<Execution> {
    const { history } = this.options;
    const id = plan.executionId;
    const secrets = plan.env.filter((e) => e.secret).map((e) => e.value);
    const backpressure = new Backpressure();
    const log = new LogSink({
      executionId: id,
      secrets,
      write: (chunks) => this.writeLog(chunks, backpressure),
    });
    let lease: Lease | null = null;
    let helpers: HelperSession | null = null;
    let final: ExecutionPatch;

    try {
      if (signal.aborted) throw new CroniumError('cancelled', 'Cancelled before it started.');
      this.patch(id, { status: 'connecting' });
      const connectStart = performance.now();
      lease = await this.options.pool.acquire(plan.server.id, signal);
      const connectMs = lease.fresh ? Math.round(performance.now() - connectStart) : 0;

      const deployStart = performance.now();
      await ensureDeployed(lease.connection, this.options.bundle);
      helpers = await openHelperSession(this.options.helpers, {
        connection: lease.connection,
        requested: plan.helperMode,
        language: plan.job.language,
        context: runtimeContext(plan),
        timeoutSec: plan.job.timeoutSec,
        serverName: plan.server.name,
      });
      for (const e of helpers.env) if (e.secret) log.addSecret(e.value);
      if (helpers.fallbackReason) log.system(`helpers fell back to bundled mode: ${helpers.fallbackReason}`);
      if (helpers.note) log.system(helpers.note);
      const deployMs = Math.round(performance.now() - deployStart);
      this.patch(id, {
        status: 'running',
        connectMs,
        deployMs,
        helperMode: helpers.mode,
        fallbackReason: helpers.fallbackReason,
      });

      const scriptStart = performance.now();
      const outcome = await this.runScript(lease, plan, log, signal, backpressure, helpers);
      const scriptMs = Math.round(performance.now() - scriptStart - (outcome.collectMs ?? 0));
      const { context } = helpers;
      final = {
        ...outcome,
        scriptMs,
        output: context.outputSet ? context.output : undefined,
        condition: context.condition,
        variableChanges: context.changes,
      };
    } catch (err) {
      final = this.failure(err, log);
    } finally {
      helpers?.release();
      lease?.release();
    }
    // The final status is written only once the whole log is stored: a finished execution is complete.
    log.close();
    try {
      await this.options.logs.flush();
    } catch (err) {
      final = this.failure(err, log);
    }
    this.patch(id, { ...final, endedAt: Date.now() });
    return history.getExecution(id)!;
  }

  private failure(err: unknown, log: LogSink): ExecutionPatch {
    const error = toErrorValue(err);
    if (error.kind === 'internal') log.system(`internal error: ${error.message}`);
    const status: ExecutionStatus = error.kind === 'cancelled' ? 'cancelled' : 'error';
    return { status, errorKind: error.kind, errorMessage: error.message };
  }

  private async runScript(
    lease: Lease,
    plan: ExecutionPlan,
    log: LogSink,
    signal: AbortSignal,
    backpressure: Backpressure,
    helpers: HelperSession,
    attempt = 0,
  ): Promise<ExecutionPatch> {
    const { connection } = lease;
    const interpreter = INTERPRETERS[plan.job.language];
    const files = [...this.setupFiles(plan, interpreter, helpers), ...helpers.files];
    let nonce = randomToken();
    while (files.some((f) => f.content.includes(nonce))) nonce = randomToken();
    const setup =
      files
        .map(
          (f) =>
            `__CRONIUM_FILE_${nonce} ${f.name}\n${f.content.endsWith('\n') ? f.content : f.content + '\n'}`,
        )
        .join('') + `__CRONIUM_SETUP_END__${nonce}\n`;

    const command = launchCommand(this.options.bundle, plan.executionId, nonce);
    const proc = await connection.exec(command);
    backpressure.attach(proc.channel);

    let control: string | null = null;
    const filter = new ControlFilter(nonce, (message) => (control = message));
    proc.onStdout((data) => log.data('stdout', data));
    proc.onStderr((data) => {
      const rest = filter.push(data);
      if (rest.length) log.data('stderr', rest);
    });
    proc.write(setup);

    let ended: EndReason = null;
    let forceClose: NodeJS.Timeout | null = null;
    const stop = (kind: 'timed_out' | 'cancelled') => {
      if (ended) return;
      ended = { kind };
      log.system(
        kind === 'timed_out'
          ? `timed out after ${plan.job.timeoutSec} s: stopping the script`
          : 'cancelled: stopping the script',
      );
      proc.write('cancel\n');
      // A host that no longer answers must not hold the execution for ever.
      forceClose = setTimeout(() => proc.channel.close(), (this.killGraceSec + 10) * 1000);
    };
    const timer = setTimeout(() => stop('timed_out'), plan.job.timeoutSec * 1000);
    const onAbort = () => stop('cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();

    let result;
    let collectMs = 0;
    try {
      const status = await proc.exitStatus;
      // Bundled mode: read back what the helpers left, before the work directory goes.
      if (helpers.mode === 'bundled' && filter.ready && (status.code !== null || status.signal !== null)) {
        collectMs = await this.collect(connection, plan, helpers, log);
      }
      // Closing our side tells the runner's watcher the script is done: it ends leftovers and cleans up.
      proc.end();
      result = await proc.exited;
    } finally {
      clearTimeout(timer);
      if (forceClose) clearTimeout(forceClose);
      signal.removeEventListener('abort', onAbort);
    }
    const tail = filter.end();
    if (tail.length && filter.ready) log.data('stderr', tail);

    const reason = ended as EndReason;
    // Killed by a signal: record it the way shells do (128 + its number), e.g. 143 for TERM.
    const signalName = result.signal ? `SIG${result.signal.replace(/^SIG/, '')}` : null;
    const signo = signalName ? (osConstants.signals as Record<string, number>)[signalName] : undefined;
    const exitCode = result.code ?? (signo ? 128 + signo : null);
    const missing = (control as string | null)?.match(/^interpreter_missing (.+)$/);
    if (missing) {
      return {
        collectMs,
        status: 'error',
        exitCode,
        errorKind: 'interpreter_missing',
        errorMessage: `${missing[1]} not found on ${plan.server.name}: install it or pick another language.`,
      };
    }
    if (reason?.kind === 'timed_out') {
      return {
        collectMs,
        status: 'timed_out',
        exitCode,
        errorKind: 'timed_out',
        errorMessage: `Timed out after ${plan.job.timeoutSec} s; the script and its processes were stopped.`,
      };
    }
    if (reason?.kind === 'cancelled') {
      return {
        collectMs,
        status: 'cancelled',
        exitCode,
        errorKind: 'cancelled',
        errorMessage: 'Cancelled; the script and its processes were stopped.',
      };
    }
    if (!filter.ready) {
      // The runner never started: most likely someone removed ~/.cronium since this connection deployed
      // it. Deploy again and retry once; a second failure is reported with what the shell said.
      if (attempt === 0) {
        markStale(connection, this.options.bundle);
        await ensureDeployed(connection, this.options.bundle);
        return this.runScript(lease, plan, log, signal, backpressure, helpers, attempt + 1);
      }
      throw new CroniumError(
        'internal',
        `The Cronium runner did not start on ${plan.server.name}: ${tail.toString('utf8').trim() || `exit ${result.code}`}.`,
      );
    }
    if (result.code === null && result.signal) {
      return {
        collectMs,
        status: 'failed',
        exitCode,
        errorKind: 'script_failed',
        errorMessage: `The script was killed by ${signalName}.`,
      };
    }
    if (result.code === null) {
      return {
        collectMs,
        status: 'error',
        errorKind: 'connection_lost',
        errorMessage: `The connection to ${plan.server.name} was lost while the script ran${result.signal ? ` (signal ${result.signal})` : ''}.`,
      };
    }
    if (result.code === 0) return { status: 'succeeded', exitCode: 0, collectMs };
    return {
      collectMs,
      status: 'failed',
      exitCode,
      errorKind: 'script_failed',
      errorMessage: `The script exited with code ${result.code}.`,
    };
  }

  /** The files the runner writes before the script starts: setup.sh (sourced, then emptied) and the script. */
  private setupFiles(
    plan: ExecutionPlan,
    interpreter: { command: string; file: string },
    helpers: HelperSession,
  ): { name: string; content: string }[] {
    let setup = `CRONIUM_INTERPRETER=${shellQuote(interpreter.command)}\nCRONIUM_SCRIPT=${interpreter.file}\nCRONIUM_KILL_GRACE=${this.killGraceSec}\n`;
    for (const { key, value } of [...plan.env, ...helpers.env]) setup += exportLine(key, value);
    setup += exportLine('CRONIUM_EXECUTION_ID', plan.executionId);
    setup += exportLine('CRONIUM_JOB_ID', plan.job.id);
    setup += exportLine('CRONIUM_EVENT_ID', plan.job.id);
    setup += 'export CRONIUM_WORK_DIR="$W"\n';
    if (plan.job.language === 'python') setup += 'export PYTHONUNBUFFERED=1\n';
    return [
      { name: 'setup.sh', content: setup },
      { name: interpreter.file, content: plan.job.script },
    ];
  }

  /** Runs the collector and applies its findings; returns how long it took. */
  private async collect(
    connection: SshConnection,
    plan: ExecutionPlan,
    helpers: HelperSession,
    log: LogSink,
  ): Promise<number> {
    const started = performance.now();
    try {
      const result = await connection.run(collectCommand(this.options.bundle, plan.executionId));
      if (result.code !== 0) throw new Error(result.stderr.trim() || `exit ${result.code}`);
      const problems = applyCollected(
        parseCollected(result.stdoutBytes),
        helpers.context,
        this.options.helpers.variables,
      );
      for (const problem of problems) log.system(problem);
    } catch (err) {
      log.system(`the helpers' results could not be collected: ${(err as Error).message}`);
    }
    return Math.round(performance.now() - started);
  }

  private writeLog(chunks: LogChunk[], backpressure: Backpressure): void {
    if (!this.options.logs.write(chunks)) backpressure.pause(this.options.logs.whenDrained());
    for (const chunk of chunks) this.options.hub.emit({ type: 'log', chunk });
    const behind = this.options.hub.whenCaughtUp();
    if (behind) backpressure.pause(behind);
  }

  private patch(id: string, patch: ExecutionPatch): void {
    this.options.history.updateExecution(id, patch);
    this.options.hub.emit({ type: 'execution', execution: this.options.history.getExecution(id)! });
  }
}

/** What the helpers see of an execution; cronium.event() returns its `event`. */
function runtimeContext(plan: ExecutionPlan): RuntimeContext {
  return {
    executionId: plan.executionId,
    jobId: plan.job.id,
    serverId: plan.server.id,
    input: plan.input ?? null,
    event: {
      executionId: plan.executionId,
      jobId: plan.job.id,
      jobName: plan.job.name,
      eventId: plan.job.id,
      language: plan.job.language,
      server: { id: plan.server.id, name: plan.server.name, host: plan.server.host },
      runId: plan.runId,
      trigger: plan.trigger,
      startedAt: new Date().toISOString(),
      attempt: plan.attempt,
    },
    output: undefined,
    outputSet: false,
    condition: null,
    changes: [],
  };
}
