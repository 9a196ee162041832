/** History's runs: create, finish and read runs, their owners and cancel requests (HistoryRepo's base). */
import type { ChainStep, Execution, NotificationResult, ParamValue, Run, RunStatus } from '../core/domain.ts';
import type { Database } from './database.ts';
import { transaction } from './database.ts';
import { executionFromRow, type ExecutionRow, type RunRow } from './executionRows.ts';

export class RunHistory {
  protected readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  /**
   * A run and its queued executions land together or not at all. Returns the run as written (status
   * `running`, its executions' ids in the order getRun lists them: by server name), for the caller to
   * publish without reading it back.
   */
  createRun(
    run: Omit<
      Run,
      | 'executionIds'
      | 'serverNames'
      | 'endedAt'
      | 'status'
      | 'notifications'
      | 'parentExecutionId'
      | 'chainDepth'
      | 'scheduleId'
      | 'params'
      | 'retryOf'
      | 'attempt'
      | 'startedBy'
    > &
      Partial<
        Pick<
          Run,
          'parentExecutionId' | 'chainDepth' | 'scheduleId' | 'params' | 'retryOf' | 'attempt' | 'startedBy'
        >
      >,
    executions: { id: string; serverId: string; serverName: string }[],
    options: { keepRunning?: boolean } = {},
  ): Run {
    const byName = [...executions].sort((a, b) =>
      a.serverName < b.serverName ? -1 : a.serverName > b.serverName ? 1 : 0,
    );
    transaction(this.db, () => {
      this.db
        .prepare(
          `INSERT INTO runs (id, job_id, job_name, input, trigger, concurrency, helper_mode, status, owner_pid, started_at,
             schedule_id, parent_execution_id, chain_depth, params, retry_of, attempt, started_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.id,
          run.jobId,
          run.jobName,
          run.input === undefined ? null : JSON.stringify(run.input),
          run.trigger,
          run.concurrency,
          run.helperMode,
          process.pid,
          run.startedAt,
          run.scheduleId ?? null,
          run.parentExecutionId ?? null,
          run.chainDepth ?? 0,
          JSON.stringify(run.params ?? {}),
          run.retryOf ?? null,
          run.attempt ?? 1,
          run.startedBy ?? null,
        );
      const insert = this.db.prepare(
        `INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, attempt, keep_running, started_by)
         VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
      );
      const keepRunning = options.keepRunning ? 1 : 0;
      for (const e of executions)
        insert.run(
          e.id,
          run.id,
          run.jobId,
          run.jobName,
          e.serverId,
          e.serverName,
          run.startedAt,
          run.attempt ?? 1,
          keepRunning,
          run.startedBy ?? null,
        );
    });
    return {
      ...run,
      input: run.input === undefined ? null : run.input,
      status: 'running',
      endedAt: null,
      executionIds: byName.map((e) => e.id),
      serverNames: byName.map((e) => e.serverName),
      scheduleId: run.scheduleId ?? null,
      parentExecutionId: run.parentExecutionId ?? null,
      chainDepth: run.chainDepth ?? 0,
      notifications: [],
      params: run.params ?? {},
      retryOf: run.retryOf ?? null,
      attempt: run.attempt ?? 1,
      startedBy: run.startedBy ?? null,
    };
  }

  /** Writes a run's final status and end (epoch ms): one UPDATE; the caller publishes what it wrote. */
  finishRun(id: string, status: RunStatus, endedAt: number): void {
    this.db.prepare('UPDATE runs SET status = ?, ended_at = ? WHERE id = ?').run(status, endedAt, id);
    // A cancel asked as the run ended has nothing left to stop.
    this.db.prepare('DELETE FROM cancel_requests WHERE run_id = ?').run(id);
  }

  getRun(id: string): Run | null {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as unknown as RunRow | undefined;
    return row ? this.runFromRow(row) : null;
  }

  private runFromRow(row: RunRow): Run {
    const id = row.id;
    const executions = this.db
      .prepare('SELECT id, server_name FROM executions WHERE run_id = ? ORDER BY server_name')
      .all(id) as { id: string; server_name: string }[];
    return {
      id: row.id,
      jobId: row.job_id,
      jobName: row.job_name,
      input: row.input === null ? null : (JSON.parse(row.input) as unknown),
      trigger: row.trigger,
      scheduleId: row.schedule_id ?? null,
      concurrency: row.concurrency,
      helperMode: row.helper_mode,
      status: row.status,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      executionIds: executions.map((e) => e.id),
      serverNames: executions.map((e) => e.server_name),
      parentExecutionId: row.parent_execution_id,
      chainDepth: row.chain_depth,
      notifications: JSON.parse(row.notifications) as NotificationResult[],
      params: JSON.parse(row.params) as Record<string, ParamValue>,
      retryOf: row.retry_of,
      attempt: row.attempt,
      startedBy: row.started_by ?? null,
    };
  }

  /** Records how a run's notices went (after its final status: they never change it). */
  setRunNotifications(id: string, notifications: NotificationResult[]): void {
    this.db.prepare('UPDATE runs SET notifications = ? WHERE id = ?').run(JSON.stringify(notifications), id);
  }

  /** Records what an execution's chain links did (after it ended: not a status change). */
  setExecutionChain(id: string, chain: ChainStep[]): void {
    this.db.prepare('UPDATE executions SET chain = ? WHERE id = ?').run(JSON.stringify(chain), id);
  }

  /** The ids of the runs an execution's chain links started, oldest first. */
  childRunIds(executionId: string): string[] {
    return (
      this.db
        .prepare('SELECT id FROM runs WHERE parent_execution_id = ? ORDER BY started_at, id')
        .all(executionId) as { id: string }[]
    ).map((r) => r.id);
  }

  /** Runs whose id starts with prefix (at most `limit`), so a person can type the first few characters. */
  findRunIds(prefix: string, limit = 2): string[] {
    return (
      this.db
        .prepare("SELECT id FROM runs WHERE id >= ? AND id < ? || x'ff' LIMIT ?")
        .all(prefix, prefix, limit) as { id: string }[]
    ).map((r) => r.id);
  }

  /** A run's executions in the run's order (by server name, as Run.executionIds). */
  runExecutions(runId: string): Execution[] {
    return (
      this.db
        .prepare('SELECT * FROM executions WHERE run_id = ? ORDER BY server_name')
        .all(runId) as unknown as ExecutionRow[]
    ).map(executionFromRow);
  }

  /** The process that runs a run (null for an unknown run or one from before owners were recorded). */
  runOwner(runId: string): { pid: number | null; status: RunStatus } | null {
    const row = this.db.prepare('SELECT owner_pid, status FROM runs WHERE id = ?').get(runId) as
      { owner_pid: number | null; status: RunStatus } | undefined;
    return row ? { pid: row.owner_pid, status: row.status } : null;
  }

  /**
   * Runs of other processes worth following (see ForeignRuns): those still running, and those that ended
   * at or after `since` (epoch ms), newest first, at most 50.
   */
  foreignRuns(since: number): Run[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM runs WHERE (owner_pid IS NULL OR owner_pid <> ?) AND (status = 'running' OR ended_at >= ?)
         ORDER BY started_at DESC LIMIT 50`,
      )
      .all(process.pid, since) as unknown as RunRow[];
    return rows.map((row) => this.runFromRow(row));
  }

  /** Asks the process that owns a run to cancel it, or one execution of it (see takeCancelRequests). */
  requestCancel(runId: string, executionId: string | null): void {
    this.db
      .prepare('INSERT INTO cancel_requests (run_id, execution_id, requested_at) VALUES (?, ?, ?)')
      .run(runId, executionId, Date.now());
  }

  /** The cancel requests for these runs, removed as they are read (each is acted on once). */
  takeCancelRequests(runIds: readonly string[]): { runId: string; executionId: string | null }[] {
    if (runIds.length === 0) return [];
    const marks = runIds.map(() => '?').join(', ');
    // Read first: the common look finds nothing, and a read takes no write lock from the log writer.
    const any = this.db
      .prepare(`SELECT 1 FROM cancel_requests WHERE run_id IN (${marks}) LIMIT 1`)
      .get(...runIds);
    if (!any) return [];
    return (
      this.db
        .prepare(`DELETE FROM cancel_requests WHERE run_id IN (${marks}) RETURNING run_id, execution_id`)
        .all(...runIds) as { run_id: string; execution_id: string | null }[]
    ).map((r) => ({ runId: r.run_id, executionId: r.execution_id }));
  }
}
