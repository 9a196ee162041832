/**
 * The team's work queue: pg-boss (a well-kept PostgreSQL job queue: SKIP LOCKED fetches, LISTEN/NOTIFY
 * wake-ups, per-group concurrency across every node) in its own schema `cronium_queue` of the team's
 * database, which pg-boss creates and migrates itself on start. Cronium's tables never see it; a queue job
 * carries one execution id and nothing else (the store holds the rest).
 *
 * A run's concurrency cap holds across workers through pg-boss's group concurrency: every job of a run is
 * in the group of its run id, tiered by the run's cap, and a fetch never makes more of a group's jobs
 * active than its tier allows (counted in the database, so it holds for any number of workers).
 */
import type { Job, PgBoss } from 'pg-boss';

import { log } from '../core/logger.ts';
import type { TeamChannel } from './channel.ts';

/** The queue's name in pg-boss, and the schema its tables live in. */
export const QUEUE_NAME = 'cronium-executions';
export const QUEUE_SCHEMA = 'cronium_queue';

/** The largest concurrency a run may have (rules.concurrency): one pg-boss tier per value. */
const MAX_CONCURRENCY = 500;
const TIERS: Record<string, number> = Object.fromEntries(
  Array.from({ length: MAX_CONCURRENCY }, (_, i) => [String(i + 1), i + 1]),
);

/** A queue job's payload: the execution to run (its run, for the group, is on the job itself). */
export interface QueuedExecution {
  executionId: string;
}

/** One execution to enqueue: its run (the group) and the run's cap, and how long it may stay active. */
export interface EnqueueItem {
  executionId: string;
  runId: string;
  concurrency: number;
  /** Seconds the job may stay active before pg-boss gives up on it (the job's timeout and a margin). */
  expireInSeconds: number;
}

export interface WorkQueueOptions {
  /** postgres://… of the team's database. */
  url: string;
  /**
   * Whether this process keeps the queue's tables tidy (pg-boss's supervise: expiring and archiving
   * jobs). Workers do; a CLI that only sends does not.
   */
  supervise?: boolean;
  /**
   * The process's one LISTEN connection (channel.ts): pg-boss's job wake-ups are listened to on it
   * rather than on a connection of pg-boss's own.
   */
  channel?: TeamChannel;
}

/** A started pg-boss on the team's database, with Cronium's one queue created. */
export class WorkQueue {
  private readonly options: WorkQueueOptions;
  private instance: PgBoss | null = null;
  private started: Promise<void> | null = null;

  constructor(options: WorkQueueOptions) {
    this.options = options;
  }

  /** pg-boss, started (see start()). */
  private get boss(): PgBoss {
    return this.instance!;
  }

  /** Connects, creates (or migrates) the schema and the queue; once, later calls wait for the first. */
  start(): Promise<void> {
    this.started ??= (async () => {
      // Loaded on first use: a process that never sends to workers never loads the queue library.
      const [{ PgBoss }, { default: PgBossDb }] = await Promise.all([
        import('pg-boss'),
        // pg-boss's own pool and SQL (its internal Db: the package has no exports map), with listen()
        // routed to the process's one LISTEN connection.
        import('pg-boss/dist/db.js'),
      ]);
      const { channel } = this.options;
      const poolConfig = { connectionString: this.options.url, max: 4, application_name: 'cronium' };
      let db: InstanceType<typeof PgBossDb> | undefined;
      if (channel) {
        db = new PgBossDb(poolConfig);
        db.listen = async (name: string, onPayload: (payload: string) => void, onReconnect: () => void) => {
          const stop = await channel.listenRaw(name, onPayload, onReconnect);
          return { close: stop };
        };
      }
      this.instance = new PgBoss({
        ...poolConfig,
        db,
        schema: QUEUE_SCHEMA,
        useListenNotify: true,
        supervise: this.options.supervise ?? false,
        schedule: false,
      });
      // pg-boss reports its own trouble (a lost connection it retries) as events: logged, never thrown.
      this.instance.on('error', (err: unknown) => log().warn({ err }, 'queue error'));
      await this.boss.start();
      // Retries are Cronium's (the reaper re-queues what a lost worker had not started), not pg-boss's.
      if (!(await this.boss.getQueue(QUEUE_NAME)))
        await this.boss
          .createQueue(QUEUE_NAME, { notify: true, retryLimit: 0 })
          .catch(async (err: unknown) => {
            // Two processes creating it at once: the other one won.
            if (!(await this.boss.getQueue(QUEUE_NAME))) throw err;
          });
    })();
    return this.started;
  }

  /** Enqueues one job per execution; returns the queue's job ids in the same order. */
  async enqueue(items: readonly EnqueueItem[]): Promise<string[]> {
    if (items.length === 0) return [];
    await this.start();
    const ids: string[] = [];
    for (const item of items) {
      const id = await this.boss.send(
        QUEUE_NAME,
        { executionId: item.executionId } satisfies QueuedExecution,
        {
          group: { id: item.runId, tier: String(Math.min(MAX_CONCURRENCY, Math.max(1, item.concurrency))) },
          expireInSeconds: item.expireInSeconds,
          retryLimit: 0,
        },
      );
      if (!id) throw new Error(`the queue refused execution ${item.executionId}`);
      ids.push(id);
    }
    return ids;
  }

  /**
   * Takes jobs, `concurrency` at a time, and runs `handler` for each (its own job id and payload); the
   * job is completed when handler resolves. Returns when taking has started.
   */
  async work(
    concurrency: number,
    handler: (jobId: string, job: QueuedExecution) => Promise<void>,
  ): Promise<void> {
    await this.start();
    await this.boss.work<QueuedExecution>(
      QUEUE_NAME,
      {
        localConcurrency: concurrency,
        batchSize: 1,
        // A job's creation wakes the fetchers (NOTIFY), but nothing wakes a fetcher after its job ends
        // while a backlog waits: pg-boss's shortest poll (0.5 s) bounds that gap.
        pollingIntervalSeconds: 0.5,
        notifyPollingIntervalSeconds: 0.5,
        groupConcurrency: { default: 1, tiers: TIERS },
      },
      async (jobs: Job<QueuedExecution>[]) => {
        for (const job of jobs) await handler(job.id, job.data);
      },
    );
  }

  /** Stops taking new jobs; jobs being handled go on (their handlers are the caller's to end). */
  async stopTaking(): Promise<void> {
    await this.started?.catch(() => undefined);
    if (this.instance) await this.instance.offWork(QUEUE_NAME, { wait: false });
  }

  /** Fails queue jobs (a lost worker's), so their run's concurrency slots are free again. */
  async fail(jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.start();
    await this.boss.fail(QUEUE_NAME, [...jobIds], { reason: 'worker lost' });
  }

  /** Jobs waiting to be taken (queue depth). */
  async depth(): Promise<number> {
    await this.start();
    const queue = await this.boss.getQueue(QUEUE_NAME);
    return queue?.queuedCount ?? 0;
  }

  /** Stops pg-boss (waiting up to timeoutMs for handlers) and closes its connections. */
  async close(timeoutMs = 1_000): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    await this.instance?.stop({ graceful: true, timeout: timeoutMs, close: true });
  }
}
