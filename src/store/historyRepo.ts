import type {
  Execution,
  ExecutionStatus,
  LogChunk,
  LogStream,
  NotificationResult,
  ChainStep,
  ParamValue,
  Run,
  RunStatus,
} from '../core/domain.ts';
import { illegalMove, isFinal, movesInto } from '../core/executionStatus.ts';
import type { Database } from './database.ts';
import { transaction } from './database.ts';
import {
  executionFromRow,
  executionListQuery,
  PATCH_COLUMNS,
  type ExecutionFilter,
  type ExecutionPatch,
  type ExecutionRow,
  type RunRow,
} from './executionRows.ts';
import { PACK_FROM, packLogText, unpackLogText } from './logPacking.ts';

export { executionListQuery, type ExecutionFilter, type ExecutionPatch } from './executionRows.ts';

export class HistoryRepo {
  private readonly db: Database;

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
      | 'endedAt'
      | 'status'
      | 'notifications'
      | 'parentExecutionId'
      | 'chainDepth'
      | 'scheduleId'
      | 'params'
      | 'retryOf'
      | 'attempt'
    > &
      Partial<
        Pick<Run, 'parentExecutionId' | 'chainDepth' | 'scheduleId' | 'params' | 'retryOf' | 'attempt'>
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
             schedule_id, parent_execution_id, chain_depth, params, retry_of, attempt)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        );
      const insert = this.db.prepare(
        `INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, attempt, keep_running)
         VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
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
        );
    });
    return {
      ...run,
      input: run.input === undefined ? null : run.input,
      status: 'running',
      endedAt: null,
      executionIds: byName.map((e) => e.id),
      scheduleId: run.scheduleId ?? null,
      parentExecutionId: run.parentExecutionId ?? null,
      chainDepth: run.chainDepth ?? 0,
      notifications: [],
      params: run.params ?? {},
      retryOf: run.retryOf ?? null,
      attempt: run.attempt ?? 1,
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
    const ids = (
      this.db.prepare('SELECT id FROM executions WHERE run_id = ? ORDER BY server_name').all(id) as {
        id: string;
      }[]
    ).map((r) => r.id);
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
      executionIds: ids,
      parentExecutionId: row.parent_execution_id,
      chainDepth: row.chain_depth,
      notifications: JSON.parse(row.notifications) as NotificationResult[],
      params: JSON.parse(row.params) as Record<string, ParamValue>,
      retryOf: row.retry_of,
      attempt: row.attempt,
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
    const running = this.db.prepare(`SELECT id, owner_pid FROM runs WHERE status = 'running'`).all() as {
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

  /**
   * Ends a run whose executions have all reached a final status (after a reattach), with the status
   * `statusOf` gives them; returns the run as written, or null while one is still unfinished.
   */
  finishRunIfDone(
    runId: string,
    statusOf: (executions: Pick<Execution, 'status'>[]) => RunStatus,
  ): Run | null {
    const rows = this.db.prepare('SELECT status FROM executions WHERE run_id = ?').all(runId) as {
      status: ExecutionStatus;
    }[];
    if (rows.some((r) => !isFinal(r.status))) return null;
    this.finishRun(runId, statusOf(rows), Date.now());
    return this.getRun(runId);
  }

  /**
   * How much of each output stream of an execution the stored log holds, in characters (as decoded and
   * masked), and its last sequence number (-1: none): where a reattach takes the log up again.
   */
  storedLogExtent(executionId: string): { stdout: number; stderr: number; lastSeq: number } {
    const extent = { stdout: 0, stderr: 0, lastSeq: -1 };
    for (const chunk of this.readLog(executionId, -1, Number.MAX_SAFE_INTEGER)) {
      if (chunk.stream !== 'system') extent[chunk.stream] += chunk.text.length;
      extent.lastSeq = chunk.seq;
    }
    return extent;
  }

  readLog(executionId: string, afterSeq = -1, limit = 10_000): LogChunk[] {
    const rows = this.db
      .prepare(
        'SELECT seq, stream, ts, text, packed FROM log_chunks WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(executionId, afterSeq, limit) as {
      seq: number;
      stream: LogStream;
      ts: number;
      text: string;
      packed: Uint8Array | null;
    }[];
    return rows.map((r) => ({
      executionId,
      seq: r.seq,
      stream: r.stream,
      ts: r.ts,
      text: r.packed ? unpackLogText(r.packed) : r.text,
    }));
  }

  /**
   * Rewrites an execution's stored log through mask(): for secrets learned after their text was written
   * (bundled mode hears of a secret the script set only when it has ended). Chunks are masked one by one,
   * so a secret split across two stored chunks stays as it is. Returns how many chunks changed.
   */
  maskLog(executionId: string, mask: (text: string) => string): number {
    let changed = 0;
    const update = this.db.prepare(
      'UPDATE log_chunks SET text = ?, packed = ? WHERE execution_id = ? AND seq = ?',
    );
    transaction(this.db, () => {
      for (const chunk of this.readLog(executionId, -1, Number.MAX_SAFE_INTEGER)) {
        const masked = mask(chunk.text);
        if (masked === chunk.text) continue;
        // Kept in the form the writer uses: big chunks packed.
        const packed = masked.length >= PACK_FROM ? packLogText(masked) : null;
        update.run(packed ? '' : masked, packed, executionId, chunk.seq);
        changed++;
      }
    });
    return changed;
  }
}
