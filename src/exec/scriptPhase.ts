/**
 * The script phase of an execution: send the setup files, launch the runner, stream and filter its output,
 * stop it on cancel or timeout, and collect what the helpers left (src/exec/executor.ts runs the phases).
 */
import { constants as osConstants } from 'node:os';

import { abortError } from '../core/abort.ts';
import type { Language } from '../core/domain.ts';
import { CroniumError } from '../core/errors.ts';
import { finalStatus } from '../core/executionStatus.ts';
import {
  applyCollected,
  type HelperSession,
  parseCollected,
  performQueuedToolActions,
  queuedToolActions,
} from '../runtime/helperSession.ts';
import type { Lease } from '../ssh/connectionPool.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import { MAX_OUTPUT_BYTES, MAX_VARIABLE_BYTES } from '../runtime/helperRules.ts';
import { Backpressure } from './backpressure.ts';
import { CollectTail } from './collectTail.ts';
import { ControlFilter, NoiseLines } from './controlFilter.ts';
import { between, collectCommand, launchCommand, stopCommand } from './deploy.ts';
import { ensureRunner } from './deployRecord.ts';
import type { Ending, ExecutionPlan, ExecutorOptions } from './executionPlan.ts';
import { LogSink } from './logSink.ts';
import { detachedEnding } from './reattach.ts';
import { exportLine, randomToken, shellQuote } from './shell.ts';

const INTERPRETERS: Record<Language, { command: string; file: string }> = {
  bash: { command: 'bash', file: 'script.sh' },
  python: { command: 'python3', file: 'script.py' },
  node: { command: 'node', file: 'script.js' },
};

/**
 * How long (ms) to wait for the runner's "ready" before sending the setup anyway: a login shell that hides
 * all output (a ForceCommand wrapper that redirects it) never lets "ready" through.
 */
const SETUP_UNHEARD_MS = 5_000;

type EndReason = { kind: 'timed_out' | 'cancelled' } | null;

/** Milliseconds the collector may take when the script was cancelled or timed out (its results still count). */
const COLLECT_AFTER_STOP_MS = 15_000;

/** Runs the script phase for the executor (one instance per Executor, sharing its options). */
export class ScriptPhase {
  private readonly killGraceSec: number;

  private readonly options: ExecutorOptions;

  constructor(options: ExecutorOptions) {
    this.options = options;
    this.killGraceSec = options.killGraceSec ?? 5;
  }

  /** Launches the script with its setup files, streams it to its end and collects; returns how it ended. */
  async runScript(
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
    // Bundled mode: the helpers' results come back on this session, after the script's stderr (the
    // runner's watcher runs the collector: see runner.sh), instead of through a second exec request. Not
    // for a keep-running script: its session only follows it, and a reattach may collect it.
    const inline = helpers.mode === 'bundled' && !plan.job.keepRunning;
    const files = [...this.setupFiles(plan, interpreter, helpers, inline), ...helpers.files];
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
    // Set once the nonce is known: the collector's frames are taken out of stderr (see CollectTail).
    const tail = inline ? new CollectTail(nonce) : null;
    // The tail comes first: the collector's begin line, right after "ready" when the script wrote nothing
    // to stderr, would otherwise be read by the filter as one of the runner's control lines.
    proc.onStderr((data) => {
      const script = tail ? tail.push(data) : data;
      const rest = script.length ? filters.stderr.push(script) : script;
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
      // A script left running (heard.left) keeps its work directory: a reattach collects it. A runner that
      // found no interpreter ran nothing and removed its work directory: nothing to collect.
      const ranNothing = heard.noRunner || heard.control?.startsWith('interpreter_missing') === true;
      const collecting = helpers.mode === 'bundled' && normalEnd && !ranNothing && setupSent && !heard.left;
      if (collecting && !tail) {
        collectMs = await this.collect(connection, plan, helpers, log, started(), signal);
      }
      const ending = performance.now();
      // sshd has closed the script's input at its exit: the watcher has seen a normal end and leaves what
      // the script deliberately detached running. The channel stays open while a background job holds
      // the output (as with ssh); the timeout and cancel still end it (stop() above).
      proc.end();
      result = await proc.exited;
      if (collecting && tail) {
        // The collector's frames came on this session (its end is the watcher's); when they did not
        // (something of the script was left running, or a shell hid the output), the work directory is
        // still there for a collect of its own, as without the request.
        const { frames, rest } = tail.end();
        const script = rest.length ? filters.stderr.push(rest) : rest;
        if (script.length) log.data('stderr', script);
        collectMs = frames
          ? Math.round(performance.now() - ending) + (await this.apply(frames, helpers, log, started()))
          : await this.collect(connection, plan, helpers, log, started(), signal);
      }
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
        await ensureRunner(
          connection,
          this.options.bundle,
          plan.server.id,
          this.options.deployments,
          signal,
          {
            recheck: true,
          },
        );
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
    inline: boolean,
  ): { name: string; content: string }[] {
    let setup = `CRONIUM_INTERPRETER=${shellQuote(interpreter.command)}\nCRONIUM_SCRIPT=${interpreter.file}\nCRONIUM_KILL_GRACE=${this.killGraceSec}\n`;
    // The collector's limits (collect.sh's 3rd and 4th arguments): the watcher collects on this session.
    if (inline) setup += `CRONIUM_COLLECT_INLINE='${MAX_OUTPUT_BYTES} ${MAX_VARIABLE_BYTES}'\n`;
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
      await this.apply(frames, helpers, log, report);
    } catch (err) {
      if (report) log.system(`the helpers' results could not be collected: ${(err as Error).message}`);
    }
    return Math.round(performance.now() - started);
  }

  /**
   * Applies the collector's frames (collect.sh's output between its control lines): outputs, condition and
   * variable changes, then the tool actions the script queued. Returns how long it took (ms); never throws
   * (a problem is said in the log, when `report`).
   */
  private async apply(
    frames: Buffer,
    helpers: HelperSession,
    log: LogSink,
    report: boolean,
  ): Promise<number> {
    const started = performance.now();
    try {
      const files = parseCollected(frames);
      const problems = await applyCollected(files, helpers.context, this.options.helpers.variables);
      for (const problem of problems) log.system(problem);
      // Tool actions the script queued are sent now, in its order (each says how it went in the log).
      await performQueuedToolActions(queuedToolActions(files), helpers.context, this.options.helpers.tools);
    } catch (err) {
      if (report) log.system(`the helpers' results could not be collected: ${(err as Error).message}`);
    }
    return Math.round(performance.now() - started);
  }
}
