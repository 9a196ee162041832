/**
 * Team mode's workers against a real PostgreSQL (the store and the queue) and the real namespace hosts: two
 * `cronium worker` processes and the `cronium` CLI on one team, each process with a data directory of its
 * own (another machine, as far as it knows): all they share is CRONIUM_DATABASE_URL and the team key.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { PostgresDatabase } from '../src/store/postgresEngine.ts';
import { runCli } from './support/cli.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';
import { type CliProcess, startWorker as startTeamWorker, until } from './support/processes.ts';
import { onHost } from './support/sshHosts.ts';

const h = ownHosts('wrk');
afterAll(() => h.removeUser());

let pg: TestPostgres;
const dir = tempDir('cronium-workers-');
let env: NodeJS.ProcessEnv;
let service: CroniumService;
let store: PostgresDatabase;
const TEAM_KEY = randomBytes(32).toString('base64');
const workerDirs: { path: string; remove: () => void }[] = [];
const ownDir = () => workerDirs[workerDirs.push(tempDir('cronium-worker-')) - 1]!.path;

interface WorkerProcess extends CliProcess {
  name: string;
}
const workers: WorkerProcess[] = [];

/** Starts `cronium worker --name NAME` with a data directory of its own; resolves once it takes executions. */
async function startWorker(name: string, concurrency = 4, extra: string[] = []): Promise<WorkerProcess> {
  // A data directory of its own: the worker shares nothing with the CLI but the database.
  const w = {
    name,
    ...(await startTeamWorker(name, { ...env, CRONIUM_DATA_DIR: ownDir() }, { concurrency, extra })),
  };
  workers.push(w);
  return w;
}

/** Rows of the shared store, read as another process would (its own connection). */
function query<T>(sql: string, ...params: (string | number)[]): Promise<T[]> {
  return store.all<T>(sql, params);
}

/** Output lines grouped by their `[server] ` prefix, in order within each (unprefixed lines under ""). */
function byServer(text: string): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const prefix = /^\[([^\]]+)\] /.exec(line)?.[1] ?? '';
    (groups[prefix] ??= []).push(line);
  }
  return groups;
}

async function job(name: string, script: string, timeoutSec = 60): Promise<void> {
  await service.createJob({ name, language: 'bash', script, timeoutSec });
}

beforeAll(async () => {
  pg = await startPostgres();
  const url = pg.createDatabase('team_workers');
  env = {
    ...process.env,
    CRONIUM_DATA_DIR: dir.path,
    CRONIUM_RUNTIME_PORT: '0',
    CRONIUM_DATABASE_URL: url,
    CRONIUM_TEAM_KEY: TEAM_KEY,
    CRONIUM_TEAM_KEY_FILE: undefined,
    CRONIUM_SECRET_STORE: 'key-file',
    CRONIUM_WORKER_HEARTBEAT_MS: '300',
    CRONIUM_WORKER_LOST_AFTER_MS: '3000',
  };
  store = new PostgresDatabase(url);
  service = await CroniumService.open({
    dataDir: dir.path,
    unknownHostKeys: 'accept-new',
    runtimePort: 0,
    databaseUrl: url,
    env,
    keychain: null,
    killGraceSec: 1,
  });
  for (const name of ['h1', 'h2'] as const)
    await service.createServer({
      name,
      host: h.hosts[name].address,
      port: h.hosts[name].port,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
  // Ten names over the two hosts: the drain test's servers (connections pooled per server per worker).
  for (let i = 0; i < 10; i++)
    await service.createServer({
      name: `d${i}`,
      host: h.hosts[i % 2 ? 'h2' : 'h1'].address,
      port: 22,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
  await startWorker('w1');
  await startWorker('w2');
}, 120_000);

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await service?.close();
  await store?.close();
  pg?.stop();
  dir.remove();
  for (const d of workerDirs) d.remove();
}, 60_000);

describe('cronium run --via workers', () => {
  it('streams the same output and exits with the same codes as a direct run; the worker is recorded', async () => {
    await job(
      'mixed',
      'for i in 1 2 3; do echo "out $i"; echo "err $i" >&2; done\nprintf "no newline"\nexit "${CODE:-3}"',
    );
    for (const on of ['h1', 'h1,h2']) {
      const direct = await runCli(['run', 'mixed', '--on', on], env);
      const viaWorkers = await runCli(['run', 'mixed', '--on', on, '--via', 'workers'], env);
      // Several servers' lines interleave as they come (in a direct run too): compared per server.
      expect(byServer(viaWorkers.stdout)).toEqual(byServer(direct.stdout));
      expect(byServer(viaWorkers.stderr.replace(/run [0-9a-f]{8}/g, 'run X'))).toEqual(
        byServer(direct.stderr.replace(/run [0-9a-f]{8}/g, 'run X')),
      );
      expect(viaWorkers.code).toBe(direct.code);
    }
    expect((await runCli(['run', 'mixed', '--on', 'h1', '--via', 'workers'], env)).code).toBe(3);
    const rows = await query<{ worker: string | null; via: string }>(
      `SELECT e.worker, r.via FROM executions e JOIN runs r ON r.id = e.run_id WHERE r.job_name = 'mixed'`,
    );
    const viaWorkers = rows.filter((r) => r.via === 'workers');
    expect(viaWorkers.length).toBe(4);
    for (const r of viaWorkers) expect(['w1', 'w2']).toContain(r.worker);
    for (const r of rows.filter((r) => r.via === 'direct')) expect(r.worker).toBeNull();
  }, 120_000);

  it('refuses --via workers without a team database, and an unknown --via, before anything runs', async () => {
    const before = (await query<{ n: number }>('SELECT count(*) AS n FROM runs'))[0]!.n;
    const noTeam = await runCli(['run', 'mixed', '--on', 'h1', '--via', 'workers'], {
      ...env,
      CRONIUM_DATABASE_URL: undefined,
    });
    expect(noTeam.code).toBe(2);
    expect(noTeam.stderr).toMatch(/workers only in team mode: set CRONIUM_DATABASE_URL/);
    const bad = await runCli(['run', 'mixed', '--on', 'h1', '--via', 'elsewhere'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--via/);
    expect((await query<{ n: number }>('SELECT count(*) AS n FROM runs'))[0]!.n).toBe(before);
  });

  it('Ctrl-C of the CLI cancels the run on its worker, which ends the remote processes', async () => {
    await job('long', 'sleep 4321\n');
    const child = spawn(
      process.execPath,
      ['src/cli/main.ts', 'run', 'long', '--on', 'h1', '--via', 'workers'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until(
      async () =>
        (await query(`SELECT 1 FROM executions WHERE job_name = 'long' AND status = 'running'`)).length === 1,
      30_000,
      'the execution to run',
    );
    // The bracket keeps pgrep from finding the shell that runs it (its command line holds the pattern).
    const remote = () => onHost(h, `pgrep -u ${h.user} -f '[s]leep 4321' || true`).trim();
    await until(() => remote() !== '', 10_000, 'the remote sleep');
    const started = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('cancelling');
    const [row] = await query<{ status: string; worker: string }>(
      `SELECT status, worker FROM executions WHERE job_name = 'long'`,
    );
    expect(row!.status).toBe('cancelled');
    expect(['w1', 'w2']).toContain(row!.worker);
    expect(Date.now() - started).toBeLessThan(15_000);
    await until(() => remote() === '', 10_000, 'no remote process');
  }, 90_000);
});

describe('schedules in team mode', () => {
  it('fire in the workers, into the queue: each occurrence once, run by a worker', async () => {
    await job('ticking', 'echo "$CRONIUM_EXECUTION_ID" >> ~/ticking.log\n');
    const schedule = await service.createSchedule({
      name: 'every-second',
      jobId: 'ticking',
      cron: '* * * * * *',
      targets: ['h1'],
      overlap: 'allow',
    });
    try {
      await until(
        async () =>
          (await query(`SELECT 1 FROM runs WHERE schedule_id = ? AND status <> 'running'`, schedule.id))
            .length >= 3,
        30_000,
        'three scheduled runs',
      );
    } finally {
      await service.pauseSchedule(schedule.id);
    }
    await until(
      async () =>
        (await query(`SELECT 1 FROM runs WHERE schedule_id = ? AND status = 'running'`, schedule.id))
          .length === 0,
      20_000,
      'the scheduled runs to end',
    );
    const fires = await query<{ fire_at: number; run_id: string | null; outcome: string; holder: string }>(
      'SELECT fire_at, run_id, outcome, holder FROM schedule_fires WHERE schedule_id = ?',
      schedule.id,
    );
    const runs = await query<{ id: string; via: string; trigger: string; status: string }>(
      'SELECT id, via, trigger, status FROM runs WHERE schedule_id = ?',
      schedule.id,
    );
    // Each occurrence once: one fire row per time (the primary key), one run per started fire.
    expect(runs.length).toBe(fires.filter((f) => f.outcome === 'started').length);
    expect(new Set(fires.map((f) => f.run_id)).size).toBe(fires.length);
    for (const r of runs)
      expect(r).toMatchObject({ via: 'workers', trigger: 'schedule', status: 'succeeded' });
    const executions = await query<{ id: string; worker: string }>(
      `SELECT e.id, e.worker FROM executions e JOIN runs r ON r.id = e.run_id WHERE r.schedule_id = ?`,
      schedule.id,
    );
    for (const e of executions) expect(['w1', 'w2']).toContain(e.worker);
    const record = onHost(h, 'cat ~/ticking.log').trim().split('\n');
    expect(record.sort()).toEqual(executions.map((e) => e.id).sort());
  }, 90_000);
});

describe('the lost-worker policy', () => {
  it('re-queues what a lost worker had taken but not started; another worker runs it once', async () => {
    await job('requeued', 'echo "$CRONIUM_EXECUTION_ID" >> ~/requeued.log; echo ran\n');
    const live = workers.filter((w) => w.child.exitCode === null);
    for (const w of live) w.child.kill('SIGSTOP');
    let runId: string;
    try {
      runId = (await service.startRun({ jobId: 'requeued', serverIds: ['h1'], via: 'workers' })).id;
      // A worker that took it and died before connecting: its row's heartbeat is long past.
      await store.run(
        `INSERT INTO workers (name, host, pid, concurrency, started_at, heartbeat_at) VALUES ('ghost', 'gone', 1, 1, 0, 0)`,
      );
      const { changes } = await store.run(
        `UPDATE executions SET worker = 'ghost' WHERE run_id = ? AND worker IS NULL`,
        [runId],
      );
      expect(Number(changes)).toBe(1);
    } finally {
      for (const w of live) w.child.kill('SIGCONT');
    }
    await until(
      async () =>
        (await query<{ status: string }>('SELECT status FROM runs WHERE id = ?', runId))[0]!.status !==
        'running',
      20_000,
      'the re-queued run to end',
    );
    const [e] = await query<{ id: string; status: string; worker: string }>(
      'SELECT id, status, worker FROM executions WHERE run_id = ?',
      runId,
    );
    expect(e!.status).toBe('succeeded');
    expect(['w1', 'w2', 'w3']).toContain(e!.worker);
    expect(onHost(h, 'cat ~/requeued.log').trim().split('\n')).toEqual([e!.id]);
    expect((await query('SELECT 1 FROM workers WHERE name = ?', 'ghost')).length).toBe(0);
  }, 60_000);
});

describe('a worker killed with SIGKILL mid-run', () => {
  it('its running execution becomes worker_lost within the limit, never left running; others keep working', async () => {
    const w3 = await startWorker('w3', 2);
    await job('victim', 'echo started; sleep 60\n');
    // Only w3 takes work while it starts: the others are paused (SIGSTOP) so the run lands on w3.
    const others = workers.filter((w) => w.name !== 'w3' && w.child.exitCode === null);
    for (const w of others) w.child.kill('SIGSTOP');
    const run = await service.startRun({ jobId: 'victim', serverIds: ['h2'], via: 'workers' });
    try {
      await until(
        async () =>
          (
            await query(
              `SELECT 1 FROM executions WHERE run_id = ? AND status = 'running' AND worker = 'w3'`,
              run.id,
            )
          ).length === 1,
        30_000,
        'w3 to run it',
      );
    } finally {
      for (const w of others) w.child.kill('SIGCONT');
    }
    w3.child.kill('SIGKILL');
    const killedAt = Date.now();
    await w3.exited;
    // Lost after 3 s without a heartbeat; a live worker reaps at its next beat (300 ms).
    await until(
      async () =>
        (await query(`SELECT 1 FROM executions WHERE run_id = ? AND status = 'worker_lost'`, run.id))
          .length === 1,
      15_000,
      'worker_lost',
    );
    const lostAfter = Date.now() - killedAt;
    expect(lostAfter).toBeGreaterThanOrEqual(2_500);
    expect(lostAfter).toBeLessThan(3_000 + 300 * 3 + 2_000);
    const [e] = await query<{ status: string; error_message: string; ended_at: number }>(
      'SELECT status, error_message, ended_at FROM executions WHERE run_id = ?',
      run.id,
    );
    expect(e!.error_message).toMatch(/worker w3 .* was lost/);
    expect(e!.ended_at).toBeGreaterThan(0);
    await until(
      async () =>
        (await query<{ status: string }>('SELECT status FROM runs WHERE id = ?', run.id))[0]!.status ===
        'failed',
      5_000,
      'the run to end',
    );
    // The reaper removes the lost worker's row after settling its executions and runs.
    await until(
      async () => (await query('SELECT 1 FROM workers WHERE name = ?', 'w3')).length === 0,
      5_000,
      'w3 removed',
    );
    // The surviving workers still take work.
    expect((await runCli(['run', 'mixed', '--on', 'h2', '--via', 'workers'], env)).code).toBe(3);
  }, 90_000);
});

describe('a worker with --metrics-port', () => {
  it('serves metrics and a health check for the role worker on 127.0.0.1, and stops on SIGTERM', async () => {
    const w = await startWorker('wm', 1, ['--metrics-port', '0']);
    await until(() => /"metricsPort":\d+/.test(w.output()), 30_000, 'the metrics line');
    const port = Number(/"metricsPort":(\d+)/.exec(w.output())![1]);
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<
      string,
      unknown
    >;
    expect(health).toMatchObject({ status: 'ok', role: 'worker' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/cronium_build_info\{[^}]*role="worker"/);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
