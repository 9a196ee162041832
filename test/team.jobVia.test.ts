/**
 * A job's default for where its runs go (`defaultVia`, `cronium job add|edit --via`): a job saved with
 * `--via workers` sends `cronium run JOB` to the team's workers without `--via` on the command line, a run
 * that says `--via direct` still runs here, and outside team mode such a run is refused before anything is
 * written. Real PostgreSQL (the team's store and queue), a real `cronium worker`, real hosts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresDatabase } from '../src/store/postgresEngine.ts';
import { runCli } from './support/cli.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';
import { startWorker } from './support/processes.ts';

const h = ownHosts('jobvia');
let pg: TestPostgres;
let store: PostgresDatabase;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | null = null;
const dirs = [tempDir('cronium-jobvia-a-'), tempDir('cronium-jobvia-w-'), tempDir('cronium-jobvia-solo-')];

beforeAll(async () => {
  pg = await startPostgres();
  const url = pg.createDatabase('job_via');
  store = new PostgresDatabase(url);
  env = {
    CRONIUM_DATA_DIR: dirs[0]!.path,
    CRONIUM_DATABASE_URL: url,
    CRONIUM_TEAM_KEY: randomBytes(32).toString('base64'),
    CRONIUM_TEAM_KEY_FILE: undefined,
    CRONIUM_SECRET_STORE: 'key-file',
    CRONIUM_RUNTIME_PORT: '0',
  };
  const add = await runCli(
    ['server', 'add', 'h1', '--host', h.hosts.h1.address, '--user', h.user, '--key', h.keyPath],
    env,
  );
  expect(add.stderr).toBe('');
  worker = (await startWorker('wv', { ...process.env, ...env, CRONIUM_DATA_DIR: dirs[1]!.path })).child;
}, 120_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker!.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  }
  await store?.close();
  pg?.stop();
  for (const d of dirs) d.remove();
  h.removeUser();
}, 60_000);

describe('a job whose runs go to the workers by default', () => {
  it('is saved and shown with --via workers, and an edit that does not say keeps it', async () => {
    const add = await runCli(
      [
        'job',
        'add',
        'where',
        '--lang',
        'bash',
        '--script',
        'echo "on $(hostname) as $USER"',
        '--via',
        'workers',
        '--on',
        'h1',
      ],
      env,
    );
    expect(add.stderr).toBe('');
    const edited = await runCli(['job', 'edit', 'where', '--timeout', '60'], env);
    expect(edited.code).toBe(0);
    const shown = await runCli(['job', 'show', 'where'], env);
    expect(shown.stdout).toMatch(/^via: +workers/m);
    const json = JSON.parse((await runCli(['--json', 'job', 'show', 'where'], env)).stdout) as {
      defaultVia: string;
    };
    expect(json.defaultVia).toBe('workers');
    const bad = await runCli(['job', 'edit', 'where', '--via', 'elsewhere'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--via: runs go direct or workers/);
  });

  it('`cronium run JOB` without --via is queued for the workers; --via direct runs here', async () => {
    const queued = await runCli(['run', 'where'], env);
    expect(queued.stderr).toBe('');
    expect(queued.code).toBe(0);
    expect(queued.stdout).toContain(`as ${h.user}`);
    const direct = await runCli(['run', 'where', '--via', 'direct'], env);
    expect(direct.code).toBe(0);
    const runs = await store.all<{ via: string; worker: string | null }>(
      `SELECT r.via, e.worker FROM runs r JOIN executions e ON e.run_id = r.id ORDER BY r.started_at`,
    );
    expect(runs).toEqual([
      { via: 'workers', worker: 'wv' },
      { via: 'direct', worker: null },
    ]);
    // show and --json name the worker that ran an execution, and no worker for a direct one.
    const history = JSON.parse((await runCli(['--json', 'history', '--job', 'where'], env)).stdout) as {
      id: string;
      worker: string | null;
    }[];
    expect(history.map((e) => e.worker)).toEqual([null, 'wv']);
    expect((await runCli(['show', history[1]!.id], env)).stdout).toMatch(/^worker: +wv \(team mode/m);
    expect((await runCli(['show', history[0]!.id], env)).stdout).not.toMatch(/^worker:/m);
  }, 60_000);

  it('outside team mode such a job is refused before anything is written', async () => {
    // A machine on its own SQLite store with the same job saved there.
    const solo = {
      CRONIUM_DATA_DIR: dirs[2]!.path,
      CRONIUM_SECRET_STORE: 'key-file',
      CRONIUM_RUNTIME_PORT: '0',
    };
    await runCli(
      ['server', 'add', 'h1', '--host', h.hosts.h1.address, '--user', h.user, '--key', h.keyPath],
      solo,
    );
    expect(
      (await runCli(['job', 'add', 'where', '--lang', 'bash', '--script', 'true', '--via', 'workers'], solo))
        .code,
    ).toBe(0);
    const refused = await runCli(['run', 'where', '--on', 'h1'], solo);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/workers only in team mode: set CRONIUM_DATABASE_URL/);
    const history = JSON.parse((await runCli(['--json', 'history'], solo)).stdout) as unknown[];
    expect(history).toEqual([]);
  });
});

describe('stopping the worker', () => {
  it('a second SIGTERM cancels what it runs at once, without waiting out the grace period (30 s)', async () => {
    expect(
      (
        await runCli(
          ['job', 'add', 'long', '--lang', 'bash', '--script', 'echo up; sleep 120', '--via', 'workers'],
          env,
        )
      ).code,
    ).toBe(0);
    const run = runCli(['run', 'long', '--on', 'h1'], env);
    const deadline = Date.now() + 30_000;
    while (
      (await store.all(`SELECT 1 FROM executions WHERE job_name = 'long' AND status = 'running'`)).length ===
      0
    ) {
      if (Date.now() > deadline) throw new Error('the long job never ran');
      await new Promise((r) => setTimeout(r, 100));
    }
    const exited = new Promise((r) => worker!.once('exit', r));
    worker!.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    const second = Date.now();
    worker!.kill('SIGTERM');
    const res = await run;
    await exited;
    expect((Date.now() - second) / 1000).toBeLessThan(20);
    expect(res.code).not.toBe(0);
    expect(await store.all(`SELECT status FROM executions WHERE job_name = 'long'`)).toEqual([
      { status: 'cancelled' },
    ]);
  }, 90_000);
});

describe('no worker alive', () => {
  it('a run sent to the workers says it waits in the queue, and Ctrl-C cancels it', async () => {
    // The worker above has stopped; its heartbeat row goes with it (or is stale).
    await store.run('DELETE FROM workers');
    const child = spawn(process.execPath, ['src/cli/main.ts', 'run', 'where'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while (!stderr.includes('No worker is running')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no notice: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(stderr).toMatch(/the run waits in the queue until "cronium worker" runs .* Ctrl-C cancels it\./);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(
      await store.all(
        `SELECT e.status FROM executions e JOIN runs r ON r.id = e.run_id WHERE e.job_name = 'where' ORDER BY r.started_at DESC LIMIT 1`,
      ),
    ).toEqual([{ status: 'cancelled' }]);
  }, 60_000);
});
