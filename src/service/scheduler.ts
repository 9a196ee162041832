/**
 * Fires schedules. Every process that fires them (the daemon, the desktop app, browser mode) runs one
 * Scheduler; processes sharing a data directory agree through the store alone:
 *
 * - **One firing process**: the `scheduler_lease` row names a holder and an expiry. Only its holder fires;
 *   it renews the lease while it runs and deletes it when it stops. The others look every `pollMs` and
 *   take the lease once it has expired (its holder died, e.g. SIGKILL): within `leaseMs` + `pollMs`.
 * - **Each occurrence once**: an occurrence is fired only by inserting its `(schedule, occurrence)` row in
 *   schedule_fires, in a write transaction that checks the lease; its run starts right after, and the
 *   run's id is settled on that row. A second process (a holder that stalled past its lease while another
 *   took over) finds the row and does nothing. A process that dies in between leaves a claimed occurrence
 *   without a run, and one that dies during the run leaves a run the next process marks failed
 *   (orphans): at most once, never twice.
 * - **Missed occurrences**: each schedule keeps the last occurrence accounted for (`checked_until`). The
 *   occurrences since then are due. The newest, when it is at most `misfireGraceMs` old, is on time and
 *   fires; the rest were missed (no process was firing: a laptop asleep, the app closed, a holder that
 *   died). Policy `skip` drops them, `run-once` fires one run for all of them (for the newest) unless an on-time
 *   one fires anyway. So a gap of any length gives one run or none, never one per occurrence.
 * - **Overlap**: `skip` records an occurrence as skipped while a run the schedule started is still running
 *   in a live process; `allow` starts another.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

import type { SchedulerControl } from '../contract.ts';
import { compileCron, type CronTimes } from '../core/cron.ts';
import type { Run } from '../core/domain.ts';
import { toErrorValue } from '../core/errors.ts';
import { log } from '../core/logger.ts';
import { LeaseRepo, type ScheduleRecord, ScheduleRepo } from '../store/scheduleRepo.ts';
import type { Sql } from '../store/sql.ts';

/** How long a lease lasts unless renewed (ms): a dead holder is replaced within this (plus pollMs). */
export const LEASE_MS = 10_000;
/** How late an occurrence may fire and still count as on time (ms); later ones are missed. */
export const MISFIRE_GRACE_MS = 10_000;
/** The longest the scheduler sleeps between looks at the store (ms). */
export const POLL_MS = 1_000;
/** Missed occurrences counted one by one at most (a per-second schedule after a long gap). */
const COUNT_LIMIT = 1000;

export interface SchedulerDeps {
  db: Sql;
  schedules: ScheduleRepo;
  leases: LeaseRepo;
  /** Starts a run (RunService.start; throws for a request it refuses). */
  startRun(request: Record<string, unknown>): Promise<Run>;
  /** Resolves when a run has finished (for the log). */
  waitRun(runId: string): Promise<Run>;
  /** Whether a process is alive (the overlap rule ignores runs whose owner died). */
  isAlive(pid: number): boolean;
  /** Called when this process takes the lease (marks runs of dead processes failed). */
  onTakeover?(): Promise<unknown>;
  /** The clock, epoch ms (tests pass their own and call tick()). */
  now?: () => number;
  holderId?: string;
  leaseMs?: number;
  misfireGraceMs?: number;
  pollMs?: number;
}

/** What one look at a schedule decided (inside its transaction). */
type Decision =
  | { kind: 'none' }
  | { kind: 'started'; run: Run; fireAt: number; late: boolean; missed: number }
  | { kind: 'skipped'; why: string; fireAt: number }
  | { kind: 'error'; message: string; fireAt: number };

/** An occurrence claimed to fire now (the decision's transaction has ended; the run starts after it). */
interface Fire {
  kind: 'fire';
  schedule: ScheduleRecord;
  fireAt: number;
  onTime: boolean;
  missed: number;
  missedText: string;
}

export class Scheduler implements SchedulerControl {
  readonly holderId: string;
  private readonly deps: SchedulerDeps;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly graceMs: number;
  private readonly pollMs: number;
  private readonly compiled = new Map<string, CronTimes>();
  private held = false;
  private stopped = false;
  private started = false;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private nextDue: number | null = null;

  constructor(deps: SchedulerDeps) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.holderId = deps.holderId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.leaseMs = deps.leaseMs ?? LEASE_MS;
    this.graceMs = deps.misfireGraceMs ?? MISFIRE_GRACE_MS;
    this.pollMs = deps.pollMs ?? POLL_MS;
  }

  get holding(): boolean {
    return this.held;
  }

  /** Starts the loop: a tick now, then at each due occurrence (at most pollMs apart). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    log().info({ holder: this.holderId }, 'scheduler started');
    const loop = () => {
      this.timer = null;
      if (this.stopped) return;
      this.current = this.tick()
        .catch((err: unknown) => log().error({ err }, 'scheduler tick failed'))
        .finally(() => {
          this.current = null;
          if (!this.stopped) this.timer = setTimeout(loop, this.delay());
        });
    };
    loop();
  }

  /** Stops firing and gives the lease up; runs already started go on (close() cancels them). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
    if (this.held) {
      try {
        await this.deps.leases.release(this.holderId);
      } catch (err) {
        log().warn({ err }, 'could not give the scheduler lease up');
      }
      this.held = false;
      log().info({ holder: this.holderId }, 'scheduler stopped; lease given up');
    }
  }

  /** The time until the next look: the next due occurrence, but at most pollMs. */
  private delay(): number {
    if (!this.held || this.nextDue === null) return this.pollMs;
    return Math.max(0, Math.min(this.pollMs, this.nextDue - this.now() + 5));
  }

  /** One look at the store: take or renew the lease, then fire what is due. Exposed for tests. */
  async tick(): Promise<void> {
    const now = this.now();
    if (!(await this.ensureLease(now))) return;
    this.nextDue = null;
    for (const schedule of await this.deps.schedules.list()) {
      if (!schedule.enabled || this.stopped) continue;
      let decision: Decision;
      try {
        decision = await this.consider(schedule.id, now);
      } catch (err) {
        log().error(
          { err, schedule: schedule.name },
          `schedule ${schedule.name}: ${toErrorValue(err).message}`,
        );
        continue;
      }
      this.report(schedule, decision);
      const next = this.times(schedule)?.next(now) ?? null;
      if (next !== null && (this.nextDue === null || next < this.nextDue)) this.nextDue = next;
    }
  }

  /** Takes, keeps or renews the lease; true while this process holds it. */
  private async ensureLease(now: number): Promise<boolean> {
    const { leases } = this.deps;
    const lease = await leases.current();
    const mine = lease?.holder === this.holderId;
    // Renewed when half its time is used, so a busy store is written rarely.
    if (mine && lease.expiresAt - now > this.leaseMs / 2) return (this.held = true);
    if (!mine && lease && lease.expiresAt > now) {
      if (this.held) log().warn({ holder: lease.holder }, 'the scheduler lease was taken over');
      return (this.held = false);
    }
    const got = await this.deps.db.transaction((tx) =>
      new LeaseRepo(tx).acquire(this.holderId, now, now + this.leaseMs),
    );
    if (got && !this.held) {
      log().info(
        { holder: this.holderId, previous: lease?.holder ?? null },
        lease && !mine ? `took the scheduler lease over from ${lease.holder}` : 'holding the scheduler lease',
      );
      await this.deps.onTakeover?.();
    }
    return (this.held = got);
  }

  private times(schedule: Pick<ScheduleRecord, 'cron' | 'timezone'>): CronTimes | null {
    const key = `${schedule.timezone ?? ''}\u0000${schedule.cron}`;
    let times = this.compiled.get(key);
    if (!times) {
      try {
        times = compileCron(schedule.cron, schedule.timezone);
      } catch {
        return null;
      }
      this.compiled.set(key, times);
    }
    return times;
  }

  /**
   * Decides about one schedule's due occurrences and acts. The decision and the claim of the occurrence
   * are one write transaction that first checks this process still holds the lease; the run starts after
   * it (starting one reads and writes the store, which a transaction's outside statements cannot while
   * it is open) and its id is then settled on the claimed occurrence. A process that dies between the
   * two leaves a claimed occurrence without a run: at most once, never twice.
   */
  private async consider(id: string, now: number): Promise<Decision> {
    const claim = await this.deps.db.transaction(async (tx): Promise<Decision | Fire> => {
      const schedules = new ScheduleRepo(tx);
      const lease = await new LeaseRepo(tx).current();
      if (lease?.holder !== this.holderId || lease.expiresAt <= now) {
        this.held = false;
        return { kind: 'none' };
      }
      const s = await schedules.get(id);
      if (!s || !s.enabled) return { kind: 'none' };
      const times = this.times(s);
      if (!times) throw new Error(`cannot read its cron expression "${s.cron}"`);
      const first = times.next(s.checkedUntil);
      if (first === null || first > now) return { kind: 'none' };
      const latest = times.previous(now + 1) ?? first;
      let due = 0;
      for (let t: number | null = first; t !== null && t <= latest && due < COUNT_LIMIT; t = times.next(t))
        due++;
      await schedules.advance(s.id, latest);
      const onTime = now - latest <= this.graceMs;
      const missed = onTime ? due - 1 : due;
      const missedText = `${missed}${due >= COUNT_LIMIT ? ' or more' : ''} missed occurrence${missed === 1 ? '' : 's'}`;
      if (!onTime && s.missed === 'skip') {
        const claimed = await schedules.claim(
          {
            scheduleId: s.id,
            fireAt: latest,
            holder: this.holderId,
            outcome: 'skipped_missed',
            missed: true,
            message: `${missedText} skipped (policy skip)`,
          },
          now,
        );
        return claimed
          ? { kind: 'skipped', why: `${missedText} skipped (policy skip)`, fireAt: latest }
          : { kind: 'none' };
      }
      const claimed = await schedules.claim(
        { scheduleId: s.id, fireAt: latest, holder: this.holderId, outcome: 'started', missed: !onTime },
        now,
      );
      if (!claimed) return { kind: 'none' };
      if (s.overlap === 'skip') {
        const busy = (await schedules.runningOwners(s.id)).find(
          (r) => r.ownerPid !== null && (r.ownerPid === process.pid || this.deps.isAlive(r.ownerPid)),
        );
        if (busy) {
          const why = `its run ${busy.runId.slice(0, 8)} is still running (overlap skip)`;
          await schedules.settle(s.id, latest, 'skipped_overlap', null, why);
          return { kind: 'skipped', why, fireAt: latest };
        }
      }
      return { kind: 'fire', schedule: s, fireAt: latest, onTime, missed, missedText };
    });
    if (claim.kind !== 'fire') return claim;
    const { schedule: s, fireAt: latest, onTime, missed, missedText } = claim;
    const { schedules } = this.deps;
    let run: Run;
    try {
      run = await this.deps.startRun({
        jobId: s.jobId,
        // Empty targets: the job's default servers, read now (they may have changed since).
        serverIds: s.targets.length ? s.targets : await this.jobDefaults(s.jobId),
        ...(s.input === null ? {} : { input: s.input }),
        ...(Object.keys(s.params).length ? { params: s.params } : {}),
        trigger: 'schedule',
        scheduleId: s.id,
      });
    } catch (err) {
      const message = toErrorValue(err).message;
      await schedules.settle(s.id, latest, 'error', null, message);
      return { kind: 'error', message, fireAt: latest };
    }
    const note = onTime ? (missed ? `${missedText} before it skipped` : null) : `run once for ${missedText}`;
    await schedules.settle(s.id, latest, 'started', run.id, note);
    return { kind: 'started', run, fireAt: latest, late: !onTime, missed };
  }

  private async jobDefaults(jobId: string): Promise<string[]> {
    const row = await this.deps.db.get<{ default_server_ids: string }>(
      'SELECT default_server_ids FROM jobs WHERE id = ?',
      [jobId],
    );
    return row ? (JSON.parse(row.default_server_ids) as string[]) : [];
  }

  /** Says in the log what became of an occurrence, and later how its run ended. */
  private report(s: ScheduleRecord, d: Decision): void {
    if (d.kind === 'none') return;
    const at = new Date(d.fireAt).toISOString();
    const fields = { schedule: s.name, fireAt: at };
    if (d.kind === 'skipped') log().info(fields, `schedule ${s.name}: occurrence ${at} skipped: ${d.why}`);
    else if (d.kind === 'error')
      log().warn(fields, `schedule ${s.name}: occurrence ${at} could not start: ${d.message}`);
    else {
      const late = d.late ? ` (once for ${d.missed} missed occurrence${d.missed === 1 ? '' : 's'})` : '';
      const skipped = !d.late && d.missed > 0 ? ` (${d.missed} missed before it skipped)` : '';
      log().info(
        { ...fields, runId: d.run.id },
        `schedule ${s.name}: started run ${d.run.id} of ${d.run.jobName}${late}${skipped}`,
      );
      // Only for the log: the run's own end is written by whoever runs it.
      void this.deps.waitRun(d.run.id).then(
        (run) =>
          log().info(
            { ...fields, runId: run.id, status: run.status },
            `schedule ${s.name}: run ${run.id} ${run.status}`,
          ),
        (err: unknown) => log().warn({ err, ...fields }, `schedule ${s.name}: run ${d.run.id} lost`),
      );
    }
  }
}
