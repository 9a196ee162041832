import { randomUUID } from 'node:crypto';

import type { Run, RunStatus, RunTrigger, HelperMode, Execution } from '../core/domain.ts';
import { CroniumError } from '../core/errors.ts';
import type { EventHub } from '../core/eventHub.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';
import type { ExecutionPlan, Executor } from './executor.ts';
import { followDetached, type ReattachDeps } from './reattach.ts';

export interface RunSpec {
  job: ExecutionPlan['job'];
  env: ExecutionPlan['env'];
  /** Values masked in every execution's log, output and history (see ExecutionPlan.secrets). */
  secrets?: unknown[];
  servers: { id: string; name: string; host: string }[];
  input: unknown;
  trigger: RunTrigger;
  concurrency: number;
  helperMode: HelperMode;
}

interface ActiveRun {
  controller: AbortController;
  done: Promise<Run>;
  /** Its scripts keep running on their hosts when this process closes (Job.keepRunning). */
  keepRunning: boolean;
}

/**
 * The abort reason that leaves a keep-running script on its host (detached) instead of stopping it: this
 * process is closing. Executions of other jobs are cancelled.
 */
export function leftRunning(): CroniumError {
  return new CroniumError('connection_lost', 'This process closed; the script keeps running on its host.');
}

/** The status of a run, from the final statuses of its executions. */
export function runStatusOf(executions: Pick<Execution, 'status'>[], cancelled: boolean): RunStatus {
  if (cancelled) return 'cancelled';
  const ok = executions.filter((e) => e.status === 'succeeded').length;
  if (ok === executions.length) return 'succeeded';
  return ok === 0 ? 'failed' : 'partial';
}

/** Owns running work: one registry of runs keyed by id, each with its AbortController. */
export class RunManager {
  private readonly active = new Map<string, ActiveRun>();

  private readonly executor: Executor;
  private readonly history: HistoryRepo;
  private readonly hub: EventHub;

  private readonly reattach: Omit<ReattachDeps, 'runStatusOf'> | null;

  constructor(
    executor: Executor,
    history: HistoryRepo,
    hub: EventHub,
    reattach: Omit<ReattachDeps, 'runStatusOf' | 'history' | 'hub'> | null = null,
  ) {
    this.executor = executor;
    this.history = history;
    this.hub = hub;
    this.reattach = reattach && { ...reattach, history, hub };
  }

  start(spec: RunSpec): Run {
    if (spec.servers.length === 0)
      throw new CroniumError('invalid_input', 'Choose at least one server.', {
        fields: { serverIds: 'choose at least one server' },
      });
    const runId = randomUUID();
    const executions = spec.servers.map((server) => ({
      id: randomUUID(),
      serverId: server.id,
      serverName: server.name,
    }));
    const run = this.history.createRun(
      {
        id: runId,
        jobId: spec.job.id,
        jobName: spec.job.name,
        input: spec.input,
        trigger: spec.trigger,
        concurrency: spec.concurrency,
        helperMode: spec.helperMode,
        startedAt: Date.now(),
      },
      executions,
      { keepRunning: spec.job.keepRunning === true },
    );
    this.hub.emit({ type: 'run', run });
    const controller = new AbortController();
    const done = this.drive(run, spec, executions, controller.signal).finally(() =>
      this.active.delete(runId),
    );
    this.active.set(runId, { controller, done, keepRunning: spec.job.keepRunning === true });
    return run;
  }

  /** Runs the executions, `concurrency` at a time, then writes and publishes the run's end. */
  private async drive(
    started: Run,
    spec: RunSpec,
    executions: { id: string; serverId: string; serverName: string }[],
    signal: AbortSignal,
  ): Promise<Run> {
    const queue = [...executions];
    const hosts = new Map(spec.servers.map((s) => [s.id, s.host]));
    // Each execution's final row, as the executor wrote it (no read back).
    const finals: Pick<Execution, 'status'>[] = [];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const final = await this.executor.run(
          {
            executionId: next.id,
            runId: started.id,
            job: spec.job,
            env: spec.env,
            secrets: spec.secrets,
            server: { id: next.serverId, name: next.serverName, host: hosts.get(next.serverId) ?? '' },
            input: spec.input,
            helperMode: spec.helperMode,
            trigger: spec.trigger,
            attempt: 1,
          },
          signal,
        );
        finals.push(final);
      }
    };
    await Promise.all(Array.from({ length: Math.min(spec.concurrency, executions.length) }, worker));
    // A detached execution has not ended: the run ends when a reattach has recorded its end.
    if (finals.some((f) => f.status === 'detached')) return started;
    const run: Run = { ...started, status: runStatusOf(finals, signal.aborted), endedAt: Date.now() };
    this.history.finishRun(run.id, run.status, run.endedAt!);
    this.hub.emit({ type: 'run', run });
    return run;
  }

  /**
   * Follows a detached execution again (see src/exec/reattach.ts) and resolves with it as written at the
   * end (or detached again). Cancelling its run (cancel(runId)) stops the script.
   * @throws CroniumError conflict when it is not detached (another process follows it, or it has ended).
   */
  attach(executionId: string, secrets: string[]): Promise<Execution> {
    if (!this.reattach) throw new CroniumError('internal', 'This process cannot reattach.');
    let claimed: Execution;
    try {
      claimed = this.history.claimDetached(executionId);
    } catch {
      const now = this.history.getExecution(executionId);
      throw new CroniumError(
        'conflict',
        now?.status === 'running'
          ? `Execution ${executionId} is being followed already (by this or another process).`
          : `Execution ${executionId} is not detached (it is ${now?.status ?? 'unknown'}): there is nothing to reattach.`,
      );
    }
    this.hub.emit({ type: 'execution', execution: claimed });
    const controller = new AbortController();
    const existing = this.active.get(claimed.runId);
    existing?.controller.signal.addEventListener(
      'abort',
      () => controller.abort(existing.controller.signal.reason),
      {
        once: true,
      },
    );
    const followed = followDetached(
      { ...this.reattach, runStatusOf: (executions) => runStatusOf(executions, false) },
      claimed,
      secrets,
      controller.signal,
    );
    if (!existing) {
      const done = followed
        .then(() => this.history.getRun(claimed.runId)!)
        .finally(() => this.active.delete(claimed.runId));
      this.active.set(claimed.runId, { controller, done, keepRunning: true });
    }
    return followed;
  }

  cancel(runId: string): boolean {
    const run = this.active.get(runId);
    if (!run) return false;
    run.controller.abort();
    return true;
  }

  /** Resolves when the run has finished (immediately for a finished run). */
  async wait(runId: string): Promise<Run> {
    const run = this.active.get(runId);
    if (run) return run.done;
    const stored = this.history.getRun(runId);
    if (!stored) throw new CroniumError('not_found', `No run ${runId}.`);
    return stored;
  }

  get activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  /**
   * Cancels every run and waits until each has ended; a keep-running run's scripts are left running on
   * their hosts instead (detached, see leftRunning).
   */
  async cancelAll(): Promise<void> {
    const runs = [...this.active.values()];
    for (const run of runs) run.controller.abort(run.keepRunning ? leftRunning() : undefined);
    await Promise.allSettled(runs.map((r) => r.done));
  }
}
