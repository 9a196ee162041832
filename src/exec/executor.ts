/**
 * Runs one job on one server: connect (pooled), deploy the runner if needed, stream the script's output,
 * enforce timeout and cancel, and record everything. One place moves the execution through its states:
 * queued → connecting → running → succeeded | failed | timed_out | cancelled | error.
 */
import { createHash } from 'node:crypto';

import { abortError, Deadline } from '../core/abort.ts';
import type { Execution, ExecutionStatus, LogChunk } from '../core/domain.ts';
import { CroniumError, toErrorValue } from '../core/errors.ts';
import { finalStatus } from '../core/executionStatus.ts';
import { storedUtf8 } from '../core/logBytes.ts';
import { helperModeOn, type HelperSession, openHelperSession } from '../runtime/helperSession.ts';
import type { Lease } from '../ssh/connectionPool.ts';
import type { ExecutionPatch } from '../store/historyRepo.ts';
import { toolActionLine } from '../tools/toolActions.ts';
import { Backpressure } from './backpressure.ts';
import { ensureRunner } from './deployRecord.ts';
import type { Ending, ExecutionPlan, ExecutorOptions } from './executionPlan.ts';
import { LogSink } from './logSink.ts';
import { runtimeContext } from './runtimeContext.ts';
import { ScriptPhase } from './scriptPhase.ts';
import { normalizeScript } from './scriptText.ts';
import { maskDeep, secretForms } from './secretMasker.ts';

export * from './executionPlan.ts';

export class Executor {
  private readonly options: ExecutorOptions;

  /** The script phase: launch, stream, stop and collect. */
  private readonly script: ScriptPhase;

  constructor(options: ExecutorOptions) {
    this.options = options;
    this.script = new ScriptPhase(options);
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
        for (const chunk of chunks) if (chunk.stream === 'stdout') stdoutHash.update(storedUtf8(chunk));
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
      // The dial starts before the status is written, and the job's figures are read meanwhile: both are
      // store round trips the handshake would otherwise wait for.
      const connectStart = performance.now();
      const leasing = this.options.pool.acquire(plan.server.id, signal);
      const stats = history.jobStats(plan.job.id, plan.runId);
      // Both awaited below, where a failure is raised (not an unhandled rejection meanwhile).
      for (const pending of [leasing, stats]) pending.catch(() => {});
      try {
        await this.move(id, 'connecting');
      } catch (err) {
        leasing.then(
          (late) => late.release(),
          () => {},
        );
        throw err;
      }
      lease = await leasing;
      const connectMs = lease.fresh ? Math.round(performance.now() - connectStart) : 0;

      const deployStart = performance.now();
      // A runner this process or the record already knows of is not asked about (see DeployRecord).
      await ensureRunner(
        lease.connection,
        this.options.bundle,
        plan.server.id,
        this.options.deployments,
        signal,
      );
      helpers = await openHelperSession(this.options.helpers, {
        signal,
        connection: lease.connection,
        requested: helperModeOn(plan.helperMode, plan.server),
        freshConnection: lease.fresh,
        language: plan.job.language,
        script: plan.job.script,
        context: runtimeContext(
          plan,
          await stats,
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
      await this.move(id, 'running', {
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
      const outcome = await this.script.runScript(lease, scriptPlan, log, signal, backpressure, helpers);
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
    if (lateSecret) await history.maskLog(id, (text) => log.mask(text));
    const { status, ...fields } = final;
    // A detached script has not ended: it runs on, and a reattach records its end.
    return await this.move(id, status, {
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

  private writeLog(chunks: LogChunk[], backpressure: Backpressure): void {
    if (!this.options.logs.write(chunks)) backpressure.pause(this.options.logs.whenDrained());
    for (const chunk of chunks) this.options.hub.emit({ type: 'log', chunk });
    const behind = this.options.hub.whenCaughtUp();
    if (behind) backpressure.pause(behind);
  }

  /** Moves an execution through the status machine and publishes what was written. */
  private async move(id: string, status: ExecutionStatus, patch: ExecutionPatch = {}): Promise<Execution> {
    const execution = await this.options.history.moveExecution(id, status, patch);
    this.options.hub.emit({ type: 'execution', execution });
    return execution;
  }
}
