/**
 * `cronium worker`'s engine: takes queued executions from the team's queue and runs them in this process
 * (SSH, tunnels, helpers and the runtime API all here), as a direct run would, marking each with its name.
 *
 * - Heartbeats: a row in `workers` every heartbeatMs; at each beat it also reaps lost workers and takes
 *   the cancel requests for what it runs (see reaper.ts for the policy).
 * - Following: every change of an execution it runs (status, stored log chunks) wakes the run's followers
 *   with a notification naming the run; they read the store (see Team.wait).
 * - Cancelling: a cancel request in the store (woken by a notification, else seen at the next beat)
 *   aborts the execution, which ends its remote processes as a direct run's cancel does.
 * - Stopping (SIGTERM/SIGINT): it stops taking at once, lets what it runs finish for up to `graceMs`, then
 *   cancels the rest (remote processes ended); its heartbeat row is removed last.
 */
import type { Execution, Run } from '../core/domain.ts';
import { CroniumError, toErrorValue } from '../core/errors.ts';
import { log } from '../core/logger.ts';
import { isProcessAlive } from '../core/processAlive.ts';
import type { Executor } from '../exec/executor.ts';
import { executionPlanOf } from '../exec/runManager.ts';
import type { RunService } from '../service/runs.ts';
import { CANCEL_CHANNEL } from './channel.ts';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_LOST_AFTER_MS,
  machineName,
  reapLostWorkers,
  reapWorker,
} from './reaper.ts';
import type { Team } from './team.ts';

export interface WorkerOptions {
  /** Unique among the team's workers (default: this machine's name). */
  name: string;
  /** Executions at once in this worker. */
  concurrency: number;
  heartbeatMs?: number;
  lostAfterMs?: number;
  /** Milliseconds a stop waits for running executions to finish before cancelling them (30 s). */
  graceMs?: number;
}

export interface WorkerDeps {
  team: Team;
  runs: RunService;
  executor: Executor;
}

/** Milliseconds a stopping worker lets its executions finish before cancelling them. */
export const DEFAULT_GRACE_MS = 30_000;
/** Milliseconds between claims of an execution whose run is at its concurrency. */
const CLAIM_RETRY_MS = 200;
/** Milliseconds between wake-ups sent to followers of a run whose log is growing. */
const SIGNAL_EVERY_MS = 100;

export class TeamWorker {
  private readonly deps: WorkerDeps;
  readonly options: Required<WorkerOptions>;
  private readonly running = new Map<
    string,
    { runId: string; controller: AbortController; done: Promise<void> }
  >();
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();
  private stopping = false;
  /** Ends a stop's grace period at once (set while a stop waits for running executions). */
  private endGrace: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopListening: (() => void) | null = null;
  /** Runs with a wake-up pending (sent at most every SIGNAL_EVERY_MS per run). */
  private readonly pendingSignals = new Map<string, NodeJS.Timeout>();
  /** How many executions this worker has run to their end. */
  ran = 0;

  constructor(deps: WorkerDeps, options: WorkerOptions) {
    this.deps = deps;
    this.options = {
      name: options.name,
      concurrency: options.concurrency,
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      lostAfterMs: options.lostAfterMs ?? DEFAULT_LOST_AFTER_MS,
      graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
    };
  }

  /**
   * Writes the first heartbeat, settles what an earlier process of this name left (it runs nothing now),
   * and starts taking executions.
   */
  async start(): Promise<void> {
    const { team } = this.deps;
    const { name } = this.options;
    await this.claimName();
    await reapWorker(team, name, 'an earlier process of this worker ended');
    this.unsubscribe = team.deps.hub.subscribe((event) => {
      const id =
        event.type === 'log'
          ? event.chunk.executionId
          : event.type === 'execution'
            ? event.execution.id
            : null;
      const held = id === null ? undefined : this.running.get(id);
      if (held) this.wake(held.runId);
    });
    this.stopListening =
      (await team.channel()?.listen(CANCEL_CHANNEL, () => void this.takeCancels())) ?? null;
    this.timer = setInterval(() => void this.tick(), this.options.heartbeatMs);
    await team.queue().work(this.options.concurrency, (jobId, job) => this.take(jobId, job.executionId));
    log().info({ worker: name, concurrency: this.options.concurrency }, 'worker taking executions');
  }

  /**
   * Takes this worker's name, refusing one a live worker holds: its executions would otherwise be reaped
   * as an earlier process's. A row whose heartbeat is older than lostAfterMs, or whose process on this
   * machine has ended (a restart), is taken over.
   * @throws CroniumError conflict naming the live holder.
   */
  private async claimName(): Promise<void> {
    const { repo } = this.deps.team.deps;
    const { name, lostAfterMs, concurrency } = this.options;
    const host = machineName();
    const now = Date.now();
    const held = (await repo.workers()).find((w) => w.name === name);
    const gone = held && held.host === host && !isProcessAlive(held.pid) ? { host, pid: held.pid } : null;
    const row = { name, host, pid: process.pid, concurrency, startedAt: this.startedAt, heartbeatAt: now };
    if (await repo.claimName(row, now - lostAfterMs, gone)) return;
    const holder = (await repo.workers()).find((w) => w.name === name);
    throw new CroniumError(
      'conflict',
      `A worker named ${name} is running${holder ? ` on ${holder.host} (pid ${holder.pid}, last heartbeat ${Math.max(0, Math.round((now - holder.heartbeatAt) / 1000))} s ago)` : ''}: give this one another --name (names are unique in the team).`,
    );
  }

  private async beat(): Promise<void> {
    await this.deps.team.deps.repo.heartbeat({
      name: this.options.name,
      host: machineName(),
      pid: process.pid,
      concurrency: this.options.concurrency,
      startedAt: this.startedAt,
      heartbeatAt: Date.now(),
    });
  }

  private async tick(): Promise<void> {
    try {
      await this.beat();
      await this.takeCancels();
      await reapLostWorkers(this.deps.team, this.options.lostAfterMs, this.options.name);
    } catch (err) {
      log().warn({ err }, 'worker heartbeat failed');
    }
  }

  /** Wakes the followers of a run, at most every SIGNAL_EVERY_MS. */
  private wake(runId: string): void {
    if (this.pendingSignals.has(runId)) return;
    this.pendingSignals.set(
      runId,
      setTimeout(() => {
        this.pendingSignals.delete(runId);
        void this.deps.team.signal(runId);
      }, SIGNAL_EVERY_MS),
    );
  }

  private async takeCancels(): Promise<void> {
    const ids = await this.deps.team.deps.repo.takeCancels([...this.running.keys()]);
    for (const id of ids) this.running.get(id)?.controller.abort();
  }

  /** Puts a queued execution back on the queue for another worker (this one stops). */
  private async requeue(executionId: string): Promise<void> {
    const { team } = this.deps;
    const queued = await team.deps.history.getExecution(executionId);
    const run = queued?.status === 'queued' ? await team.deps.history.getRun(queued.runId) : null;
    if (run)
      await team
        .queue()
        .enqueue([{ executionId, runId: run.id, concurrency: run.concurrency, expireInSeconds: 86_000 }]);
  }

  /** Runs one queue job: claims its execution (or skips it: taken, cancelled or ended), runs it, settles. */
  private async take(jobId: string, executionId: string): Promise<void> {
    const { team, runs, executor } = this.deps;
    const { repo, history, hub } = team.deps;
    // Fetched as this worker stops: a new job puts it back in the queue for another worker.
    if (this.stopping) return this.requeue(executionId);
    let claim = await repo.claim(executionId, this.options.name, jobId);
    // The run is at its concurrency (another worker took one at the same moment): wait for one to end.
    while (claim === 'full' && !this.stopping) {
      await new Promise((resolve) => setTimeout(resolve, CLAIM_RETRY_MS));
      claim = await repo.claim(executionId, this.options.name, jobId);
    }
    if (claim === 'full') return this.requeue(executionId);
    if (claim === 'taken') return;
    const execution = (await history.getExecution(executionId))!;
    const run = (await history.getRun(execution.runId))!;
    const controller = new AbortController();
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.running.set(executionId, { runId: run.id, controller, done });
    try {
      await this.runOne(run, execution, controller.signal, executor, runs);
    } catch (err) {
      log().error({ err }, `execution ${executionId} failed in the worker`);
      try {
        const failed = await history.moveExecution(executionId, 'error', {
          errorKind: toErrorValue(err).kind,
          errorMessage: toErrorValue(err).message,
          endedAt: Date.now(),
        });
        hub.emit({ type: 'execution', execution: failed });
      } catch {
        // It has ended already.
      }
    } finally {
      this.running.delete(executionId);
      this.ran++;
      finish();
    }
    const ended = await team.settle(run.id);
    if (ended) await this.afterRun(ended);
    await team.signal(run.id);
  }

  /** The run's notices, sent by the worker that ended it. */
  private async afterRun(run: Run): Promise<void> {
    try {
      await this.deps.runs.sendNotices(run);
    } catch (err) {
      log().error({ err }, `notices of run ${run.id} failed`);
    }
  }

  private async runOne(
    run: Run,
    execution: Execution,
    signal: AbortSignal,
    executor: Executor,
    runs: RunService,
  ): Promise<void> {
    // The job, its environment and secrets as they are now, on this execution's one server.
    const { spec } = await runs.prepare(requestOf(run, [execution.serverId]));
    const final = await executor.run(
      executionPlanOf({ ...spec, attempt: run.attempt }, run.id, execution, spec.servers[0]),
      signal,
    );
    // Chained jobs start here, direct in this worker.
    if (!signal.aborted && spec.afterExecution)
      try {
        await spec.afterExecution(final);
      } catch (err) {
        log().error({ err }, `chain after execution ${final.id} failed`);
      }
  }

  /** This worker's name (its heartbeat row, and the `worker` of the executions it takes). */
  get name(): string {
    return this.options.name;
  }

  /** Executions this worker runs now. */
  get active(): number {
    return this.running.size;
  }

  /**
   * Stops taking executions, lets the running ones finish for up to graceMs (0: cancel at once), cancels
   * the rest (their remote processes ended), then removes the heartbeat row.
   */
  async stop(graceMs = this.options.graceMs): Promise<void> {
    // A stop while one waits out its grace (a second signal) with less grace: cuts that wait short.
    if (this.stopping) {
      if (graceMs === 0) this.endGrace?.();
      return;
    }
    this.stopping = true;
    const { team } = this.deps;
    await team.queue().stopTaking();
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    if (this.running.size) {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => {
        this.endGrace = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([all(), graceOver]);
      clearTimeout(timer);
      for (const r of this.running.values()) r.controller.abort();
      await all();
    }
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    this.stopListening?.();
    for (const t of this.pendingSignals.values()) clearTimeout(t);
    await Promise.all([...this.pendingSignals.keys()].map((runId) => team.signal(runId)));
    await team.deps.repo.removeWorker(this.options.name);
  }
}

/** A run's request again (as prepare() takes it), on `serverIds`. */
function requestOf(run: Run, serverIds: string[]): Record<string, unknown> {
  return {
    jobId: run.jobId,
    serverIds,
    input: run.input ?? undefined,
    params: run.params,
    helperMode: run.helperMode,
    concurrency: run.concurrency,
    trigger: run.trigger,
  };
}
