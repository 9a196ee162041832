/** History's executions: the status moves, reads, orphans and detached executions (HistoryRepo's base). */
import type { Execution, ExecutionStatus } from '../core/domain.ts';
import { illegalMove, movesInto } from '../core/executionStatus.ts';
import { prefixRange, RunHistory } from './historyRuns.ts';
import type { SqlValue } from './sql.ts';
import {
  type ExecutionFilter,
  executionFromRow,
  executionListQuery,
  type ExecutionPatch,
  type ExecutionRow,
  PATCH_COLUMNS,
} from './executionRows.ts';

/** A job's figures for Cronium's event fields (see ExecutionHistory.jobStats). */
export interface JobStats {
  successCount: number;
  failureCount: number;
  /** When the last execution counted started (epoch ms), null when none. */
  lastRunAt: number | null;
}

/** Runs whose job figures are remembered (a run's executions ask within seconds of each other). */
const RUN_STATS_KEPT = 64;

/** The statuses a job's figures count: outcomes (not queued, running, cancelled or lost). */
const COUNTED = "status IN ('succeeded', 'failed', 'timed_out', 'error')";

/**
 * The SQL of a job's counts per status (`part` 'job'), and with `runId` that run's own (`part` 'run', to
 * subtract), in ONE statement: one snapshot on both engines, where two statements could see one of the
 * run's executions end between them and count it once too few. The job's counts read the index
 * executions_job_status alone; the run's go by run_id alone (a run is one job's: with job_id too the
 * planner may walk the job's index instead). Exported so tests can EXPLAIN the real query.
 */
export function jobCountsQuery(jobId: string, runId: string | null): { sql: string; values: string[] } {
  const job = `SELECT 'job' AS part, status, COUNT(*) AS n FROM executions WHERE job_id = ? AND ${COUNTED} GROUP BY status`;
  if (runId === null) return { sql: job, values: [jobId] };
  const run = `SELECT 'run' AS part, status, COUNT(*) AS n FROM executions WHERE run_id = ? AND ${COUNTED} GROUP BY status`;
  return { sql: `${job} UNION ALL ${run}`, values: [jobId, runId] };
}

export class ExecutionHistory extends RunHistory {
  /**
   * Moves an execution to `status` and writes `patch` with it, in one guarded UPDATE … RETURNING: the row
   * changes only when the status machine allows the move from its current status. Returns the execution
   * as written (what the caller publishes; no read after).
   * @throws CroniumError internal for a move the machine refuses, or an execution that does not exist.
   */
  async moveExecution(id: string, status: ExecutionStatus, patch: ExecutionPatch = {}): Promise<Execution> {
    const sets = ['status = ?'];
    const values: SqlValue[] = [status];
    for (const [field, value] of Object.entries(patch) as [keyof ExecutionPatch, unknown][]) {
      if (value === undefined && field !== 'output') continue;
      const [column, encode] = PATCH_COLUMNS[field];
      sets.push(`${column} = ?`);
      values.push(encode(value) as SqlValue);
    }
    const from = movesInto(status);
    const row = await this.db.get<ExecutionRow>(
      `UPDATE executions SET ${sets.join(', ')} WHERE id = ? AND status IN (${from.map(() => '?').join(', ')}) RETURNING *`,
      [...values, id, ...from],
    );
    if (!row) throw illegalMove(id, (await this.getExecution(id))?.status ?? null, status);
    return executionFromRow(row);
  }

  /**
   * The job's figures per run, as computed for the run's first execution (key: job id and run id), shared
   * by the run's other executions: the query reads every execution the job ever had, so asking it once
   * per host made a run on N hosts read the whole history N times. Bounded (RUN_STATS_KEPT, oldest out).
   */
  private readonly runStats = new Map<string, Promise<JobStats>>();

  /**
   * A job's record before run `runId`, for Cronium's event fields: how many of its executions succeeded,
   * how many failed (failed, timed out or ended in error; cancelled ones count as neither), and when the
   * last one started (epoch ms, null when none). Every execution of that run is left out, so every host of
   * a run sees the same figures (the runs before it), read from the store once per run. `runId` null: the
   * job's whole record.
   */
  async jobStats(jobId: string, runId: string | null): Promise<JobStats> {
    if (runId === null) return await this.jobStatsExcept(jobId, null);
    const key = `${jobId}\n${runId}`;
    let stats = this.runStats.get(key);
    if (!stats) {
      stats = this.jobStatsExcept(jobId, runId);
      this.runStats.set(key, stats);
      // A failed read is not kept: the next execution asks again.
      stats.catch(() => this.runStats.delete(key));
      if (this.runStats.size > RUN_STATS_KEPT) this.runStats.delete(this.runStats.keys().next().value!);
    }
    return await stats;
  }

  /**
   * The job's figures over its executions outside run `runId` (null: all of them). The counts come from
   * the index executions_job_status alone (the job's whole record, less the run's own few executions);
   * the last start from executions_job, newest first.
   */
  private async jobStatsExcept(jobId: string, runId: string | null): Promise<JobStats> {
    const counts = new Map<string, number>();
    const q = jobCountsQuery(jobId, runId);
    for (const row of await this.db.all<{ part: string; status: string; n: number }>(q.sql, q.values))
      counts.set(row.status, (counts.get(row.status) ?? 0) + (row.part === 'run' ? -1 : 1) * Number(row.n));
    const last = await this.db.get<{ started_at: number }>(
      `SELECT started_at FROM executions WHERE job_id = ?${runId === null ? '' : ' AND run_id <> ?'}
        ORDER BY started_at DESC LIMIT 1`,
      runId === null ? [jobId] : [jobId, runId],
    );
    const count = (...statuses: ExecutionStatus[]) => statuses.reduce((n, s) => n + (counts.get(s) ?? 0), 0);
    return {
      successCount: count('succeeded'),
      failureCount: count('failed', 'timed_out', 'error'),
      lastRunAt: last ? Number(last.started_at) : null,
    };
  }

  async getExecution(id: string): Promise<Execution | null> {
    const row = await this.db.get<ExecutionRow>('SELECT * FROM executions WHERE id = ?', [id]);
    return row ? executionFromRow(row) : null;
  }

  /**
   * Executions whose id starts with prefix (so a person can type the first few characters), the first
   * `limit` in id order: without ORDER BY, PostgreSQL may return any of them.
   */
  async findExecutionIds(prefix: string, limit = 2): Promise<string[]> {
    const [from, to] = prefixRange(prefix);
    return (
      await this.db.all<{ id: string }>(
        'SELECT id FROM executions WHERE id >= ? AND id < ? ORDER BY id LIMIT ?',
        [from, to, limit],
      )
    ).map((r) => r.id);
  }

  /** Newest first, keyset-paged (filter.before); every filter is served by an index (see executionListQuery). */
  async listExecutions(filter: ExecutionFilter): Promise<Execution[]> {
    const { sql, values } = executionListQuery(filter, this.db.engine);
    return (await this.db.all<ExecutionRow>(sql, values)).map(executionFromRow);
  }

  /**
   * Runs whose owning process died (crash, kill -9) would stay "running" for ever: mark them and their
   * unfinished executions as errors — except a keep-running execution that was running, whose script is
   * still on its host: it becomes `detached` (and its run stays running) until someone reattaches.
   * Runs of live processes (the desktop app while the CLI starts) are kept.
   */
  async failOrphans(isAlive: (pid: number) => boolean): Promise<number> {
    // A run sent to workers is theirs, whoever started it: a lost worker is found by its heartbeat
    // (src/team/reaper.ts), not by a pid.
    const running = await this.db.all<{ id: string; owner_pid: number | null }>(
      `SELECT id, owner_pid FROM runs WHERE status = 'running' AND via <> 'workers'`,
    );
    const orphans = running.filter(
      (r) => r.owner_pid === null || (r.owner_pid !== process.pid && !isAlive(r.owner_pid)),
    );
    if (orphans.length === 0) return 0;
    return this.db.transaction(async (tx) => {
      const now = Date.now();
      for (const run of orphans) {
        await tx.run(
          `UPDATE executions SET status = 'detached' WHERE run_id = ? AND status = 'running' AND keep_running = 1`,
          [run.id],
        );
        await tx.run(
          `UPDATE executions SET status = 'error', error_kind = 'connection_lost', error_message = 'the process running it ended before it finished', ended_at = ?
           WHERE run_id = ? AND status IN ('queued', 'connecting', 'running')`,
          [now, run.id],
        );
        const detached = await tx.get(
          `SELECT 1 AS found FROM executions WHERE run_id = ? AND status = 'detached' LIMIT 1`,
          [run.id],
        );
        if (detached) await tx.run(`UPDATE runs SET owner_pid = NULL WHERE id = ?`, [run.id]);
        else await tx.run(`UPDATE runs SET status = 'failed', ended_at = ? WHERE id = ?`, [now, run.id]);
      }
      return orphans.length;
    });
  }

  /** Detached executions (oldest first): what reattachDetached picks up. */
  async detachedExecutionIds(): Promise<string[]> {
    return (
      await this.db.all<{ id: string }>(
        `SELECT id FROM executions WHERE status = 'detached' ORDER BY started_at, id`,
      )
    ).map((r) => r.id);
  }

  /**
   * How many executions wait in the store to be started (status queued), by any process sharing it: the
   * queue depth monitoring reports. A real query (the status index), so it also shows the store answers.
   */
  async countQueued(): Promise<number> {
    const row = await this.db.get<{ n: number | bigint }>(
      `SELECT count(*) AS n FROM executions WHERE status = 'queued'`,
    );
    return Number(row?.n ?? 0);
  }

  /** Whether an execution was started keep-running (its script may outlive the connection). */
  async isKeepRunning(executionId: string): Promise<boolean> {
    const row = await this.db.get<{ keep_running: number }>(
      'SELECT keep_running FROM executions WHERE id = ?',
      [executionId],
    );
    return row?.keep_running === 1;
  }

  /**
   * Takes a detached execution over for this process: moves it to running (the status machine's guard:
   * of two processes reattaching at once, one wins) and makes this process its run's owner.
   * @throws CroniumError internal when it is not detached (see moveExecution).
   */
  async claimDetached(executionId: string): Promise<Execution> {
    return this.db.transaction(async (tx) => {
      const execution = await new ExecutionHistory(tx).moveExecution(executionId, 'running');
      await tx.run(`UPDATE runs SET owner_pid = ? WHERE id = ? AND status = 'running'`, [
        process.pid,
        execution.runId,
      ]);
      return execution;
    });
  }
}
