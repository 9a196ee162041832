import { randomUUID } from 'node:crypto';

import type { FireOutcome, RunStatus, Schedule, ScheduleMissed, ScheduleOverlap } from '../core/domain.ts';
import type { Sql } from './sql.ts';

/** A schedule as stored, before next occurrences are computed (see ScheduleService). */
export type ScheduleRecord = Omit<Schedule, 'nextFires'> & {
  /** The last occurrence (epoch ms) the scheduler has accounted for: later ones are due. */
  checkedUntil: number;
};

/** What a new schedule is written with. */
export type ScheduleWrite = Pick<
  ScheduleRecord,
  'name' | 'jobId' | 'cron' | 'timezone' | 'targets' | 'params' | 'input' | 'overlap' | 'missed' | 'enabled'
>;

interface ScheduleRow {
  id: string;
  name: string;
  job_id: string;
  job_name: string | null;
  cron: string;
  timezone: string | null;
  targets: string;
  params: string;
  input: string | null;
  overlap: ScheduleOverlap;
  missed: ScheduleMissed;
  enabled: number;
  checked_until: number;
  last_fire_at: number | null;
  last_outcome: FireOutcome | null;
  last_error: string | null;
  last_run_id: string | null;
  last_result: RunStatus | null;
  created_at: number;
  updated_at: number;
}

function fromRow(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    name: row.name,
    jobId: row.job_id,
    jobName: row.job_name,
    cron: row.cron,
    timezone: row.timezone,
    targets: JSON.parse(row.targets) as string[],
    params: JSON.parse(row.params) as ScheduleRecord['params'],
    input: row.input === null ? null : (JSON.parse(row.input) as unknown),
    overlap: row.overlap,
    missed: row.missed,
    enabled: row.enabled === 1,
    checkedUntil: row.checked_until,
    lastFireAt: row.last_fire_at,
    lastOutcome: row.last_outcome,
    lastError: row.last_error,
    lastRunId: row.last_run_id,
    lastResult: row.last_result,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// The job's current name and the last run's status come along in one read.
const SELECT = `SELECT s.*, j.name AS job_name, r.status AS last_result
  FROM schedules s LEFT JOIN jobs j ON j.id = s.job_id LEFT JOIN runs r ON r.id = s.last_run_id`;

/** One occurrence handled: the row whose primary key (schedule, occurrence) makes each fire happen once. */
export interface FireClaim {
  scheduleId: string;
  fireAt: number;
  holder: string;
  outcome: FireOutcome;
  /** True when the occurrence was handled late (after a gap), under the missed-fire policy. */
  missed: boolean;
  message?: string | null;
}

/**
 * The schedules (table `schedules`) and their handled occurrences (`schedule_fires`). Built on a database
 * or on a transaction's `tx` (the scheduler claims occurrences inside its own transaction).
 */
export class ScheduleRepo {
  private readonly db: Sql;

  constructor(db: Sql) {
    this.db = db;
  }

  async list(): Promise<ScheduleRecord[]> {
    return (await this.db.all<ScheduleRow>(`${SELECT} ORDER BY lower(s.name), s.name`)).map(fromRow);
  }

  async get(id: string): Promise<ScheduleRecord | null> {
    const row = await this.db.get<ScheduleRow>(`${SELECT} WHERE s.id = ?`, [id]);
    return row ? fromRow(row) : null;
  }

  async getByName(name: string): Promise<ScheduleRecord | null> {
    const row = await this.db.get<ScheduleRow>(`${SELECT} WHERE lower(s.name) = lower(?)`, [name]);
    return row ? fromRow(row) : null;
  }

  /** Inserts a schedule whose occurrences count from `now` (ms) on. */
  async insert(data: ScheduleWrite, now: number): Promise<ScheduleRecord> {
    const id = randomUUID();
    await this.db.run(
      `INSERT INTO schedules (id, name, job_id, cron, timezone, targets, params, input, overlap, missed, enabled,
         checked_until, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        data.name,
        data.jobId,
        data.cron,
        data.timezone,
        JSON.stringify(data.targets),
        JSON.stringify(data.params),
        data.input === null || data.input === undefined ? null : JSON.stringify(data.input),
        data.overlap,
        data.missed,
        data.enabled ? 1 : 0,
        now,
        now,
        now,
      ],
    );
    return (await this.get(id))!;
  }

  async remove(id: string): Promise<void> {
    await this.db.run('DELETE FROM schedules WHERE id = ?', [id]);
  }

  /**
   * Pauses or resumes. Resuming counts occurrences from `now` on, so those that passed while paused are
   * neither fired nor missed.
   */
  async setEnabled(id: string, enabled: boolean, now: number): Promise<void> {
    // CASE, not MAX(a, b): SQLite's two-argument MAX is GREATEST in PostgreSQL; CASE is both.
    if (enabled)
      await this.db.run(
        `UPDATE schedules SET enabled = 1, checked_until = CASE WHEN checked_until > ? THEN checked_until ELSE ? END,
           updated_at = ? WHERE id = ? AND enabled = 0`,
        [now, now, now, id],
      );
    else await this.db.run('UPDATE schedules SET enabled = 0, updated_at = ? WHERE id = ?', [now, id]);
  }

  /** Moves a schedule's accounting forward to `until` (never back). */
  async advance(id: string, until: number): Promise<void> {
    await this.db.run(
      'UPDATE schedules SET checked_until = CASE WHEN checked_until > ? THEN checked_until ELSE ? END WHERE id = ?',
      [until, until, id],
    );
  }

  /**
   * Claims one occurrence: inserts its row unless one exists. True when this call claimed it (no other
   * process, nor this one, handled that occurrence before). Call inside the caller's transaction.
   */
  async claim(fire: FireClaim, now: number): Promise<boolean> {
    const result = await this.db.run(
      `INSERT INTO schedule_fires (schedule_id, fire_at, holder, outcome, missed, message, claimed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (schedule_id, fire_at) DO NOTHING`,
      [
        fire.scheduleId,
        fire.fireAt,
        fire.holder,
        fire.outcome,
        fire.missed ? 1 : 0,
        fire.message ?? null,
        now,
      ],
    );
    if (result.changes === 1)
      await this.noteLast(fire.scheduleId, fire.fireAt, fire.outcome, null, fire.message);
    return result.changes === 1;
  }

  /** Records what became of a claimed occurrence, on the fire row and as the schedule's last. */
  async settle(
    scheduleId: string,
    fireAt: number,
    outcome: FireOutcome,
    runId: string | null,
    message: string | null,
  ): Promise<void> {
    await this.db.run(
      'UPDATE schedule_fires SET outcome = ?, run_id = ?, message = ? WHERE schedule_id = ? AND fire_at = ?',
      [outcome, runId, message, scheduleId, fireAt],
    );
    await this.noteLast(scheduleId, fireAt, outcome, runId, message ?? null);
  }

  private async noteLast(
    scheduleId: string,
    fireAt: number,
    outcome: FireOutcome,
    runId: string | null,
    message: string | null | undefined,
  ): Promise<void> {
    // A run id, once there, stays until a later fire starts another run: "last result" is the last run's.
    await this.db.run(
      `UPDATE schedules SET last_fire_at = ?, last_outcome = ?, last_error = ?,
         last_run_id = COALESCE(?, last_run_id) WHERE id = ? AND (last_fire_at IS NULL OR last_fire_at <= ?)`,
      [fireAt, outcome, outcome === 'error' ? (message ?? null) : null, runId, scheduleId, fireAt],
    );
  }

  /** The fires of a schedule, newest first (for `schedule show` and tests). */
  async fires(
    scheduleId: string,
    limit = 20,
  ): Promise<
    {
      fireAt: number;
      holder: string;
      outcome: FireOutcome;
      runId: string | null;
      message: string | null;
      missed: boolean;
    }[]
  > {
    const rows = await this.db.all<{
      fire_at: number;
      holder: string;
      outcome: FireOutcome;
      run_id: string | null;
      message: string | null;
      missed: number;
    }>(
      'SELECT fire_at, holder, outcome, run_id, message, missed FROM schedule_fires WHERE schedule_id = ? ORDER BY fire_at DESC LIMIT ?',
      [scheduleId, limit],
    );
    return rows.map((r) => ({
      fireAt: r.fire_at,
      holder: r.holder,
      outcome: r.outcome,
      runId: r.run_id,
      message: r.message,
      missed: r.missed === 1,
    }));
  }

  /** The owner processes of this schedule's runs still marked running (for the overlap rule). */
  async runningOwners(scheduleId: string): Promise<{ runId: string; ownerPid: number | null }[]> {
    return (
      await this.db.all<{ id: string; owner_pid: number | null }>(
        `SELECT id, owner_pid FROM runs WHERE schedule_id = ? AND status = 'running'`,
        [scheduleId],
      )
    ).map((r) => ({ runId: r.id, ownerPid: r.owner_pid }));
  }
}

/** The scheduler lease: which process fires schedules, until when (one row, name `scheduler`). */
export class LeaseRepo {
  private readonly db: Sql;
  private readonly name: string;

  constructor(db: Sql, name = 'scheduler') {
    this.db = db;
    this.name = name;
  }

  async current(): Promise<{ holder: string; expiresAt: number } | null> {
    const row = await this.db.get<{ holder: string; expires_at: number }>(
      'SELECT holder, expires_at FROM scheduler_lease WHERE name = ?',
      [this.name],
    );
    return row ? { holder: row.holder, expiresAt: row.expires_at } : null;
  }

  /**
   * Takes or renews the lease for `holder` until `expiresAt` when it is free, expired (at `now`) or already
   * `holder`'s. Call inside a write transaction (BEGIN IMMEDIATE), so two processes cannot both take it.
   * Returns true when `holder` holds it afterwards.
   */
  async acquire(holder: string, now: number, expiresAt: number): Promise<boolean> {
    const result = await this.db.run(
      `INSERT INTO scheduler_lease (name, holder, expires_at, acquired_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET
         acquired_at = CASE WHEN scheduler_lease.holder = excluded.holder THEN scheduler_lease.acquired_at ELSE excluded.acquired_at END,
         holder = excluded.holder, expires_at = excluded.expires_at
       WHERE scheduler_lease.holder = excluded.holder OR scheduler_lease.expires_at <= ?`,
      [this.name, holder, expiresAt, now, now],
    );
    return result.changes === 1;
  }

  /** Gives the lease up (when `holder` has it), so another process takes over at once. */
  async release(holder: string): Promise<void> {
    await this.db.run('DELETE FROM scheduler_lease WHERE name = ? AND holder = ?', [this.name, holder]);
  }
}
