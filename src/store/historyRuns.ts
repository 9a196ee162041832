/** History's runs: create, finish and read runs, their owners and cancel requests (HistoryRepo's base). */
import type { ChainStep, Execution, NotificationResult, ParamValue, Run, RunStatus } from '../core/domain.ts';
import { executionFromRow, type ExecutionRow, type RunRow } from './executionRows.ts';
import type { Sql } from './sql.ts';

/**
 * The ids that start with `prefix`, as a range on the primary key's index: `id >= prefix AND id < next`,
 * next being the prefix with its last character moved up by one (portable: no blob concatenation).
 */
export function prefixRange(prefix: string): [string, string] {
  if (prefix === '') return ['', '\u{10ffff}'];
  const last = prefix.codePointAt(prefix.length - 1)!;
  return [prefix, prefix.slice(0, -1) + String.fromCodePoint(last + 1)];
}

export class RunHistory {
  protected readonly db: Sql;

  constructor(db: Sql) {
    this.db = db;
  }

  /**
   * A run and its queued executions land together or not at all. Returns the run as written (status
   * `running`, its executions' ids in the order getRun lists them: by server name), for the caller to
   * publish without reading it back.
   */
  async createRun(
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
  ): Promise<Run> {
    const byName = [...executions].sort((a, b) =>
      a.serverName < b.serverName ? -1 : a.serverName > b.serverName ? 1 : 0,
    );
    await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO runs (id, job_id, job_name, input, trigger, concurrency, helper_mode, status, owner_pid, started_at,
           schedule_id, parent_execution_id, chain_depth, params, retry_of, attempt, started_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
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
        ],
      );
      const keepRunning = options.keepRunning ? 1 : 0;
      for (const e of executions)
        await tx.run(
          `INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, attempt, keep_running, started_by)
           VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
          [
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
          ],
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

  /** Writes a run's final status and end (epoch ms); the caller publishes what it wrote. */
  async finishRun(id: string, status: RunStatus, endedAt: number): Promise<void> {
    await this.db.run('UPDATE runs SET status = ?, ended_at = ? WHERE id = ?', [status, endedAt, id]);
    // A cancel asked as the run ended has nothing left to stop.
    await this.db.run('DELETE FROM cancel_requests WHERE run_id = ?', [id]);
  }

  async getRun(id: string): Promise<Run | null> {
    const row = await this.db.get<RunRow>('SELECT * FROM runs WHERE id = ?', [id]);
    return row ? this.runFromRow(row) : null;
  }

  private async runFromRow(row: RunRow): Promise<Run> {
    const id = row.id;
    const executions = await this.db.all<{ id: string; server_name: string }>(
      'SELECT id, server_name FROM executions WHERE run_id = ? ORDER BY server_name',
      [id],
    );
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
  async setRunNotifications(id: string, notifications: NotificationResult[]): Promise<void> {
    await this.db.run('UPDATE runs SET notifications = ? WHERE id = ?', [JSON.stringify(notifications), id]);
  }

  /** Records what an execution's chain links did (after it ended: not a status change). */
  async setExecutionChain(id: string, chain: ChainStep[]): Promise<void> {
    await this.db.run('UPDATE executions SET chain = ? WHERE id = ?', [JSON.stringify(chain), id]);
  }

  /** The ids of the runs an execution's chain links started, oldest first. */
  async childRunIds(executionId: string): Promise<string[]> {
    return (
      await this.db.all<{ id: string }>(
        'SELECT id FROM runs WHERE parent_execution_id = ? ORDER BY started_at, id',
        [executionId],
      )
    ).map((r) => r.id);
  }

  /**
   * Runs whose id starts with prefix (the first `limit` in id order), so a person can type the first few
   * characters.
   */
  async findRunIds(prefix: string, limit = 2): Promise<string[]> {
    const [from, to] = prefixRange(prefix);
    return (
      await this.db.all<{ id: string }>('SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?', [
        from,
        to,
        limit,
      ])
    ).map((r) => r.id);
  }

  /** A run's executions in the run's order (by server name, as Run.executionIds). */
  async runExecutions(runId: string): Promise<Execution[]> {
    return (
      await this.db.all<ExecutionRow>('SELECT * FROM executions WHERE run_id = ? ORDER BY server_name', [
        runId,
      ])
    ).map(executionFromRow);
  }

  /** The process that runs a run (null for an unknown run or one from before owners were recorded). */
  async runOwner(runId: string): Promise<{ pid: number | null; status: RunStatus } | null> {
    const row = await this.db.get<{ owner_pid: number | null; status: RunStatus }>(
      'SELECT owner_pid, status FROM runs WHERE id = ?',
      [runId],
    );
    return row ? { pid: row.owner_pid, status: row.status } : null;
  }

  /**
   * Runs of other processes worth following (see ForeignRuns): those still running, and those that ended
   * at or after `since` (epoch ms), newest first, at most 50.
   */
  async foreignRuns(since: number): Promise<Run[]> {
    const rows = await this.db.all<RunRow>(
      `SELECT * FROM runs WHERE (owner_pid IS NULL OR owner_pid <> ?) AND (status = 'running' OR ended_at >= ?)
       ORDER BY started_at DESC, id DESC LIMIT 50`,
      [process.pid, since],
    );
    const runs: Run[] = [];
    for (const row of rows) runs.push(await this.runFromRow(row));
    return runs;
  }

  /** Asks the process that owns a run to cancel it, or one execution of it (see takeCancelRequests). */
  async requestCancel(runId: string, executionId: string | null): Promise<void> {
    await this.db.run('INSERT INTO cancel_requests (run_id, execution_id, requested_at) VALUES (?, ?, ?)', [
      runId,
      executionId,
      Date.now(),
    ]);
  }

  /** The cancel requests for these runs, removed as they are read (each is acted on once). */
  async takeCancelRequests(
    runIds: readonly string[],
  ): Promise<{ runId: string; executionId: string | null }[]> {
    if (runIds.length === 0) return [];
    const marks = runIds.map(() => '?').join(', ');
    // Read first: the common look finds nothing, and a read takes no write lock from the log writer.
    const any = await this.db.get(
      `SELECT 1 AS found FROM cancel_requests WHERE run_id IN (${marks}) LIMIT 1`,
      runIds,
    );
    if (!any) return [];
    return (
      await this.db.all<{ run_id: string; execution_id: string | null }>(
        `DELETE FROM cancel_requests WHERE run_id IN (${marks}) RETURNING run_id, execution_id`,
        runIds,
      )
    ).map((r) => ({ runId: r.run_id, executionId: r.execution_id }));
  }
}
