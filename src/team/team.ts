/**
 * Team mode in any process on the store: sending a run's executions to workers (the store first, then one
 * queue job per execution), following a worker's run live, and cancelling it across processes. The worker
 * side is src/team/worker.ts; the lost-worker policy src/team/reaper.ts.
 */
import type { Execution, ExecutionStatus, Run } from '../core/domain.ts';
import { CroniumError } from '../core/errors.ts';
import type { EventHub } from '../core/eventHub.ts';
import { isFinal } from '../core/executionStatus.ts';
import { log } from '../core/logger.ts';
import { runStatusOf } from '../exec/runManager.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';
import { CANCEL_CHANNEL, RUN_CHANNEL, TeamChannel } from './channel.ts';
import { WorkQueue } from './queue.ts';
import { viaWorkersRefused } from './teamMode.ts';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_LOST_AFTER_MS, reapLostWorkers, type TeamTimings } from './reaper.ts';
import type { TeamRepo } from './teamRepo.ts';

/** Milliseconds between a follower's looks at the store when no notification woke it (a backstop). */
const FOLLOW_POLL_MS = 500;
/** Log chunks read per execution per look. */
const READ_BATCH = 2_000;
/** Seconds a queue job may stay active beyond its job's timeout before pg-boss gives up on it. */
const EXPIRE_MARGIN_SEC = 600;
/** pg-boss's ceiling for expireInSeconds (a day, less a margin). */
const MAX_EXPIRE_SEC = 86_000;

export interface TeamDeps {
  /** postgres://… of the team's queue (CRONIUM_DATABASE_URL); null: runs cannot be sent to workers. */
  url: string | null;
  repo: TeamRepo;
  history: HistoryRepo;
  hub: EventHub;
  /** Whether this process tidies the queue (pg-boss supervise): workers do. */
  supervise?: boolean;
  /** The team's heartbeat and lost-worker timing (teamTimings of the environment; 2 s and 15 s). */
  timings?: TeamTimings;
}

/** The run's end as a worker reports it: its status from its executions'. */
export function teamRunStatus(executions: { status: ExecutionStatus }[]): Run['status'] {
  return runStatusOf(
    executions,
    executions.some((e) => e.status === 'cancelled'),
  );
}

export class Team {
  readonly deps: TeamDeps;
  private queueInstance: WorkQueue | null = null;
  private channelInstance: TeamChannel | null = null;
  /** Each dispatched run's enqueueing, awaited before following it (its failure is the run's). */
  private readonly enqueued = new Map<string, Promise<void>>();
  /** The runs this process follows now (see wait). */
  private readonly followers = new Map<string, Promise<Run>>();
  /** Who wants this process to reap lost workers now (see startReaper), and the timer while any does. */
  private reaperUsers = 0;
  private reaperTimer: NodeJS.Timeout | null = null;
  private reaping: Promise<unknown> | null = null;

  constructor(deps: TeamDeps) {
    this.deps = deps;
  }

  /** Whether this process can reach the queue (a team database URL was given). */
  get enabled(): boolean {
    return this.deps.url !== null;
  }

  private requireUrl(): string {
    if (this.deps.url === null) throw viaWorkersRefused();
    return this.deps.url;
  }

  /** The queue (connected on first use). @throws CroniumError invalid_input without a team URL. */
  queue(): WorkQueue {
    this.queueInstance ??= new WorkQueue({
      url: this.requireUrl(),
      supervise: this.deps.supervise,
      channel: this.channel() ?? undefined,
    });
    return this.queueInstance;
  }

  /** The events connection (connected on first use), or null without a team URL. */
  channel(): TeamChannel | null {
    if (this.deps.url === null) return null;
    this.channelInstance ??= new TeamChannel(this.deps.url);
    return this.channelInstance;
  }

  /** The team's timing (see TeamTimings). */
  get timings(): TeamTimings {
    return this.deps.timings ?? { heartbeatMs: DEFAULT_HEARTBEAT_MS, lostAfterMs: DEFAULT_LOST_AFTER_MS };
  }

  /**
   * Reaps lost workers (src/team/reaper.ts) every heartbeat interval, the first pass at once, until the
   * returned function is called: the daemon, the app and browser mode, and every follower of a worker run
   * call it, so a run whose only worker died still ends. Calls share one timer; a no-op outside team mode.
   */
  startReaper(): () => void {
    if (!this.enabled) return () => undefined;
    this.reaperUsers++;
    if (!this.reaperTimer) {
      this.reaperTimer = setInterval(() => this.reapNow(), this.timings.heartbeatMs);
      this.reaperTimer.unref();
      this.reapNow();
    }
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      if (--this.reaperUsers === 0 && this.reaperTimer) {
        clearInterval(this.reaperTimer);
        this.reaperTimer = null;
      }
    };
  }

  /** One reaper pass, unless one is under way; never rejects (the next pass tries again). */
  private reapNow(): void {
    this.reaping ??= reapLostWorkers(this, this.timings.lostAfterMs)
      .catch((err: unknown) => log().debug({ err }, 'reaping lost workers failed'))
      .finally(() => (this.reaping = null));
  }

  /**
   * What to tell whoever follows a run sent to workers when no worker is alive (none has a heartbeat within
   * `lostAfterMs`): it waits in the queue until one starts. Null for a direct run, outside team mode, or
   * while some worker is alive.
   */
  async noWorkerNotice(runId: string): Promise<string | null> {
    if (!this.enabled || !(await this.deps.repo.isViaWorkers(runId))) return null;
    const since = Date.now() - this.timings.lostAfterMs;
    if ((await this.deps.repo.workers()).some((w) => w.heartbeatAt >= since)) return null;
    return 'No worker is running for this team: the run waits in the queue until "cronium worker" runs on a machine with the team database URL.';
  }

  /** Refuses a run for workers before anything is written when there is no queue to send it to. */
  async assertEnabled(): Promise<void> {
    this.requireUrl();
  }

  /**
   * Sends a run just created in the store (its executions queued) to the workers: marks it as theirs
   * (awaited, so that who follows or cancels it next sees a worker run), then enqueues one job per
   * execution in the background (wait() surfaces a failure, which ends the executions no worker took in
   * `error`).
   */
  async dispatch(run: Run, timeoutSec: number): Promise<void> {
    const { repo } = this.deps;
    const queue = this.queue();
    const expireInSeconds = Math.min(MAX_EXPIRE_SEC, timeoutSec + EXPIRE_MARGIN_SEC);
    await repo.markViaWorkers(run.id);
    const sending = (async () => {
      await queue.enqueue(
        run.executionIds.map((executionId) => ({
          executionId,
          runId: run.id,
          concurrency: run.concurrency,
          expireInSeconds,
        })),
      );
    })().catch(async (err: unknown) => {
      log().error({ err }, `run ${run.id} could not be sent to the workers`);
      await this.failUnsent(run, err);
    });
    this.enqueued.set(run.id, sending);
  }

  /** The executions of a run the queue refused, ended in `error` (none is left queued for ever). */
  private async failUnsent(run: Run, err: unknown): Promise<void> {
    const { hub, repo } = this.deps;
    const message = `The queue could not take it: ${err instanceof Error ? err.message : String(err)}`;
    for (const id of run.executionIds) {
      const ended = await repo.endUnclaimed(
        id,
        { status: 'error', errorKind: 'internal', errorMessage: message },
        Date.now(),
      );
      if (ended) hub.emit({ type: 'execution', execution: ended });
    }
    await this.settle(run.id);
  }

  /**
   * Ends a worker run whose executions have all ended (one caller wins), publishes it and wakes its
   * followers. Returns the run as written when this call ended it.
   */
  async settle(runId: string): Promise<Run | null> {
    const { repo, history, hub } = this.deps;
    if (!(await repo.finishIfDone(runId, teamRunStatus, Date.now()))) return null;
    const run = (await history.getRun(runId))!;
    hub.emit({ type: 'run', run });
    await this.signal(runId);
    return run;
  }

  /** Wakes the followers of a run (a notification; they read the store). */
  async signal(runId: string): Promise<void> {
    await this.channel()?.notify(RUN_CHANNEL, { run: runId });
  }

  /**
   * Follows a worker run to its end from the store: publishes on this process's hub each execution as it
   * moves and each stored log chunk in order (as a direct run's events), and resolves with the run once it
   * has ended. Woken by the workers' notifications, and looks every 500 ms anyway.
   */
  wait(runId: string): Promise<Run> {
    // One follower per run in a process: two would publish every chunk twice.
    let following = this.followers.get(runId);
    if (!following) {
      following = this.follow(runId).finally(() => this.followers.delete(runId));
      this.followers.set(runId, following);
    }
    return following;
  }

  private async follow(runId: string): Promise<Run> {
    const { history, hub } = this.deps;
    await this.enqueued.get(runId);
    let wake: (() => void) | null = null;
    let woken = false;
    const stop = await this.channel()
      ?.listen(RUN_CHANNEL, (p) => {
        if (p.run !== runId) return;
        woken = true;
        wake?.();
      })
      .catch((err: unknown) => {
        log().debug({ err }, 'following by polling only');
        return null;
      });
    const seqs = new Map<string, number>();
    const statuses = new Map<string, ExecutionStatus>();
    // A follower reaps too: when the run's only worker died, nobody else may be left to end it.
    const stopReaping = this.startReaper();
    try {
      for (;;) {
        woken = false;
        // The run first, then its executions, then their logs: a run seen ended has every execution
        // ended, and an execution seen ended has its whole log stored (the executor flushes first).
        const run = await history.getRun(runId);
        if (!run) throw new CroniumError('not_found', `No run ${runId}.`);
        const executions = await history.runExecutions(runId);
        let more = false;
        for (const e of executions) {
          let from = seqs.get(e.id) ?? -1;
          const chunks = await history.readLog(e.id, from, READ_BATCH);
          for (const chunk of chunks) {
            hub.emit({ type: 'log', chunk });
            from = chunk.seq;
          }
          seqs.set(e.id, from);
          if (chunks.length === READ_BATCH) more = true;
        }
        for (const e of executions)
          if (statuses.get(e.id) !== e.status) {
            statuses.set(e.id, e.status);
            hub.emit({ type: 'execution', execution: e, followed: true });
          }
        await hub.whenCaughtUp();
        if (more) continue;
        if (run.status !== 'running' && executions.every((e) => isFinal(e.status))) {
          hub.emit({ type: 'run', run });
          return run;
        }
        if (!woken)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, FOLLOW_POLL_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        wake = null;
      }
    } finally {
      stop?.();
      stopReaping();
    }
  }

  /**
   * Cancels a worker run, or one execution of it: an execution no worker has taken ends `cancelled` at
   * once; one a worker runs is asked through the store (a cancel request the worker takes, woken by a
   * notification), and the worker ends its remote processes. False when nothing was left to cancel.
   */
  async cancel(runId: string, executionId: string | null = null): Promise<boolean> {
    const { history, hub, repo } = this.deps;
    const targets: Execution[] = (await history.runExecutions(runId)).filter(
      (e) => !isFinal(e.status) && (executionId === null || e.id === executionId),
    );
    let asked = false;
    for (const e of targets) {
      const cancelled = await repo.endUnclaimed(
        e.id,
        { status: 'cancelled', errorKind: 'cancelled', errorMessage: 'Cancelled before a worker took it.' },
        Date.now(),
      );
      if (cancelled) hub.emit({ type: 'execution', execution: cancelled });
      else {
        await history.requestCancel(runId, e.id);
        asked = true;
      }
    }
    if (asked) await this.channel()?.notify(CANCEL_CHANNEL, { run: runId });
    await this.settle(runId);
    return targets.length > 0;
  }

  /** Closes the queue and the events connection. */
  async close(): Promise<void> {
    if (this.reaperTimer) clearInterval(this.reaperTimer);
    this.reaperTimer = null;
    await this.reaping;
    await Promise.allSettled([...this.enqueued.values()]);
    await this.queueInstance?.close();
    await this.channelInstance?.close();
  }
}
