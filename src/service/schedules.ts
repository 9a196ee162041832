/** Saved schedules: a job, a cron expression in a time zone, targets, parameters, input and policies. */
import { parseInput, scheduleInputSchema } from '../contract.ts';
import { compileCron } from '../core/cron.ts';
import type { Schedule, ScheduleFire } from '../core/domain.ts';
import { invalidInput } from '../core/errors.ts';
import { resolveParams } from '../core/rules.ts';
import { type ScheduleRecord, ScheduleRepo } from '../store/scheduleRepo.ts';
import type { ServerRecord } from '../store/serverRepo.ts';
import type { Sql } from '../store/sql.ts';
import type { JobService } from './jobs.ts';
import { findRef, resolveRef, writeUniqueName, type RefSource } from './refs.ts';
// How a target names a tag of servers: the run's rule (expanded when a run starts).
import { TAG_PREFIX as TAG_TARGET } from './runInputs.ts';

/** How many next occurrences a schedule shows. */
const NEXT_FIRES = 3;

export interface ScheduleServiceDeps {
  db: Sql;
  repo: ScheduleRepo;
  jobs: JobService;
  /** How targets name servers (see ServerService.refs). */
  serverRefs: RefSource<ServerRecord>;
  /** The clock (epoch ms); tests pass their own. */
  now?: () => number;
}

/** A schedule as clients see it: its next occurrences computed now, the scheduler's bookkeeping left out. */
export function publicSchedule(record: ScheduleRecord, now: number): Schedule {
  const { checkedUntil: _checkedUntil, ...rest } = record;
  const nextFires: number[] = [];
  if (record.enabled) {
    try {
      const times = compileCron(record.cron, record.timezone);
      for (let t = times.next(now); t !== null && nextFires.length < NEXT_FIRES; t = times.next(t))
        nextFires.push(t);
    } catch {
      // An expression stored by a newer croner, or a zone this system lost: shown without next times.
    }
  }
  return { ...rest, nextFires };
}

export class ScheduleService {
  private readonly deps: ScheduleServiceDeps;
  private readonly refs: RefSource<ScheduleRecord> & { byName(name: string): Promise<ScheduleRecord | null> };
  private readonly now: () => number;

  constructor(deps: ScheduleServiceDeps) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.refs = {
      noun: 'schedule',
      byId: (id) => deps.repo.get(id),
      byName: (name) => deps.repo.getByName(name),
    };
  }

  async list(): Promise<Schedule[]> {
    const records = await this.deps.repo.list();
    const now = this.now();
    return records.map((r) => publicSchedule(r, now));
  }

  /** @throws CroniumError not_found. */
  record(ref: string): Promise<ScheduleRecord> {
    return resolveRef(ref, this.refs);
  }

  /** @throws CroniumError not_found. */
  async get(ref: string): Promise<Schedule> {
    return publicSchedule(await this.record(ref), this.now());
  }

  /**
   * Validates and saves a schedule. Server targets are stored by id (a renamed server stays targeted);
   * `tag:NAME` targets as written, expanded when each run starts.
   * @throws CroniumError invalid_input per field, not_found for the job.
   */
  async create(input: unknown): Promise<Schedule> {
    const data = parseInput(scheduleInputSchema, input);
    const job = await this.deps.jobs.record(data.jobId);
    const fields: Record<string, string> = {};
    const targets: string[] = [];
    for (const [i, target] of data.targets.entries()) {
      if (target.startsWith(TAG_TARGET)) {
        if (target.length === TAG_TARGET.length) fields[`targets.${i}`] = 'tag: needs a tag name';
        else targets.push(target);
        continue;
      }
      const server = await findRef(target, this.deps.serverRefs);
      if (!server) fields[`targets.${i}`] = `no server named "${target}"`;
      else targets.push(server.id);
    }
    if (new Set(targets).size !== targets.length) fields.targets = 'a server is listed twice';
    if (data.targets.length === 0 && job.defaultServerIds.length === 0)
      fields.targets = `say where to run it: ${job.name} has no default servers`;
    // The parameters are checked against the job's declaration now, as `run --set` is (a fire would fail).
    const checked = resolveParams(job.params, data.params);
    if ('errors' in checked) Object.assign(fields, checked.errors);
    if (Object.keys(fields).length) throw invalidInput(fields);
    const now = this.now();
    const record = await writeUniqueName(
      this.deps.db,
      'schedule',
      (tx) => new ScheduleRepo(tx),
      data.name,
      null,
      (repo) =>
        repo.insert(
          {
            name: data.name,
            jobId: job.id,
            cron: data.cron,
            timezone: data.timezone,
            targets,
            params: data.params,
            input: data.input ?? null,
            overlap: data.overlap,
            missed: data.missed,
            enabled: data.enabled,
          },
          now,
        ),
    );
    return publicSchedule(record, now);
  }

  /** @throws CroniumError not_found. */
  async remove(ref: string): Promise<void> {
    await this.deps.repo.remove((await this.record(ref)).id);
  }

  /** The last 20 handled occurrences, newest first. @throws CroniumError not_found. */
  async fires(ref: string): Promise<ScheduleFire[]> {
    return this.deps.repo.fires((await this.record(ref)).id, 20);
  }

  /** @throws CroniumError not_found. */
  async setEnabled(ref: string, enabled: boolean): Promise<Schedule> {
    const { id } = await this.record(ref);
    await this.deps.repo.setEnabled(id, enabled, this.now());
    return publicSchedule((await this.deps.repo.get(id))!, this.now());
  }
}
