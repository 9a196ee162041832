/** History's executions: the status moves, reads, orphans and detached executions (HistoryRepo's base). */
import type { Execution, ExecutionStatus } from '../core/domain.ts';
import { illegalMove, movesInto } from '../core/executionStatus.ts';
import { transaction } from './database.ts';
import { RunHistory } from './historyRuns.ts';
import {
  type ExecutionFilter,
  executionFromRow,
  executionListQuery,
  type ExecutionPatch,
  type ExecutionRow,
  PATCH_COLUMNS,
} from './executionRows.ts';

export class ExecutionHistory extends RunHistory {
  /**
   * Moves an execution to `status` and writes `patch` with it, in one guarded UPDATE … RETURNING: the row
   * changes only when the status machine allows the move from its current status. Returns the execution
   * as written (what the caller publishes; no read after).
   * @throws CroniumError internal for a move the machine refuses, or an execution that does not exist.
   */
  moveExecution(id: string, status: ExecutionStatus, patch: ExecutionPatch = {}): Execution {
    const sets = ['status = ?'];
    const values: unknown[] = [status];
    for (const [field, value] of Object.entries(patch) as [keyof ExecutionPatch, unknown][]) {
      if (value === undefined && field !== 'output') continue;
      const [column, encode] = PATCH_COLUMNS[field];
      sets.push(`${column} = ?`);
      values.push(encode(value));
    }
    const from = movesInto(status);
    const row = this.db
      .prepare(
        `UPDATE executions SET ${sets.join(', ')} WHERE id = ? AND status IN (${from.map(() => '?').join(', ')}) RETURNING *`,
      )
      .get(...(values as (string | number | null)[]), id, ...from) as unknown as ExecutionRow | undefined;
    if (!row) throw illegalMove(id, this.getExecution(id)?.status ?? null, status);
    return executionFromRow(row);
  }

  /**
   * A job's record so far, for Cronium's event fields: how many of its executions succeeded, how many
   * failed (failed, timed out or ended in error; cancelled ones count as neither), and when the last one
   * other than `exceptId` started (epoch ms, null when none).
   */
  jobStats(
    jobId: string,
    exceptId: string,
  ): { successCount: number; failureCount: number; lastRunAt: number | null } {
    const row = this.db
      .prepare(
        `SELECT COALESCE(SUM(status = 'succeeded'), 0) AS ok,
                COALESCE(SUM(status IN ('failed', 'timed_out', 'error')), 0) AS bad,
                MAX(started_at) AS last
           FROM executions WHERE job_id = ? AND id <> ?`,
      )
      .get(jobId, exceptId) as { ok: number; bad: number; last: number | null };
    return { successCount: Number(row.ok), failureCount: Number(row.bad), lastRunAt: row.last };
  }

  getExecution(id: string): Execution | null {
    const row = this.db.prepare('SELECT * FROM executions WHERE id = ?').get(id) as unknown as
      ExecutionRow | undefined;
    return row ? executionFromRow(row) : null;
  }

  /** Executions whose id starts with prefix (so a person can type the first few characters). */
  findExecutionIds(prefix: string, limit = 2): string[] {
    return (
      this.db
        .prepare("SELECT id FROM executions WHERE id >= ? AND id < ? || x'ff' LIMIT ?")
        .all(prefix, prefix, limit) as { id: string }[]
    ).map((r) => r.id);
  }

  /** Newest first, keyset-paged (filter.before); every filter is served by an index (see executionListQuery). */
  listExecutions(filter: ExecutionFilter): Execution[] {
    const { sql, values } = executionListQuery(filter);
    return (this.db.prepare(sql).all(...values) as unknown as ExecutionRow[]).map(executionFromRow);
  }

  /**
   * Runs whose owning process died (crash, kill -9) would stay "running" for ever: mark them and their
   * unfinished executions as errors — except a keep-running execution that was running, whose script is
   * still on its host: it becomes `detached` (and its run stays running) until someone reattaches.
   * Runs of live processes (the desktop app while the CLI starts) are kept.
   */
  failOrphans(isAlive: (pid: number) => boolean): number {
    // A run sent to workers is theirs, whoever started it: a lost worker is found by its heartbeat
    // (src/team/reaper.ts), not by a pid.
    const running = this.db
      .prepare(`SELECT id, owner_pid FROM runs WHERE status = 'running' AND via <> 'workers'`)
      .all() as {
      id: string;
      owner_pid: number | null;
    }[];
    const orphans = running.filter(
      (r) => r.owner_pid === null || (r.owner_pid !== process.pid && !isAlive(r.owner_pid)),
    );
    if (orphans.length === 0) return 0;
    return transaction(this.db, () => {
      const now = Date.now();
      for (const run of orphans) {
        this.db
          .prepare(
            `UPDATE executions SET status = 'detached' WHERE run_id = ? AND status = 'running' AND keep_running = 1`,
          )
          .run(run.id);
        this.db
          .prepare(
            `UPDATE executions SET status = 'error', error_kind = 'connection_lost', error_message = 'the process running it ended before it finished', ended_at = ?
             WHERE run_id = ? AND status IN ('queued', 'connecting', 'running')`,
          )
          .run(now, run.id);
        const detached = this.db
          .prepare(`SELECT 1 FROM executions WHERE run_id = ? AND status = 'detached' LIMIT 1`)
          .get(run.id);
        if (detached) this.db.prepare(`UPDATE runs SET owner_pid = NULL WHERE id = ?`).run(run.id);
        else this.db.prepare(`UPDATE runs SET status = 'failed', ended_at = ? WHERE id = ?`).run(now, run.id);
      }
      return orphans.length;
    });
  }

  /** Detached executions (oldest first): what reattachDetached picks up. */
  detachedExecutionIds(): string[] {
    return (
      this.db
        .prepare(`SELECT id FROM executions WHERE status = 'detached' ORDER BY started_at, id`)
        .all() as { id: string }[]
    ).map((r) => r.id);
  }

  /**
   * How many executions wait in the store to be started (status queued), by any process sharing it: the
   * queue depth monitoring reports. A real query (the status index), so it also shows the store answers.
   */
  async countQueued(): Promise<number> {
    const row = this.db.prepare(`SELECT count(*) AS n FROM executions WHERE status = 'queued'`).get() as {
      n: number | bigint;
    };
    return Number(row.n);
  }

  /** Whether an execution was started keep-running (its script may outlive the connection). */
  isKeepRunning(executionId: string): boolean {
    const row = this.db.prepare('SELECT keep_running FROM executions WHERE id = ?').get(executionId) as
      { keep_running: number } | undefined;
    return row?.keep_running === 1;
  }

  /**
   * Takes a detached execution over for this process: moves it to running (the status machine's guard:
   * of two processes reattaching at once, one wins) and makes this process its run's owner.
   * @throws CroniumError internal when it is not detached (see moveExecution).
   */
  claimDetached(executionId: string): Execution {
    return transaction(this.db, () => {
      const execution = this.moveExecution(executionId, 'running');
      this.db
        .prepare(`UPDATE runs SET owner_pid = ? WHERE id = ? AND status = 'running'`)
        .run(process.pid, execution.runId);
      return execution;
    });
  }
}
