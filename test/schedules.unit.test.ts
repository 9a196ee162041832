/**
 * Schedules and the scheduler with an injected clock (no SSH): cron rules through croner, missed fires
 * (one run or none after a gap, never one per occurrence), overlap, pause, the lease and the per-occurrence
 * claim that keep two processes from firing the same occurrence. Real processes and hosts:
 * test/realServers.schedules.test.ts.
 */
import { afterEach, expect, it } from 'vitest';

import type { Run } from '../src/core/domain.ts';
import { CroniumError } from '../src/core/errors.ts';
import { Scheduler } from '../src/service/scheduler.ts';
import type { SqlDatabase } from '../src/store/sql.ts';
import { HistoryRepo } from '../src/store/historyRepo.ts';
import { JobRepo } from '../src/store/jobRepo.ts';
import { LeaseRepo, ScheduleRepo } from '../src/store/scheduleRepo.ts';
import { describeEngines, type EngineUnderTest } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MIN = 60_000;
/** 2026-03-02T10:00:00Z: a whole minute, so minute schedules fall on round offsets from it. */
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);

/** A store with one job, and a "process": its own connection, clock and scheduler, runs recorded only. */
async function world({ openStore }: EngineUnderTest) {
  const dir = tempDir();
  const main = await openStore({ dataDir: dir.path });
  cleanups.push(async () => {
    await main.close();
    dir.remove();
  });
  const job = await new JobRepo(main).insert({
    name: 'tick',
    language: 'bash',
    script: 'true',
    timeoutSec: 60,
    env: [],
    defaultInput: null,
    defaultServerIds: ['srv'],
    helperMode: 'auto',
    tags: [],
    chain: [],
    desktopNotify: 'never',
    webhook: null,
    params: [],
    keepRunning: false,
    defaultVia: 'direct',
  });
  const repo = new ScheduleRepo(main);
  const clock = { now: T0 };

  /** One process on the store: the runs it "starts" are rows only, left running until finish(). */
  const process = async (holderId: string, graceMs?: number) => {
    const db: SqlDatabase = await openStore({ dataDir: dir.path });
    cleanups.push(() => db.close());
    const history = new HistoryRepo(db);
    const started: (Run & { request: Record<string, unknown> })[] = [];
    const scheduler = new Scheduler({
      db,
      schedules: new ScheduleRepo(db),
      leases: new LeaseRepo(db),
      startRun: async (request) => {
        const id = `run-${holderId}-${started.length}`;
        await history.createRun(
          {
            id,
            jobId: String(request.jobId),
            jobName: 'tick',
            input: request.input ?? null,
            trigger: request.trigger as Run['trigger'],
            scheduleId: request.scheduleId as string,
            concurrency: 1,
            helperMode: 'auto',
            startedAt: clock.now,
          },
          [],
        );
        const run = { ...(await history.getRun(id))!, request };
        started.push(run);
        return run;
      },
      waitRun: () => new Promise<Run>(() => {}),
      isAlive: () => true,
      now: () => clock.now,
      holderId,
      misfireGraceMs: graceMs,
    });
    const finish = async (runId: string) => await history.finishRun(runId, 'succeeded', clock.now);
    return { scheduler, started, finish };
  };

  const schedule = async (over: Partial<Parameters<ScheduleRepo['insert']>[0]> = {}, at = T0) =>
    await repo.insert(
      {
        name: `s${Math.random().toString(36).slice(2, 8)}`,
        jobId: job.id,
        cron: '* * * * *',
        timezone: 'UTC',
        targets: ['srv'],
        params: {},
        input: null,
        overlap: 'allow',
        missed: 'skip',
        enabled: true,
        ...over,
      },
      at,
    );
  return { main, repo, clock, process, schedule, job };
}

describeEngines('cron expressions and time zones (croner)', (e) => {
  const service = async () => {
    const dir = tempDir();
    const s = await e.openService({ dataDir: dir.path, keychain: null, runtimePort: 0 });
    cleanups.push(async () => {
      await s.close();
      dir.remove();
    });
    await s.createServer({ name: 'web1', host: '10.9.9.9', username: 'u', auth: { type: 'agent' } });
    await s.createJob({ name: 'j', language: 'bash', script: 'true' });
    return s;
  };

  it('takes 5 fields, 6 with seconds first, nicknames and time zones, and computes the next fires', async () => {
    const s = await service();
    const before = Date.now();
    const five = await s.createSchedule({
      name: 'five',
      jobId: 'j',
      cron: '*/15 * * * *',
      targets: ['web1'],
    });
    expect(five.nextFires).toHaveLength(3);
    expect(five.nextFires[1]! - five.nextFires[0]!).toBe(15 * MIN);
    expect(new Date(five.nextFires[0]!).getUTCMinutes() % 15).toBe(0);
    expect(five.nextFires[0]!).toBeGreaterThan(before);

    const six = await s.createSchedule({ name: 'six', jobId: 'j', cron: '*/2 * * * * *', targets: ['web1'] });
    expect(six.nextFires[1]! - six.nextFires[0]!).toBe(2000);
    expect(new Date(six.nextFires[0]!).getUTCSeconds() % 2).toBe(0);

    const hourly = await s.createSchedule({ name: 'hourly', jobId: 'j', cron: '@hourly', targets: ['web1'] });
    expect(hourly.nextFires.map((t) => new Date(t).getUTCMinutes())).toEqual([0, 0, 0]);

    // 09:00 in New York is 13:00 or 14:00 UTC (DST); in Kolkata (UTC+5:30, no DST) 03:30 UTC.
    const ny = await s.createSchedule({
      name: 'ny',
      jobId: 'j',
      cron: '0 9 * * *',
      timezone: 'America/New_York',
      targets: ['web1'],
    });
    const hoursUtc = ny.nextFires.map((t) => new Date(t).getUTCHours());
    for (const h of hoursUtc) expect([13, 14]).toContain(h);
    const india = await s.createSchedule({
      name: 'india',
      jobId: 'j',
      cron: '0 9 * * *',
      timezone: 'Asia/Kolkata',
      targets: ['web1'],
    });
    expect(india.nextFires.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual([
      '03:30',
      '03:30',
      '03:30',
    ]);
    expect((await s.getSchedule('india')).targets).toEqual([(await s.getServer('web1')).id]);
  });

  it.each([
    ['61 * * * *', 'cron', /minute: 61/],
    ['* * * *', 'cron', /it has 4 fields: use 5 \(minute hour day month weekday\), or 6 with seconds first/],
    ['* * * * * * *', 'cron', /it has 7 fields/],
    ['2030-01-01T00:00:00', 'cron', /a date is not a cron expression/],
    ['@reboot', 'cron', /reboot/],
  ])('refuses the expression %j, saving nothing', async (cron, field, message) => {
    const s = await service();
    const error = await (async () => {
      try {
        await s.createSchedule({ name: 'bad', jobId: 'j', cron, targets: ['web1'] });
      } catch (err) {
        return err as CroniumError;
      }
      throw new Error('accepted');
    })();
    expect(error.kind).toBe('invalid_input');
    expect(error.fields?.[field]).toMatch(message);
    expect(await s.listSchedules()).toEqual([]);
  });

  it('refuses an unknown zone, unknown servers, missing targets and bad policies, per field', async () => {
    const s = await service();
    const fields = async (input: Record<string, unknown>) => {
      try {
        await s.createSchedule({ name: 'x', jobId: 'j', cron: '* * * * *', ...input });
      } catch (err) {
        return (err as CroniumError).fields;
      }
      throw new Error('accepted');
    };
    expect(await fields({ timezone: 'Mars/Olympus', targets: ['web1'] })).toMatchObject({
      timezone: expect.stringMatching(/time zone/),
    });
    expect(await fields({ targets: ['nope'] })).toEqual({ 'targets.0': 'no server named "nope"' });
    expect(await fields({})).toEqual({ targets: 'say where to run it: j has no default servers' });
    expect(await fields({ targets: ['web1'], overlap: 'maybe', missed: 'all' })).toEqual({
      overlap: 'overlap is skip or allow',
      missed: 'missed is skip or run-once',
    });
    await expect(s.createSchedule({ name: 'x', jobId: 'nojob', cron: '* * * * *' })).rejects.toThrow(
      /No job named/,
    );
    // A tag target is kept as written (expanded when each run starts).
    expect(
      (await s.createSchedule({ name: 'x', jobId: 'j', cron: '* * * * *', targets: ['tag:prod'] })).targets,
    ).toEqual(['tag:prod']);
    expect((await s.listSchedules()).map((x) => x.name)).toEqual(['x']);
    // A schedule goes with its job.
    await s.removeJob('j');
    expect(await s.listSchedules()).toEqual([]);
  });
});

describeEngines('the scheduler (injected clock)', (e) => {
  it('fires an occurrence on time, once, with trigger schedule and its schedule id', async () => {
    const w = await world(e);
    const s = await w.schedule({ input: { from: 'schedule' }, params: { region: 'eu' } });
    const p = await w.process('a');
    w.clock.now = T0 + 30_000;
    await p.scheduler.tick();
    expect(p.started).toHaveLength(0); // nothing due before 10:01
    w.clock.now = T0 + MIN + 200;
    await p.scheduler.tick();
    await p.scheduler.tick();
    expect(p.started).toHaveLength(1);
    expect(p.started[0]).toMatchObject({ trigger: 'schedule', scheduleId: s.id });
    expect(p.started[0]!.request).toMatchObject({
      jobId: w.job.id,
      serverIds: ['srv'],
      input: { from: 'schedule' },
      params: { region: 'eu' },
    });
    expect(await w.repo.get(s.id)).toMatchObject({
      lastFireAt: T0 + MIN,
      lastOutcome: 'started',
      lastRunId: p.started[0]!.id,
      lastResult: 'running',
    });
  });

  it.each([
    ['run-once', 1],
    ['skip', 0],
  ] as const)(
    'after a gap of 3 occurrences, policy %s runs %i time(s), and not again',
    async (missed, runs) => {
      const w = await world(e);
      const s = await w.schedule({ missed });
      const p = await w.process('a');
      // Asleep from 10:00 to 10:03:30: 10:01, 10:02 and 10:03 passed; the last is 30 s late.
      w.clock.now = T0 + 3 * MIN + 30_000;
      await p.scheduler.tick();
      await p.scheduler.tick();
      expect(p.started).toHaveLength(runs);
      const fires = await w.repo.fires(s.id);
      expect(fires).toHaveLength(1);
      expect(fires[0]).toMatchObject({
        fireAt: T0 + 3 * MIN,
        missed: true,
        outcome: missed === 'skip' ? 'skipped_missed' : 'started',
      });
      expect(fires[0]!.message).toMatch(/3 missed occurrences/);
      // The next occurrence fires normally, once.
      w.clock.now = T0 + 4 * MIN + 100;
      await p.scheduler.tick();
      expect(p.started).toHaveLength(runs + 1);
    },
  );

  it('a gap that ends on an occurrence fires it on time, once, whatever the policy', async () => {
    const w = await world(e);
    await w.schedule({ missed: 'run-once' });
    const p = await w.process('a');
    w.clock.now = T0 + 5 * MIN + 1500; // 10:05 is 1.5 s old: on time; 10:01–10:04 were missed
    await p.scheduler.tick();
    expect(p.started).toHaveLength(1);
  });

  it('never counts a long gap one by one (a per-second schedule asleep for a day)', async () => {
    const w = await world(e);
    const s = await w.schedule({ cron: '* * * * * *', missed: 'run-once' });
    const p = await w.process('a');
    w.clock.now = T0 + 24 * 60 * MIN + 30_000;
    const began = performance.now();
    await p.scheduler.tick();
    expect(performance.now() - began).toBeLessThan(5000);
    expect(p.started).toHaveLength(1);
    expect((await w.repo.fires(s.id))[0]!.message).toMatch(
      /^999 or more missed occurrences before it skipped$/,
    );
  });

  it('overlap skip records an occurrence as skipped while its run runs; allow starts another', async () => {
    const w = await world(e);
    const skip = await w.schedule({ overlap: 'skip' });
    const allow = await w.schedule({ overlap: 'allow' });
    const p = await w.process('a');
    for (const minute of [1, 2]) {
      w.clock.now = T0 + minute * MIN + 100;
      await p.scheduler.tick();
    }
    const of = (id: string) => p.started.filter((r) => r.scheduleId === id).length;
    expect(of(skip.id)).toBe(1);
    expect(of(allow.id)).toBe(2);
    expect((await w.repo.fires(skip.id))[0]).toMatchObject({
      outcome: 'skipped_overlap',
      fireAt: T0 + 2 * MIN,
    });
    // Once the run has ended, the next occurrence fires.
    await p.finish(p.started.find((r) => r.scheduleId === skip.id)!.id);
    w.clock.now = T0 + 3 * MIN + 100;
    await p.scheduler.tick();
    expect(of(skip.id)).toBe(2);
  });

  it('a paused schedule fires nothing, and resuming does not count the pause as missed', async () => {
    const w = await world(e);
    const s = await w.schedule({ missed: 'run-once' });
    const p = await w.process('a');
    await w.repo.setEnabled(s.id, false, T0);
    w.clock.now = T0 + 5 * MIN + 30_000;
    await p.scheduler.tick();
    await w.repo.setEnabled(s.id, true, w.clock.now);
    await p.scheduler.tick();
    expect(p.started).toHaveLength(0);
    w.clock.now = T0 + 6 * MIN + 100;
    await p.scheduler.tick();
    expect(p.started).toHaveLength(1);
  });

  it('two processes: only the lease holder fires; the other takes over once the lease expires', async () => {
    const w = await world(e);
    await w.schedule({ cron: '*/2 * * * * *' });
    const a = await w.process('a');
    const b = await w.process('b');
    // Both look at every occurrence for 20 s: each one is fired once, all by the holder.
    for (let t = 0; t <= 20_000; t += 500) {
      w.clock.now = T0 + t + 50;
      await a.scheduler.tick();
      await b.scheduler.tick();
    }
    expect(a.started).toHaveLength(10);
    expect(b.started).toHaveLength(0);
    expect(a.scheduler.holding).toBe(true);
    expect(b.scheduler.holding).toBe(false);
    // a stops looking (killed): b takes over within the lease's 10 s, and fires from then on.
    for (let t = 20_500; t <= 40_000; t += 500) {
      w.clock.now = T0 + t + 50;
      await b.scheduler.tick();
    }
    expect(b.scheduler.holding).toBe(true);
    expect(b.started.length).toBeGreaterThanOrEqual(4);
    const fired = [...a.started, ...b.started].map((r) => r.startedAt);
    expect(new Set(fired.map((t) => Math.floor(t / 2000))).size).toBe(fired.length);
    // a comes back (its process had only stalled): it finds the lease taken and fires nothing.
    w.clock.now += 2000;
    await a.scheduler.tick();
    expect(a.started).toHaveLength(10);
    expect(a.scheduler.holding).toBe(false);
  });

  it('an occurrence already claimed is never fired again, even by a holder that thinks it holds', async () => {
    const w = await world(e);
    const s = await w.schedule();
    const claim = () =>
      w.repo.claim(
        { scheduleId: s.id, fireAt: T0 + MIN, holder: 'x', outcome: 'started', missed: false },
        T0 + MIN,
      );
    expect(await claim()).toBe(true);
    expect(await claim()).toBe(false);
    const p = await w.process('a');
    w.clock.now = T0 + MIN + 100;
    await p.scheduler.tick();
    expect(p.started).toHaveLength(0);
  });

  it('stop() gives the lease up, so another process takes over at once', async () => {
    const w = await world(e);
    await w.schedule();
    const a = await w.process('a');
    const b = await w.process('b');
    await a.scheduler.tick();
    await b.scheduler.tick();
    expect([a.scheduler.holding, b.scheduler.holding]).toEqual([true, false]);
    await a.scheduler.stop();
    await b.scheduler.tick();
    expect(b.scheduler.holding).toBe(true);
  });
});
