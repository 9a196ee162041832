/**
 * The store's side of team mode: worker heartbeats, which worker took which execution, runs sent to
 * workers, their cancels and their end. Portable SQL (see src/store/sql.ts): `?` placeholders, guarded
 * UPDATEs whose changed-row count says who won a race (two workers claiming one execution, two reapers
 * re-queueing it, a cancel meeting a claim), so the same statements hold on SQLite and PostgreSQL.
 * Methods are async for the engine-neutral store (issue 13), although SQLite answers synchronously today.
 */
import type { Execution, ExecutionStatus, Run, RunStatus } from '../core/domain.ts';
import { FINAL_EXECUTION_STATUSES } from '../core/domain.ts';
import type { Database } from '../store/database.ts';
import { transaction } from '../store/database.ts';
import { executionFromRow, type ExecutionRow } from '../store/executionRows.ts';

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

export class TeamRepo {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  /** Marks a just-created run as sent to workers, owned by no process (failOrphans leaves it alone). */
  async markViaWorkers(runId: string): Promise<void> {
    this.db.prepare(`UPDATE runs SET via = 'workers', owner_pid = NULL WHERE id = ?`).run(runId);
  }

  /** Whether a run's executions were sent to workers (false for an unknown run). */
  async isViaWorkers(runId: string): Promise<boolean> {
    return this.isViaWorkersNow(runId);
  }

  /** isViaWorkers for synchronous callers while the store is SQLite (RunService.cancel is sync today). */
  isViaWorkersNow(runId: string): boolean {
    const row = this.db.prepare('SELECT via FROM runs WHERE id = ?').get(runId) as
      { via: string } | undefined;
    return row?.via === 'workers';
  }

  /**
   * Takes a queued execution for `worker` (and records its queue job): true for the one caller that wins;
   * false when another worker has it, or it was cancelled or has ended meanwhile.
   */
  async claim(executionId: string, worker: string, queueJob: string): Promise<boolean> {
    const { changes } = this.db
      .prepare(
        `UPDATE executions SET worker = ?, queue_job = ? WHERE id = ? AND status = 'queued' AND worker IS NULL`,
      )
      .run(worker, queueJob, executionId);
    return Number(changes) === 1;
  }

  /** Writes (or refreshes) a worker's heartbeat row. */
  async heartbeat(row: WorkerRow): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO workers (name, host, pid, concurrency, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid,
           concurrency = excluded.concurrency, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
      )
      .run(row.name, row.host, row.pid, row.concurrency, row.startedAt, row.heartbeatAt);
  }

  /** Every worker's row (live or not yet reaped), by name. */
  async workers(): Promise<WorkerRow[]> {
    return (
      this.db.prepare('SELECT * FROM workers ORDER BY name').all() as {
        name: string;
        host: string;
        pid: number;
        concurrency: number;
        started_at: number;
        heartbeat_at: number;
      }[]
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
    if (olderThan === undefined) this.db.prepare('DELETE FROM workers WHERE name = ?').run(name);
    else this.db.prepare('DELETE FROM workers WHERE name = ? AND heartbeat_at < ?').run(name, olderThan);
  }

  /** The executions `worker` holds that have not ended. */
  async heldBy(worker: string): Promise<HeldExecution[]> {
    return (
      this.db
        .prepare(
          `SELECT id, run_id, status, queue_job FROM executions WHERE worker = ? AND status NOT IN (${FINAL_LIST})`,
        )
        .all(worker) as { id: string; run_id: string; status: ExecutionStatus; queue_job: string | null }[]
    ).map((r) => ({ id: r.id, runId: r.run_id, status: r.status, queueJob: r.queue_job }));
  }

  /**
   * Puts an execution a lost worker held back in the queue (queued, no worker), when its script had not
   * started (queued or connecting) and `worker` still holds it. True for the one caller that did it.
   */
  async requeue(executionId: string, worker: string): Promise<boolean> {
    const { changes } = this.db
      .prepare(
        `UPDATE executions SET status = 'queued', worker = NULL, queue_job = NULL, connect_ms = NULL
         WHERE id = ? AND worker = ? AND status IN ('queued', 'connecting')`,
      )
      .run(executionId, worker);
    return Number(changes) === 1;
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
    const row = this.db
      .prepare(
        `UPDATE executions SET status = ?, error_kind = ?, error_message = ?, ended_at = ?
         WHERE id = ? AND status = 'queued' AND worker IS NULL RETURNING *`,
      )
      .get(end.status, end.errorKind, end.errorMessage, now, executionId) as unknown as
      ExecutionRow | undefined;
    return row ? executionFromRow(row) : null;
  }

  /** Cancel requests for these executions, removed as they are read (each is acted on once). */
  async takeCancels(executionIds: readonly string[]): Promise<string[]> {
    if (executionIds.length === 0) return [];
    const marks = executionIds.map(() => '?').join(', ');
    const any = this.db
      .prepare(`SELECT 1 AS found FROM cancel_requests WHERE execution_id IN (${marks}) LIMIT 1`)
      .get(...executionIds);
    if (!any) return [];
    return (
      this.db
        .prepare(`DELETE FROM cancel_requests WHERE execution_id IN (${marks}) RETURNING execution_id`)
        .all(...executionIds) as { execution_id: string }[]
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
    return transaction(this.db, () => {
      const rows = this.db.prepare('SELECT status FROM executions WHERE run_id = ?').all(runId) as {
        status: ExecutionStatus;
      }[];
      if (rows.some((r) => !(FINAL_EXECUTION_STATUSES as readonly string[]).includes(r.status))) return false;
      const { changes } = this.db
        .prepare(`UPDATE runs SET status = ?, ended_at = ? WHERE id = ? AND status = 'running'`)
        .run(statusOf(rows), now, runId);
      if (Number(changes) !== 1) return false;
      this.db.prepare('DELETE FROM cancel_requests WHERE run_id = ?').run(runId);
      return true;
    });
  }

  /** Running runs sent to workers (what a reaper settles when their executions have all ended). */
  async runningRuns(): Promise<Pick<Run, 'id'>[]> {
    return this.db.prepare(`SELECT id FROM runs WHERE via = 'workers' AND status = 'running'`).all() as {
      id: string;
    }[];
  }
}
