import { randomUUID } from 'node:crypto';

import type { Run, RunStatus, RunTrigger, HelperMode, Execution, ParamValue } from '../core/domain.ts';
import { CroniumError } from '../core/errors.ts';
import type { EventHub } from '../core/eventHub.ts';
import { log } from '../core/logger.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';
import type { ExecutionPlan, Executor } from './executor.ts';
import { followDetached, type ReattachDeps } from './reattach.ts';

export interface RunSpec {
  job: ExecutionPlan['job'];
  env: ExecutionPlan['env'];
  /** Values masked in every execution's log, output and history (see ExecutionPlan.secrets). */
  secrets?: unknown[];
  servers: ExecutionPlan['server'][];
  /** The run's own input, as given (stored with the run; a re-run gives it again). */
  input: unknown;
  /** The parameters' checked values (stored with the run). */
  params?: Record<string, ParamValue>;
  /** What the script's cronium.input() returns: the parameters merged over the input (default: input). */
  scriptInput?: unknown;
  trigger: RunTrigger;
  /** The schedule that fired the run, if one did. */
  scheduleId?: string | null;
  concurrency: number;
  helperMode: HelperMode;
  /** The execution whose outcome started this run (a chain link), and how deep in its chain it is. */
  parentExecutionId?: string | null;
  chainDepth?: number;
  /**
   * Called with each execution as it ends (not after a cancel of the run): starts its chained runs and
   * returns their ids, which wait-for-chain follows. An error here never fails the run.
   */
  afterExecution?: (execution: Execution) => Promise<string[]>;
  /**
   * Called once the run has its final status (its notices); awaited before the run counts as done. True
   * when it recorded something on the run (published again then).
   */
  afterRun?: (run: Run) => Promise<boolean>;
  /** The run this one repeats, and this run's attempt (1 for a first run). */
  retryOf?: string | null;
  attempt?: number;
  /** Who starts the run (Run.startedBy: "user@machine" or "worker NAME@host"). */
  startedBy?: string | null;
}

interface ActiveRun {
  controller: AbortController;
  /** Each execution's own cancel (one host stopped, the others going on). */
  executions: Map<string, AbortController>;
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

/** Milliseconds between looks at the database for cancels other processes asked (see pollCancels). */
const CANCEL_POLL_MS = 200;

/** The status of a run, from the final statuses of its executions. */
export function runStatusOf(executions: Pick<Execution, 'status'>[], cancelled: boolean): RunStatus {
  if (cancelled) return 'cancelled';
  const ok = executions.filter((e) => e.status === 'succeeded').length;
  if (ok === executions.length) return 'succeeded';
  return ok === 0 ? 'failed' : 'partial';
}

/**
 * The executor's plan for one execution of a run: the spec's job, environment, secrets and input, on the
 * execution's server (`server`: the spec's record of it; left out, one named by the execution alone).
 */
export function executionPlanOf(
  spec: RunSpec,
  runId: string,
  execution: { id: string; serverId: string; serverName: string },
  server?: ExecutionPlan['server'],
): ExecutionPlan {
  return {
    executionId: execution.id,
    runId,
    job: spec.job,
    env: spec.env,
    secrets: spec.secrets,
    server: server ?? { id: execution.serverId, name: execution.serverName, host: '' },
    input: spec.scriptInput === undefined ? spec.input : spec.scriptInput,
    helperMode: spec.helperMode,
    trigger: spec.trigger,
    attempt: spec.attempt ?? 1,
  };
}

/** Owns running work: one registry of runs keyed by id, each with its AbortController. */
export class RunManager {
  private readonly active = new Map<string, ActiveRun>();
  /** The runs each run's chain links started (this process's runs only), for waitForChain. */
  private readonly children = new Map<string, string[]>();
  private cancelPoll: NodeJS.Timeout | null = null;
  /** True while a look for cancel requests is under way. */
  private polling = false;

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

  /**
   * Writes a run and its queued executions without running them (team mode: workers take them from the
   * queue, see src/team/), and publishes it.
   * @throws CroniumError invalid_input without servers.
   */
  async record(spec: RunSpec): Promise<Run> {
    const { run } = await this.create(spec);
    this.hub.emit({ type: 'run', run });
    return run;
  }

  private async create(spec: RunSpec): Promise<{
    run: Run;
    executions: { id: string; serverId: string; serverName: string }[];
  }> {
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
    const run = await this.history.createRun(
      {
        id: runId,
        jobId: spec.job.id,
        jobName: spec.job.name,
        input: spec.input,
        trigger: spec.trigger,
        scheduleId: spec.scheduleId ?? null,
        concurrency: spec.concurrency,
        helperMode: spec.helperMode,
        startedAt: Date.now(),
        parentExecutionId: spec.parentExecutionId ?? null,
        chainDepth: spec.chainDepth ?? 0,
        params: spec.params ?? {},
        retryOf: spec.retryOf ?? null,
        attempt: spec.attempt ?? 1,
        startedBy: spec.startedBy ?? null,
      },
      executions,
      { keepRunning: spec.job.keepRunning === true },
    );
    return { run, executions };
  }

  async start(spec: RunSpec): Promise<Run> {
    const { run, executions } = await this.create(spec);
    const runId = run.id;
    this.hub.emit({ type: 'run', run });
    const controller = new AbortController();
    const perExecution = new Map(executions.map((e) => [e.id, new AbortController()]));
    const done = this.drive(run, spec, executions, controller.signal, perExecution).finally(() => {
      this.active.delete(runId);
      if (this.active.size === 0 && this.cancelPoll) {
        clearInterval(this.cancelPoll);
        this.cancelPoll = null;
      }
    });
    this.active.set(runId, {
      controller,
      executions: perExecution,
      done,
      keepRunning: spec.job.keepRunning === true,
    });
    // Another process (the app in browser mode) may ask to cancel this run: it leaves a row to find.
    // A look never rejects (pollCancels catches), and one that is slow is not overlapped by the next.
    this.cancelPoll ??= setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      void this.pollCancels().finally(() => (this.polling = false));
    }, CANCEL_POLL_MS).unref();
    return run;
  }

  /** Acts on cancels other processes asked for this process's runs (rows in cancel_requests). */
  private async pollCancels(): Promise<void> {
    try {
      for (const { runId, executionId } of await this.history.takeCancelRequests([...this.active.keys()])) {
        if (executionId) this.cancelExecution(runId, executionId);
        else this.cancel(runId);
      }
    } catch {
      // A busy or closing database: the next look tries again.
    }
  }

  /** Runs the executions, `concurrency` at a time, then writes and publishes the run's end. */
  private async drive(
    started: Run,
    spec: RunSpec,
    executions: { id: string; serverId: string; serverName: string }[],
    signal: AbortSignal,
    perExecution: Map<string, AbortController>,
  ): Promise<Run> {
    const queue = [...executions];
    const servers = new Map(spec.servers.map((s) => [s.id, s]));
    // Each execution's final row, as the executor wrote it (no read back).
    const finals: Pick<Execution, 'status'>[] = [];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const own = perExecution.get(next.id)!.signal;
        const final = await this.executor.run(
          executionPlanOf(spec, started.id, next, servers.get(next.serverId)),
          AbortSignal.any([signal, own]),
        );
        finals.push(final);
        if (spec.afterExecution && !signal.aborted) {
          try {
            const children = await spec.afterExecution(final);
            if (children.length) this.addChildren(started.id, children);
          } catch (err) {
            log().error({ err }, `chain after execution ${final.id} failed`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(spec.concurrency, executions.length) }, worker));
    // A detached execution has not ended: the run ends when a reattach has recorded its end.
    if (finals.some((f) => f.status === 'detached')) return started;
    let run: Run = { ...started, status: runStatusOf(finals, signal.aborted), endedAt: Date.now() };
    await this.history.finishRun(run.id, run.status, run.endedAt!);
    this.hub.emit({ type: 'run', run });
    if (spec.afterRun) {
      let recorded = false;
      try {
        recorded = await spec.afterRun(run);
      } catch (err) {
        log().error({ err }, `notices of run ${run.id} failed`);
      }
      if (recorded) {
        run = (await this.history.getRun(run.id))!;
        this.hub.emit({ type: 'run', run });
      }
    }
    return run;
  }

  private addChildren(runId: string, started: string[]): void {
    this.children.set(runId, [...(this.children.get(runId) ?? []), ...started]);
    // A long-lived app forgets the oldest links (waiting for a chain is for the CLI, just after its run).
    if (this.children.size > 10_000) this.children.delete(this.children.keys().next().value!);
  }

  /**
   * Resolves when the run and every run its chain links started, down the chain, have finished; with
   * those chained runs, in the order they were started.
   * @throws CroniumError not_found.
   */
  async waitForChain(runId: string): Promise<Run[]> {
    await this.wait(runId);
    const chained: Run[] = [];
    for (const child of this.children.get(runId) ?? []) {
      chained.push(await this.wait(child));
      chained.push(...(await this.waitForChain(child)));
    }
    return chained;
  }

  /**
   * Claims a detached execution and follows it again (see src/exec/reattach.ts): resolves once it is
   * claimed, with `followed`, which resolves with the execution as written at the end (or detached again).
   * Cancelling its run (cancel(runId)) stops the script.
   * @throws CroniumError conflict when it is not detached (another process follows it, or it has ended).
   */
  async attach(executionId: string, secrets: string[]): Promise<{ followed: Promise<Execution> }> {
    if (!this.reattach) throw new CroniumError('internal', 'This process cannot reattach.');
    let claimed: Execution;
    try {
      claimed = await this.history.claimDetached(executionId);
    } catch {
      const now = await this.history.getExecution(executionId);
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
        .then(async () => (await this.history.getRun(claimed.runId))!)
        .finally(() => this.active.delete(claimed.runId));
      this.active.set(claimed.runId, { controller, executions: new Map(), done, keepRunning: true });
    }
    return { followed };
  }

  cancel(runId: string): boolean {
    const run = this.active.get(runId);
    if (!run) return false;
    run.controller.abort();
    return true;
  }

  /**
   * Stops one execution of a run this process runs (queued: it never starts); false when the run or the
   * execution is not going here.
   */
  cancelExecution(runId: string, executionId: string): boolean {
    const controller = this.active.get(runId)?.executions.get(executionId);
    if (!controller || controller.signal.aborted) return false;
    controller.abort();
    return true;
  }

  /** Resolves when the run has finished (immediately for a finished run). */
  async wait(runId: string): Promise<Run> {
    const run = this.active.get(runId);
    if (run) return run.done;
    const stored = await this.history.getRun(runId);
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
    if (this.cancelPoll) clearInterval(this.cancelPoll);
    this.cancelPoll = null;
    const runs = [...this.active.values()];
    for (const run of runs) run.controller.abort(run.keepRunning ? leftRunning() : undefined);
    await Promise.allSettled(runs.map((r) => r.done));
  }
}
