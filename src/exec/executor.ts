/**
 * Runs one job on one server: connect (pooled), deploy the runner if needed, stream the script's output,
 * enforce timeout and cancel, and record everything. One place moves the execution through its states:
 * queued → connecting → running → succeeded | failed | timed_out | cancelled | error.
 */
import { createHash } from 'node:crypto';
import { constants as osConstants } from 'node:os';

import type {
  Execution,
  ExecutionStatus,
  FinalExecutionStatus,
  HelperMode,
  Language,
  LogChunk,
  RunTrigger,
  ServerHelperMode,
  ToolActionRecord,
} from '../core/domain.ts';
import { abortError, Deadline } from '../core/abort.ts';
import { CroniumError, toErrorValue } from '../core/errors.ts';
import { finalStatus } from '../core/executionStatus.ts';
import type { EventHub } from '../core/eventHub.ts';
import type { ClientChannel } from 'ssh2';

import type { RemoteBundle } from '../remote/assets.ts';
import type { ConnectionPool, Lease } from '../ssh/connectionPool.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import { croniumEventFields } from '../runtime/eventContext.ts';
import type { RuntimeContext } from '../runtime/executionRegistry.ts';
import {
  applyCollected,
  helperModeOn,
  openHelperSession,
  parseCollected,
  performQueuedToolActions,
  queuedToolActions,
  type HelperDeps,
  type HelperSession,
} from '../runtime/helperSession.ts';
import { toolActionLine } from '../tools/toolActions.ts';
import type { ExecutionPatch, HistoryRepo } from '../store/historyRepo.ts';
import type { LogWriter } from '../store/logWriter.ts';
import { ControlFilter, NoiseLines } from './controlFilter.ts';
import { between, collectCommand, ensureDeployed, launchCommand, markStale, stopCommand } from './deploy.ts';
import { LogSink } from './logSink.ts';
import { normalizeScript } from './scriptText.ts';
import { detachedEnding } from './reattach.ts';
import { maskDeep, secretForms } from './secretMasker.ts';
import { exportLine, randomToken, shellQuote } from './shell.ts';

const INTERPRETERS: Record<Language, { command: string; file: string }> = {
  bash: { command: 'bash', file: 'script.sh' },
  python: { command: 'python3', file: 'script.py' },
  node: { command: 'node', file: 'script.js' },
};

export interface ExecutionPlan {
  executionId: string;
  runId: string;
  job: {
    id: string;
    name: string;
    language: Language;
    script: string;
    timeoutSec: number;
    /** See Job.keepRunning: a lost connection leaves the execution detached (src/exec/reattach.ts). */
    keepRunning?: boolean;
  };
  /** Environment for the script, secrets decrypted (they travel on stdin only). */
  env: { key: string; value: string; secret: boolean }[];
  /**
   * Other values to mask (secret variables, server passwords): strings as they are, other JSON values as
   * their JSON text and their strings (see secretForms).
   */
  secrets?: unknown[];
  /** helperMode: the server's own setting (left out: default, the plan's mode). */
  server: { id: string; name: string; host: string; helperMode?: ServerHelperMode };
  input: unknown;
  helperMode: HelperMode;
  trigger: RunTrigger;
  attempt: number;
}

/** How an execution ends: its final status (or detached) and the fields written with it. */
type Ending = ExecutionPatch & { status: FinalExecutionStatus | 'detached' };

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

/**
 * How long (ms) to wait for the runner's "ready" before sending the setup anyway: a login shell that hides
 * all output (a ForceCommand wrapper that redirects it) never lets "ready" through.
 */
const SETUP_UNHEARD_MS = 5_000;

type EndReason = { kind: 'timed_out' | 'cancelled' } | null;

/** Milliseconds the collector may take when the script was cancelled or timed out (its results still count). */
const COLLECT_AFTER_STOP_MS = 15_000;

export class Executor {
  private readonly killGraceSec: number;

  private readonly options: ExecutorOptions;

  constructor(options: ExecutorOptions) {
    this.options = options;
    this.killGraceSec = options.killGraceSec ?? 5;
  }

  /**
   * Runs one execution to its end and returns it as stored. `runSignal` cancels it (the run's cancel). The
   * job's timeout is one deadline for every phase, from here on: connect, deploy, helper setup and probe,
   * the script, and the collect; when it passes the execution ends `timed_out`, and a cancel or deadline
   * before launch means the script never starts.
   */
  async run(plan: ExecutionPlan, runSignal: AbortSignal): Promise<Execution> {
    const { history } = this.options;
    const id = plan.executionId;
    const secrets = [
      ...plan.env.filter((e) => e.secret).map((e) => e.value),
      ...(plan.secrets ?? []).flatMap(secretForms),
    ];
    const backpressure = new Backpressure();
    // The stdout as stored, hashed as it is written: output groups compare hosts without reading logs.
    const stdoutHash = createHash('sha256');
    const log = new LogSink({
      executionId: id,
      secrets,
      write: (chunks) => {
        for (const chunk of chunks) if (chunk.stream === 'stdout') stdoutHash.update(chunk.text);
        this.writeLog(chunks, backpressure);
      },
    });
    let scriptEnded = false;
    let lease: Lease | null = null;
    let helpers: HelperSession | null = null;
    let final: Ending;
    // Set when the script set a secret variable: text written before that may hold its value.
    let lateSecret = false;
    const deadline = new Deadline(
      runSignal,
      plan.job.timeoutSec * 1000,
      new CroniumError('timed_out', `Timed out after ${plan.job.timeoutSec} s, before the script started.`),
      new CroniumError('cancelled', 'Cancelled before the script started.'),
    );
    const signal = deadline.signal;

    try {
      if (signal.aborted) throw abortError(signal, 'before it started');
      this.move(id, 'connecting');
      const connectStart = performance.now();
      lease = await this.options.pool.acquire(plan.server.id, signal);
      const connectMs = lease.fresh ? Math.round(performance.now() - connectStart) : 0;

      const deployStart = performance.now();
      await ensureDeployed(lease.connection, this.options.bundle, signal);
      helpers = await openHelperSession(this.options.helpers, {
        signal,
        connection: lease.connection,
        requested: helperModeOn(plan.helperMode, plan.server),
        language: plan.job.language,
        script: plan.job.script,
        context: runtimeContext(
          plan,
          history.jobStats(plan.job.id, id),
          (value) => {
            lateSecret = true;
            for (const form of secretForms(value)) log.addSecret(form);
          },
          (action) => log.system(toolActionLine(action)),
        ),
        timeoutSec: plan.job.timeoutSec,
        serverName: plan.server.name,
      });
      for (const e of helpers.env) if (e.secret) log.addSecret(e.value);
      if (helpers.fallbackReason)
        log.system(
          `helpers fell back to bundled mode: ${helpers.fallbackReason} (to skip this check on ${plan.server.name}, set its helper mode to bundled)`,
        );
      const deployMs = Math.round(performance.now() - deployStart);
      this.move(id, 'running', {
        connectMs,
        deployMs,
        helperMode: helpers.mode,
        fallbackReason: helpers.fallbackReason,
      });

      // Line endings and a byte-order mark from whatever editor saved the script: normalized, and said.
      const script = normalizeScript(plan.job.script);
      if (script.changes.length)
        log.system(`the script's text was normalized before it ran: ${script.changes.join('; ')}`);
      const scriptPlan = { ...plan, job: { ...plan.job, script: script.text } };
      const scriptStart = performance.now();
      const outcome = await this.runScript(lease, scriptPlan, log, signal, backpressure, helpers);
      // Only a script that ran has an output to compare (not one whose interpreter was missing).
      scriptEnded = outcome.status !== 'error';
      const scriptMs = Math.round(performance.now() - scriptStart - (outcome.collectMs ?? 0));
      const { context } = helpers;
      final = {
        ...outcome,
        scriptMs,
        // What the script reported back is shown and exported too: its strings are masked like the log.
        output: context.outputSet ? maskDeep(context.output, (text) => log.mask(text)) : undefined,
        condition: context.condition,
        // A value set may hold a secret (a secret env value copied into a plain variable): masked too.
        variableChanges: context.changes.map((c) =>
          c.value === undefined ? c : { ...c, value: log.mask(c.value) },
        ),
        toolActions: context.toolActions ?? [],
      };
    } catch (err) {
      // Stopped before launch: the log says so too, as it does when a running script is stopped.
      if (signal.aborted && err instanceof CroniumError && err === signal.reason)
        log.system(
          err.kind === 'timed_out'
            ? `timed out after ${plan.job.timeoutSec} s, before the script started`
            : 'cancelled before the script started',
        );
      final = this.failure(err, log);
    } finally {
      deadline.dispose();
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
    if (lateSecret) history.maskLog(id, (text) => log.mask(text));
    const { status, ...fields } = final;
    // A detached script has not ended: it runs on, and a reattach records its end.
    return this.move(id, status, {
      ...fields,
      stdoutHash:
        scriptEnded && status !== 'error' && status !== 'detached' ? stdoutHash.digest('hex') : null,
      endedAt: status === 'detached' ? null : Date.now(),
    });
  }

  private failure(err: unknown, log: LogSink): Ending {
    const error = toErrorValue(err);
    if (error.kind === 'internal') log.system(`internal error: ${error.message}`);
    return {
      status: finalStatus({ ended: 'error', kind: error.kind }),
      errorKind: error.kind,
      errorMessage: error.message,
    };
  }

  private async runScript(
    lease: Lease,
    plan: ExecutionPlan,
    log: LogSink,
    signal: AbortSignal,
    backpressure: Backpressure,
    helpers: HelperSession,
    attempt = 0,
  ): Promise<Ending> {
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
    const proc = await connection.exec(command, { signal });
    backpressure.attach(proc.channel);

    // Both streams start with what the login shell printed (shown as system lines), then the runner's
    // "ready"; only what follows is the script's.
    // What the control lines and stop() told, set from callbacks (an object: read after the awaits as is).
    const heard: { control: string | null; noRunner: boolean; ended: EndReason; left: boolean } = {
      control: null,
      noRunner: false,
      ended: null,
      left: false,
    };
    const onControl = (message: string) => {
      if (message === 'no_runner') heard.noRunner = true;
      else heard.control = message;
    };
    const noise = {
      stdout: new NoiseLines('stdout', (line) => log.system(line)),
      stderr: new NoiseLines('stderr', (line) => log.system(line)),
    };
    // The setup (the script, its environment) goes only to a runner that said "ready": a cancel or the
    // deadline before then closes the input instead, and the runner exits without running anything. A
    // shell that hides the runner's output entirely gets the setup after SETUP_UNHEARD_MS.
    let setupSent = false;
    const sendSetup = () => {
      if (setupSent || heard.ended) return;
      setupSent = true;
      clearTimeout(unheard);
      proc.write(setup);
    };
    const unheard = setTimeout(sendSetup, SETUP_UNHEARD_MS);
    const filters = {
      stdout: new ControlFilter(nonce, onControl, (d, br) => noise.stdout.push(d, br), sendSetup),
      stderr: new ControlFilter(nonce, onControl, (d, br) => noise.stderr.push(d, br), sendSetup),
    };
    proc.onStdout((data) => {
      const rest = filters.stdout.push(data);
      if (rest.length) log.data('stdout', rest);
    });
    proc.onStderr((data) => {
      const rest = filters.stderr.push(data);
      if (rest.length) log.data('stderr', rest);
    });

    let statusSeen = false;
    let forceClose: NodeJS.Timeout | null = null;
    const stop = (kind: 'timed_out' | 'cancelled') => {
      if (heard.ended) return;
      heard.ended = { kind };
      log.system(
        kind === 'timed_out'
          ? `timed out after ${plan.job.timeoutSec} s: stopping the script`
          : 'cancelled: stopping the script',
      );
      // Once the script has exited sshd has closed the runner's control channel; a background job may
      // still hold the output open: then a separate command ends what is left.
      if (!setupSent) {
        // Nothing has started: without its setup the runner exits and removes its work directory.
        clearTimeout(unheard);
        log.system('stopped before the script started: it did not run');
        proc.end();
      } else if (statusSeen)
        void connection
          .run(stopCommand(this.options.bundle, plan.executionId, this.killGraceSec))
          .catch(() => {});
      else proc.write('cancel\n');
      // A host that no longer answers must not hold the execution for ever.
      forceClose = setTimeout(() => proc.channel.close(), (this.killGraceSec + 10) * 1000);
    };
    // The execution's signal carries both the run's cancel and the job's deadline.
    const onAbort = () => {
      const kind = abortError(signal, '').kind;
      // This process is closing (RunManager.cancelAll): a keep-running script that has its setup stays on
      // its host, detached. The end of input ends only the session's follower (see follow.sh).
      if (kind === 'connection_lost' && plan.job.keepRunning && setupSent) {
        heard.left = true;
        return proc.end();
      }
      stop(kind === 'timed_out' ? 'timed_out' : 'cancelled');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();

    let result;
    let collectMs = 0;
    const started = () => filters.stdout.ready || filters.stderr.ready;
    try {
      const status = await proc.exitStatus;
      const normalEnd = status.code !== null || status.signal !== null;
      statusSeen = normalEnd;
      // Bundled mode: read back what the helpers left, before the work directory goes. Also when the
      // runner's start went unseen (a shell that hides its output): the collector then cleans up.
      // A script left running (heard.left) keeps its work directory: a reattach collects it.
      if (helpers.mode === 'bundled' && normalEnd && !heard.noRunner && setupSent && !heard.left) {
        collectMs = await this.collect(connection, plan, helpers, log, started(), signal);
      }
      // sshd has closed the script's input at its exit: the watcher has seen a normal end and leaves what
      // the script deliberately detached running. The channel stays open while a background job holds
      // the output (as with ssh); the timeout and cancel still end it (stop() above).
      proc.end();
      result = await proc.exited;
    } finally {
      clearTimeout(unheard);
      if (forceClose) clearTimeout(forceClose);
      signal.removeEventListener('abort', onAbort);
    }
    const tails = { stdout: filters.stdout.end(), stderr: filters.stderr.end() };
    for (const stream of ['stdout', 'stderr'] as const) {
      if (filters[stream].ready) {
        if (tails[stream].length) log.data(stream, tails[stream]);
      } else {
        noise[stream].end();
      }
    }

    const reason = heard.ended;
    // Killed by a signal: record it the way shells do (128 + its number), e.g. 143 for TERM.
    const signalName = result.signal ? `SIG${result.signal.replace(/^SIG/, '')}` : null;
    const signo = Object.entries(osConstants.signals).find(([name]) => name === signalName)?.[1];
    const exitCode = result.code ?? (signo ? 128 + signo : null);
    const missing = heard.control?.match(/^interpreter_missing (.+)$/);
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
    if (!started()) {
      // The runner's file was missing (someone removed ~/.cronium since this connection deployed it): the
      // one case where the script certainly did not start. Deploy again and retry once. Any other way of
      // not hearing "ready" may hide a script that ran: it is never launched a second time.
      if (heard.noRunner && attempt === 0) {
        markStale(connection, this.options.bundle);
        await ensureDeployed(connection, this.options.bundle, signal);
        return this.runScript(lease, plan, log, signal, backpressure, helpers, attempt + 1);
      }
      if (result.code === null && !result.signal) {
        return {
          collectMs,
          status: 'error',
          errorKind: 'connection_lost',
          errorMessage: `The connection to ${plan.server.name} was lost as the script was being started.`,
        };
      }
      const said = Buffer.concat([tails.stderr, tails.stdout]).toString('utf8').trim().split('\n').slice(-3);
      throw new CroniumError(
        'internal',
        heard.noRunner
          ? `The Cronium runner is missing on ${plan.server.name} even after it was installed again.`
          : `The Cronium runner's start could not be confirmed on ${plan.server.name} (exit ${exitCode ?? result.signal}): ${said.join(' / ') || 'it printed nothing'}. The script may have run; it was not started again.`,
      );
    }
    // Left on its host (this process closing), or its connection lost: a keep-running script runs on.
    if (heard.left || (result.code === null && !result.signal && plan.job.keepRunning))
      return detachedEnding(plan.server.name, collectMs);
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
    if (result.code === 0) return { status: finalStatus({ ended: 'exit', code: 0 }), exitCode: 0, collectMs };
    return {
      collectMs,
      status: finalStatus({ ended: 'exit', code: result.code }),
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
    if (plan.job.keepRunning) setup += 'CRONIUM_KEEP_RUNNING=1\n';
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

  /**
   * Runs the collector and applies its findings; returns how long it took. `report` false: the runner's
   * start was not seen, so a missing work directory is no news and not logged.
   * A cancel or the deadline stops it; after the script was stopped that way, what it left is still
   * collected, within COLLECT_AFTER_STOP_MS.
   */
  private async collect(
    connection: SshConnection,
    plan: ExecutionPlan,
    helpers: HelperSession,
    log: LogSink,
    report: boolean,
    signal: AbortSignal,
  ): Promise<number> {
    const started = performance.now();
    try {
      const nonce = randomToken();
      const result = await connection.run(
        collectCommand(this.options.bundle, plan.executionId, nonce),
        undefined,
        signal.aborted ? { timeoutMs: COLLECT_AFTER_STOP_MS } : { signal },
      );
      const frames = between(result.stdoutBytes, nonce, 'collect', 'collected');
      if (!frames) throw new Error(result.stderr.trim().split('\n').pop() || `exit ${result.code}`);
      const files = parseCollected(frames);
      const problems = applyCollected(files, helpers.context, this.options.helpers.variables);
      for (const problem of problems) log.system(problem);
      // Tool actions the script queued are sent now, in its order (each says how it went in the log).
      await performQueuedToolActions(queuedToolActions(files), helpers.context, this.options.helpers.tools);
    } catch (err) {
      if (report) log.system(`the helpers' results could not be collected: ${(err as Error).message}`);
    }
    return Math.round(performance.now() - started);
  }

  private writeLog(chunks: LogChunk[], backpressure: Backpressure): void {
    if (!this.options.logs.write(chunks)) backpressure.pause(this.options.logs.whenDrained());
    for (const chunk of chunks) this.options.hub.emit({ type: 'log', chunk });
    const behind = this.options.hub.whenCaughtUp();
    if (behind) backpressure.pause(behind);
  }

  /** Moves an execution through the status machine and publishes what was written. */
  private move(id: string, status: ExecutionStatus, patch: ExecutionPatch = {}): Execution {
    const execution = this.options.history.moveExecution(id, status, patch);
    this.options.hub.emit({ type: 'execution', execution });
    return execution;
  }
}

/**
 * What the helpers see of an execution; cronium.event() returns its `event` (ours and Cronium's fields).
 * onSecretValue: called when the script sets a secret variable, so its value is masked from then on.
 */
function runtimeContext(
  plan: ExecutionPlan,
  stats: { successCount: number; failureCount: number; lastRunAt: number | null },
  onSecretValue: (value: unknown) => void,
  onToolAction: (action: ToolActionRecord) => void,
): RuntimeContext {
  const startedAt = new Date().toISOString();
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
      runId: plan.runId,
      trigger: plan.trigger,
      startedAt,
      attempt: plan.attempt,
      ...croniumEventFields({ ...plan, startTime: startedAt, stats }),
      server: {
        id: plan.server.id,
        name: plan.server.name,
        host: plan.server.host,
        address: plan.server.host,
      },
    },
    output: undefined,
    outputSet: false,
    condition: null,
    changes: [],
    onSecretValue,
    toolActions: [],
    onToolAction,
  };
}
