/**
 * The store's side of team mode: worker heartbeats, which worker took which execution, runs sent to
 * workers, their cancels and their end. Portable SQL (see src/store/sql.ts): `?` placeholders, guarded
 * UPDATEs whose changed-row count says who won a race (two workers claiming one execution, two reapers
 * re-queueing it, a cancel meeting a claim), so the same statements hold on SQLite and PostgreSQL.
 */
import type { Execution, ExecutionStatus, Run, RunStatus } from '../core/domain.ts';
import { EXECUTION_STATUSES, FINAL_EXECUTION_STATUSES } from '../core/domain.ts';
import { executionFromRow, type ExecutionRow } from '../store/executionRows.ts';
import type { Sql } from '../store/sql.ts';

/** A worker's heartbeat row. Times are epoch milliseconds. */
export interface WorkerRow {
  name: string;
  host: string;
  pid: number;
  concurrency: number;
  startedAt: number;
  heartbeatAt: number;
}

/** An execution a worker holds, as the reaper sees it. */
export interface HeldExecution {
  id: string;
  runId: string;
  status: ExecutionStatus;
  queueJob: string | null;
}

const FINAL_LIST = FINAL_EXECUTION_STATUSES.map((s) => `'${s}'`).join(', ');
/** The statuses not final, listed (an IN over them uses the status index, where NOT IN would scan). */
const GOING_LIST = EXECUTION_STATUSES.filter(
  (s) => !(FINAL_EXECUTION_STATUSES as readonly string[]).includes(s),
)
  .map((s) => `'${s}'`)
  .join(', ');

export class TeamRepo {
  private readonly db: Sql;

  constructor(db: Sql) {
    this.db = db;
  }

  /** Marks a just-created run as sent to workers, owned by no process (failOrphans leaves it alone). */
  async markViaWorkers(runId: string): Promise<void> {
    await this.db.run(`UPDATE runs SET via = 'workers', owner_pid = NULL WHERE id = ?`, [runId]);
  }

  /** Whether a run's executions were sent to workers (false for an unknown run). */
  async isViaWorkers(runId: string): Promise<boolean> {
    const row = await this.db.get<{ via: string }>('SELECT via FROM runs WHERE id = ?', [runId]);
    return row?.via === 'workers';
  }

  /**
   * Takes a queued execution for `worker` (and records its queue job), within its run's concurrency:
   * `claimed` for the one caller that wins; `taken` when another worker has it, it was cancelled or has
   * ended meanwhile (or this worker's row is gone: reaped); `full` when the run already has `concurrency`
   * executions taken and not ended — try again when one ends. The run's row is locked first (an UPDATE of
   * it), so two workers claiming for one run at once are counted one after the other: pg-boss's group
   * limit alone let two fetchers that woke together both take one (READ COMMITTED).
   */
  async claim(executionId: string, worker: string, queueJob: string): Promise<'claimed' | 'taken' | 'full'> {
    return this.db.transaction(async (tx) => {
      const execution = await tx.get<{ run_id: string }>(
        `SELECT run_id FROM executions WHERE id = ? AND status = 'queued' AND worker IS NULL`,
        [executionId],
      );
      if (!execution) return 'taken';
      await tx.run('UPDATE runs SET concurrency = concurrency WHERE id = ?', [execution.run_id]);
      const load = await tx.get<{ taken: number; concurrency: number }>(
        `SELECT (SELECT count(*) FROM executions
                  WHERE run_id = r.id AND worker IS NOT NULL AND status IN ('queued', ${GOING_LIST})) AS taken,
                r.concurrency AS concurrency
           FROM runs r WHERE r.id = ?`,
        [execution.run_id],
      );
      if (load && Number(load.taken) >= Number(load.concurrency)) return 'full';
      const { changes } = await tx.run(
        `UPDATE executions SET worker = ?, queue_job = ? WHERE id = ? AND status = 'queued' AND worker IS NULL
           AND EXISTS (SELECT 1 FROM workers WHERE name = ?)`,
        [worker, queueJob, executionId, worker],
      );
      return changes === 1 ? 'claimed' : 'taken';
    });
  }

  /**
   * A reaper's claim on a lost worker: removes its row while its heartbeat is still older than `olderThan`
   * (epoch ms). True for the one caller whose DELETE removed it: that caller settles its executions.
   */
  async claimLost(name: string, olderThan: number): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM workers WHERE name = ? AND heartbeat_at < ?', [
      name,
      olderThan,
    ]);
    return changes === 1;
  }

  /**
   * The names that hold executions not ended but have no heartbeat row: workers whose reaper ended after
   * its claim and before settling them (see reaper.ts).
   */
  async holdersWithoutRow(): Promise<string[]> {
    return (
      await this.db.all<{ worker: string }>(
        `SELECT DISTINCT worker FROM executions
         WHERE status IN (${GOING_LIST}) AND worker IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.name = executions.worker)`,
      )
    ).map((r) => r.worker);
  }

  /**
   * Takes a worker's name for this process: writes its heartbeat row unless a live process holds the name
   * — one whose heartbeat is at or after `staleBefore` (epoch ms) and which is not `gone` (a process of
   * this machine known to have ended). True when the name is this process's now.
   */
  async claimName(
    row: WorkerRow,
    staleBefore: number,
    gone: { host: string; pid: number } | null,
  ): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO workers (name, host, pid, concurrency, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         concurrency = excluded.concurrency, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at
       WHERE workers.heartbeat_at < ? OR (workers.host = ? AND workers.pid = ?)`,
      [
        row.name,
        row.host,
        row.pid,
        row.concurrency,
        row.startedAt,
        row.heartbeatAt,
        staleBefore,
        gone?.host ?? null,
        gone?.pid ?? null,
      ],
    );
    return changes === 1;
  }

  /** Writes (or refreshes) a worker's heartbeat row. */
  async heartbeat(row: WorkerRow): Promise<void> {
    await this.db.run(
      `INSERT INTO workers (name, host, pid, concurrency, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         concurrency = excluded.concurrency, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
      [row.name, row.host, row.pid, row.concurrency, row.startedAt, row.heartbeatAt],
    );
  }

  /** Every worker's row (live or not yet reaped), by name. */
  async workers(): Promise<WorkerRow[]> {
    return (
      await this.db.all<{
        name: string;
        host: string;
        pid: number;
        concurrency: number;
        started_at: number;
        heartbeat_at: number;
      }>('SELECT * FROM workers ORDER BY name')
    ).map((r) => ({
      name: r.name,
      host: r.host,
      pid: Number(r.pid),
      concurrency: Number(r.concurrency),
      startedAt: Number(r.started_at),
      heartbeatAt: Number(r.heartbeat_at),
    }));
  }

  /** Removes a worker's row; with `olderThan`, only while its heartbeat is still older (not revived). */
  async removeWorker(name: string, olderThan?: number): Promise<void> {
    if (olderThan === undefined) await this.db.run('DELETE FROM workers WHERE name = ?', [name]);
    else await this.db.run('DELETE FROM workers WHERE name = ? AND heartbeat_at < ?', [name, olderThan]);
  }

  /** The executions `worker` holds that have not ended. */
  async heldBy(worker: string): Promise<HeldExecution[]> {
    return (
      await this.db.all<{ id: string; run_id: string; status: ExecutionStatus; queue_job: string | null }>(
        `SELECT id, run_id, status, queue_job FROM executions WHERE worker = ? AND status NOT IN (${FINAL_LIST})`,
        [worker],
      )
    ).map((r) => ({ id: r.id, runId: r.run_id, status: r.status, queueJob: r.queue_job }));
  }

  /**
   * Puts an execution a lost worker held back in the queue (queued, no worker), when its script had not
   * started (queued or connecting) and `worker` still holds it. True for the one caller that did it.
   */
  async requeue(executionId: string, worker: string): Promise<boolean> {
    const { changes } = await this.db.run(
      `UPDATE executions SET status = 'queued', worker = NULL, queue_job = NULL, connect_ms = NULL
       WHERE id = ? AND worker = ? AND status IN ('queued', 'connecting')`,
      [executionId, worker],
    );
    return changes === 1;
  }

  /**
   * Ends an execution no worker has taken yet (queued, unclaimed) — `cancelled` by a cancel, `error` when
   * the queue refused it: returns it as written, or null when a worker took it first (then the worker is
   * asked instead, see Team.cancel).
   */
  async endUnclaimed(
    executionId: string,
    end: { status: 'cancelled' | 'error'; errorKind: string; errorMessage: string },
    now: number,
  ): Promise<Execution | null> {
    const row = await this.db.get<ExecutionRow>(
      `UPDATE executions SET status = ?, error_kind = ?, error_message = ?, ended_at = ?
       WHERE id = ? AND status = 'queued' AND worker IS NULL RETURNING *`,
      [end.status, end.errorKind, end.errorMessage, now, executionId],
    );
    return row ? executionFromRow(row) : null;
  }

  /** Cancel requests for these executions, removed as they are read (each is acted on once). */
  async takeCancels(executionIds: readonly string[]): Promise<string[]> {
    if (executionIds.length === 0) return [];
    const marks = executionIds.map(() => '?').join(', ');
    const any = await this.db.get(
      `SELECT 1 AS found FROM cancel_requests WHERE execution_id IN (${marks}) LIMIT 1`,
      executionIds,
    );
    if (!any) return [];
    return (
      await this.db.all<{ execution_id: string }>(
        `DELETE FROM cancel_requests WHERE execution_id IN (${marks}) RETURNING execution_id`,
        executionIds,
      )
    ).map((r) => r.execution_id);
  }

  /**
   * Ends a run sent to workers once every execution has ended, with `statusOf` of them: true for the one
   * caller whose guarded UPDATE wrote it (it publishes and sends the run's notices), false otherwise.
   */
  async finishIfDone(
    runId: string,
    statusOf: (executions: { status: ExecutionStatus }[]) => RunStatus,
    now: number,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.all<{ status: ExecutionStatus }>(
        'SELECT status FROM executions WHERE run_id = ?',
        [runId],
      );
      if (rows.some((r) => !(FINAL_EXECUTION_STATUSES as readonly string[]).includes(r.status))) return false;
      const { changes } = await tx.run(
        `UPDATE runs SET status = ?, ended_at = ? WHERE id = ? AND status = 'running'`,
        [statusOf(rows), now, runId],
      );
      if (changes !== 1) return false;
      await tx.run('DELETE FROM cancel_requests WHERE run_id = ?', [runId]);
      return true;
    });
  }

  /** Running runs sent to workers (what a reaper settles when their executions have all ended). */
  async runningRuns(): Promise<Pick<Run, 'id'>[]> {
    return this.db.all<{ id: string }>(`SELECT id FROM runs WHERE via = 'workers' AND status = 'running'`);
  }
}
