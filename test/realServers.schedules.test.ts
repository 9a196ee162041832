/**
 * Issue 12 parts 1–2 with real processes and real hosts: `cronium daemon` firing a schedule every 2 s; two
 * daemons on one data directory firing each occurrence once, and the survivor taking over when the lease
 * holder is killed with SIGKILL; a gap of missed occurrences run once or not at all; overlap skip; SIGTERM
 * cancelling what runs. `cronium schedule …` from the command line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { afterAll, describe, expect, it } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { runCli } from './support/cli.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const h = ownHosts('sched');
afterAll(async () => h.removeUser());

interface LogLine {
  level: number;
  time: number;
  msg: string;
  schedule?: string;
  fireAt?: string;
  runId?: string;
  status?: string;
  holder?: string;
}

/** `cronium daemon` as a real process; its stdout read as the JSON lines it logs. */
function startDaemon(dataDir: string) {
  const child: ChildProcess = spawn(process.execPath, ['src/cli/main.ts', 'daemon'], {
    env: { ...process.env, CRONIUM_DATA_DIR: dataDir, CRONIUM_RUNTIME_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as LogLine);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  /** Resolves with the first line (after `from`) that matches, or fails after `ms`. */
  const waitFor = async (match: (l: LogLine) => boolean, ms = 30_000, from = 0): Promise<LogLine> => {
    const end = Date.now() + ms;
    for (;;) {
      const found = lines.slice(from).find(match);
      if (found) return found;
      if (Date.now() > end || child.exitCode !== null)
        throw new Error(
          `no such log line within ${ms} ms; stderr: ${stderr}\n${lines.map((l) => l.msg).join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const started = () => lines.filter((l) => /: started run /.test(l.msg));
  return { child, lines, waitFor, exited, started, stderr: () => stderr };
}

/** A data directory with the test host saved (host key known) and a bash job `name`. */
async function seed(script: string, timeoutSec = 60) {
  const dir = tempDir();
  const service = await CroniumService.open({
    dataDir: dir.path,
    unknownHostKeys: 'accept-new',
    runtimePort: 0,
  });
  await service.createServer({
    name: 'h1',
    host: h.hosts.h1.address,
    port: h.hosts.h1.port,
    username: h.user,
    auth: { type: 'key', keyPath: h.keyPath },
  });
  expect((await service.testServer('h1')).online).toBe(true);
  await service.createJob({
    name: 'tick',
    language: 'bash',
    script,
    timeoutSec,
    defaultServerIds: ['h1'],
    // Schedules' --set values are checked against the job's parameters.
    params: [{ name: 'region', type: 'string', default: 'us' }],
  });
  return { dir, service };
}

function query<T>(dataDir: string, sql: string, ...args: (string | number)[]): T[] {
  const db = new DatabaseSync(join(dataDir, 'cronium.db'));
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

async function stop(d: ReturnType<typeof startDaemon>) {
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGTERM');
  return d.exited;
}

describe('schedules fired by `cronium daemon` (real processes, real hosts)', () => {
  const daemons: ReturnType<typeof startDaemon>[] = [];
  const dirs: { remove: () => void }[] = [];
  afterAll(async () => {
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL');
    dirs.forEach((d) => d.remove());
  });

  it('schedule add, list, show, pause and resume from the command line', async () => {
    const { dir, service } = await seed('echo hi');
    dirs.push(dir);
    await service.close();
    const env = { CRONIUM_DATA_DIR: dir.path };
    const add = await runCli(
      [
        'schedule',
        'add',
        'nightly',
        '--job',
        'tick',
        '--cron',
        '30 2 * * *',
        '--tz',
        'Asia/Kolkata',
        '--on',
        'h1',
        '--set',
        'region=eu',
        '--input',
        '{"n":1}',
        '--missed',
        'run-once',
      ],
      env,
    );
    expect(add.stderr).toBe('');
    // 02:30 in Kolkata is 21:00 UTC.
    expect(add.stdout).toMatch(
      /^Saved schedule nightly \(30 2 \* \* \* Asia\/Kolkata\): next \S+ 21:00:00Z\.\n$/,
    );
    const bad = await runCli(['schedule', 'add', 'x', '--job', 'tick', '--cron', '* * * * * * *'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /cron: not a cron expression: it has 7 fields: use 5 \(minute hour day month weekday\), or 6 with seconds first/,
    );
    const badTz = await runCli(
      ['schedule', 'add', 'x', '--job', 'tick', '--cron', '@daily', '--tz', 'Nowhere/City'],
      env,
    );
    expect(badTz.code).toBe(2);
    expect(badTz.stderr).toMatch(/--tz: not a time zone/);
    const show = await runCli(['schedule', 'show', 'nightly', '--json'], env);
    expect(JSON.parse(show.stdout)).toMatchObject({
      name: 'nightly',
      jobName: 'tick',
      timezone: 'Asia/Kolkata',
      params: { region: 'eu' },
      input: { n: 1 },
      overlap: 'skip',
      missed: 'run-once',
      enabled: true,
      fires: [],
    });
    expect((await runCli(['schedule', 'pause', 'nightly'], env)).stdout).toBe('Paused schedule nightly.\n');
    const list = await runCli(['schedule', 'list'], env);
    expect(list.stdout).toMatch(/^nightly\s+tick\s+30 2 \* \* \*\s+Asia\/Kolkata\s+paused\s+-\s+-$/m);
    expect((await runCli(['schedule', 'resume', 'nightly'], env)).stdout).toMatch(
      /^Resumed schedule nightly: next /,
    );
    expect((await runCli(['schedule', 'remove', 'nightly'], env)).stdout).toBe('Removed schedule nightly.\n');
    expect((await runCli(['schedule', 'list', '--json'], env)).stdout).toBe('[]\n');
  }, 120_000); // a dozen CLI processes: slow on a loaded 2-core machine

  it('fires a schedule every 2 s: runs recorded with trigger schedule and the schedule, on the host', async () => {
    const { dir, service } = await seed('echo "fired by $(whoami)"; cronium_output \'{"ok":true}\'');
    dirs.push(dir);
    const schedule = await service.createSchedule({
      name: 'every2',
      jobId: 'tick',
      cron: '*/2 * * * * *',
      // A first run (connect, deploy) may take over 2 s: no occurrence skipped for overlap here.
      overlap: 'allow',
    });
    await service.close();
    const d = startDaemon(dir.path);
    daemons.push(d);
    // Three finished runs.
    const finished = () => d.lines.filter((l) => l.status === 'succeeded');
    const end = Date.now() + 30_000;
    while (finished().length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(finished().length).toBeGreaterThanOrEqual(3);
    const result = await stop(d);
    expect(result.code).toBe(0);
    expect(d.lines.at(-1)!.msg).toBe('daemon stopped');

    const runs = query<{
      id: string;
      trigger: string;
      schedule_id: string;
      status: string;
      started_at: number;
    }>(dir.path, 'SELECT id, trigger, schedule_id, status, started_at FROM runs ORDER BY started_at');
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const r of runs) expect(r).toMatchObject({ trigger: 'schedule', schedule_id: schedule.id });
    expect(runs.filter((r) => r.status === 'succeeded').length).toBeGreaterThanOrEqual(3);
    // Each run belongs to an occurrence 2 s after the one before, and started at (not before) it.
    const fires = query<{ fire_at: number; run_id: string }>(
      dir.path,
      "SELECT fire_at, run_id FROM schedule_fires WHERE outcome = 'started' ORDER BY fire_at",
    );
    expect(fires.map((f) => f.run_id).sort()).toEqual(runs.map((r) => r.id).sort());
    for (let i = 1; i < fires.length; i++) expect(fires[i]!.fire_at - fires[i - 1]!.fire_at).toBe(2000);
    for (const f of fires) {
      const run = runs.find((r) => r.id === f.run_id)!;
      expect(run.started_at).toBeGreaterThanOrEqual(f.fire_at);
      expect(run.started_at - f.fire_at).toBeLessThan(2000);
    }
    // The host ran it, and history shows where it came from.
    const reopened = await CroniumService.open({ dataDir: dir.path, runtimePort: 0 });
    try {
      const run = await reopened.getRun(runs[0]!.id);
      expect(run).toMatchObject({ trigger: 'schedule', scheduleId: schedule.id, status: 'succeeded' });
      const e = await reopened.getExecution(run.executionIds[0]!);
      expect(e.output).toEqual({ ok: true });
      expect((await reopened.readLog(e.id)).map((c) => c.text).join('')).toContain(`fired by ${h.user}`);
      expect(await reopened.getSchedule('every2')).toMatchObject({
        lastOutcome: 'started',
        lastResult: 'succeeded',
      });
    } finally {
      await reopened.close();
    }
    const show = await runCli(['show', firstExecution(dir.path, runs[0]!.id)], {
      CRONIUM_DATA_DIR: dir.path,
    });
    expect(show.stdout).toMatch(/^trigger:\s+schedule \(every2\)$/m);
  });

  it('two daemons on one data directory fire each occurrence once; SIGKILL the holder and the other takes over', async () => {
    const { dir, service } = await seed('echo tick');
    dirs.push(dir);
    const schedule = await service.createSchedule({ name: 'every2', jobId: 'tick', cron: '*/2 * * * * *' });
    await service.close();
    const a = startDaemon(dir.path);
    const b = startDaemon(dir.path);
    daemons.push(a, b);
    // Both running and one holding: wait for 4 fires in all.
    const all = () => [...a.started(), ...b.started()];
    const until = async (n: number, ms: number) => {
      const end = Date.now() + ms;
      while (all().length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(all().length).toBeGreaterThanOrEqual(n);
    };
    await until(4, 30_000);
    const holder = a.started().length > 0 ? a : b;
    const other = holder === a ? b : a;
    expect(other.started()).toHaveLength(0);
    const before = all().length;
    holder.child.kill('SIGKILL');
    await holder.exited;
    // The survivor takes the lease over within its 10 s (plus a poll), then fires on.
    const took = await other.waitFor((l) => /took the scheduler lease over/.test(l.msg), 20_000);
    expect(took.msg).toContain(holder.lines.find((l) => l.holder)!.holder!);
    await until(before + 3, 20_000);
    await stop(other);

    // Every occurrence fired once: no fire time in both daemons' logs, one run per started occurrence.
    const fireTimes = all().map((l) => l.fireAt!);
    expect(new Set(fireTimes).size).toBe(fireTimes.length);
    const runs = query<{ id: string }>(dir.path, 'SELECT id FROM runs WHERE schedule_id = ?', schedule.id);
    const fires = query<{ fire_at: number; run_id: string; holder: string }>(
      dir.path,
      "SELECT fire_at, run_id, holder FROM schedule_fires WHERE outcome = 'started'",
    );
    expect(runs).toHaveLength(fires.length);
    expect(runs).toHaveLength(fireTimes.length);
    expect(new Set(fires.map((f) => f.holder)).size).toBe(2);
  });

  it.each([
    ['run-once', 1],
    ['skip', 0],
  ] as const)(
    'a daemon started after 2 missed occurrences (policy %s) runs %i time(s)',
    async (missed, count) => {
      const { dir, service } = await seed('echo caught up');
      dirs.push(dir);
      const schedule = await service.createSchedule({
        name: 'yearly',
        jobId: 'tick',
        cron: '@yearly',
        timezone: 'UTC',
        missed,
      });
      await service.close();
      // As if created long ago and nothing had run since: the last two New Year's Days passed unfired.
      const db = new DatabaseSync(join(dir.path, 'cronium.db'));
      const now = new Date();
      const longAgo = Date.UTC(now.getUTCFullYear() - 2, 5, 1);
      db.prepare('UPDATE schedules SET checked_until = ? WHERE id = ?').run(longAgo, schedule.id);
      db.close();
      const d = startDaemon(dir.path);
      daemons.push(d);
      const line = await d.waitFor((l) => l.schedule === 'yearly');
      if (count === 1) {
        expect(line.msg).toMatch(/started run .* \(once for 2 missed occurrences\)$/);
        await d.waitFor((l) => l.schedule === 'yearly' && l.status === 'succeeded');
      } else expect(line.msg).toMatch(/skipped: 2 missed occurrences skipped \(policy skip\)$/);
      expect(line.fireAt).toBe(`${now.getUTCFullYear()}-01-01T00:00:00.000Z`);
      expect((await stop(d)).code).toBe(0);
      expect(query(dir.path, 'SELECT id FROM runs')).toHaveLength(count);
      expect(d.lines.filter((l) => l.schedule === 'yearly' && !l.status)).toHaveLength(1);
    },
  );

  it('overlap skip: an occurrence while the last run still runs is skipped; SIGTERM cancels the run and exits 0', async () => {
    const { dir, service } = await seed('echo start; sleep 30; echo never');
    dirs.push(dir);
    await service.createSchedule({ name: 'slow', jobId: 'tick', cron: '*/2 * * * * *', overlap: 'skip' });
    await service.close();
    const d = startDaemon(dir.path);
    daemons.push(d);
    const first = await d.waitFor((l) => /: started run /.test(l.msg));
    await d.waitFor((l) => /skipped: its run \w{8} is still running \(overlap skip\)$/.test(l.msg));
    await d.waitFor(
      (l) => /skipped: .*overlap skip/.test(l.msg),
      10_000,
      d.lines.findIndex((l) => /overlap skip/.test(l.msg)) + 1,
    );
    expect(d.started()).toHaveLength(1);
    const began = Date.now();
    const result = await stop(d);
    expect(result.code).toBe(0);
    expect(Date.now() - began).toBeLessThan(15_000);
    expect(d.lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['SIGTERM: stopping', 'cancelling 1 running run(s)', 'daemon stopped']),
    );
    const [run] = query<{ status: string }>(dir.path, 'SELECT status FROM runs WHERE id = ?', first.runId!);
    expect(run!.status).toBe('cancelled');
    // Nothing holds the lease any more: the next process takes it at once.
    expect(query(dir.path, 'SELECT * FROM scheduler_lease')).toEqual([]);
  });
});

/** The first execution of a run (for `cronium show`). */
function firstExecution(dataDir: string, runId: string): string {
  return query<{ id: string }>(dataDir, 'SELECT id FROM executions WHERE run_id = ? LIMIT 1', runId)[0]!.id;
}
