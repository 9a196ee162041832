/**
 * 1,000 queued executions on the namespace hosts drained by three `cronium worker` processes: none lost,
 * none run twice — counted in the store, in the queue (pg-boss's own rows) and in the hosts' own record
 * (each script appends its execution id to a file on its host).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { PostgresDatabase } from '../src/store/postgresEngine.ts';
import { QUEUE_NAME, QUEUE_SCHEMA } from '../src/team/queue.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';
import { startCli, until } from './support/processes.ts';
import { onHost } from './support/sshHosts.ts';

const h = ownHosts('drain');
afterAll(() => h.removeUser());

let postgres: TestPostgres;
let url: string;
const dir = tempDir('cronium-drain-');
let service: CroniumService;
let store: PostgresDatabase;
const TEAM_KEY = randomBytes(32).toString('base64');
const TEAM_ENV = { CRONIUM_TEAM_KEY: TEAM_KEY, CRONIUM_TEAM_KEY_FILE: undefined };
const children: ChildProcess[] = [];

/** Rows of the team's store, read as another process would (its own connection). */
function query<T>(sql: string, ...params: (string | number)[]): Promise<T[]> {
  return store.all<T>(sql, params);
}

beforeAll(async () => {
  postgres = await startPostgres();
  url = postgres.createDatabase('team_drain');
  store = new PostgresDatabase(url);
  service = await CroniumService.open({
    dataDir: dir.path,
    unknownHostKeys: 'accept-new',
    runtimePort: 0,
    databaseUrl: url,
    env: { ...process.env, ...TEAM_ENV },
    keychain: null,
  });
  // Ten servers over the two hosts (connections are pooled per server in each worker).
  for (let i = 0; i < 10; i++)
    await service.createServer({
      name: `d${i}`,
      host: h.hosts[i % 2 ? 'h2' : 'h1'].address,
      port: 22,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
  await service.createJob({
    name: 'tick',
    language: 'bash',
    helperMode: 'bundled',
    script: 'echo "$CRONIUM_EXECUTION_ID" >> ~/drain.log\n',
  });
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await service?.close();
  await store?.close();
  postgres?.stop();
  dir.remove();
}, 60_000);

it('three workers drain 1,000 queued executions: none lost, none run twice', async () => {
  // Queued first, with no worker running: the whole backlog waits in the queue.
  const runIds: string[] = [];
  for (let i = 0; i < 100; i++)
    runIds.push(
      (
        await service.startRun({
          jobId: 'tick',
          serverIds: Array.from({ length: 10 }, (_, j) => `d${j}`),
          via: 'workers',
        })
      ).id,
    );
  const env = {
    ...process.env,
    ...TEAM_ENV,
    CRONIUM_DATA_DIR: dir.path,
    CRONIUM_RUNTIME_PORT: '0',
    CRONIUM_DATABASE_URL: url,
    CRONIUM_SECRET_STORE: 'key-file',
  };
  for (const name of ['w1', 'w2', 'w3']) {
    children.push(startCli(['worker', '--name', name, '--concurrency', '8'], env).child);
  }
  const started = Date.now();
  await until(
    async () =>
      (await query<{ n: number }>(`SELECT count(*) AS n FROM runs WHERE status = 'running'`))[0]!.n === 0,
    400_000,
    'the backlog to drain',
    200,
  );
  const seconds = (Date.now() - started) / 1000;
  console.log(`1000 executions drained by 3 workers in ${seconds.toFixed(1)} s`);

  const rows = await query<{
    id: string;
    status: string;
    worker: string | null;
    error_message: string | null;
  }>('SELECT id, status, worker, error_message FROM executions');
  expect(rows.length).toBe(1000);
  const notOk = rows.filter((r) => r.status !== 'succeeded');
  expect(notOk.length, [...new Set(notOk.map((r) => r.error_message))].join('; ')).toBe(0);
  const byWorker = new Map<string, number>();
  for (const r of rows) byWorker.set(r.worker!, (byWorker.get(r.worker!) ?? 0) + 1);
  expect([...byWorker.keys()].sort()).toEqual(['w1', 'w2', 'w3']);
  // The hosts' own record: each execution id once.
  const record = onHost(h, 'cat ~/drain.log').trim().split('\n');
  expect(record.length).toBe(1000);
  expect(new Set(record)).toEqual(new Set(rows.map((r) => r.id)));
  // The queue's own rows: one job per execution, each completed once.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: states } = await client.query<{ state: string; n: string }>(
      `SELECT state, count(*) AS n FROM ${QUEUE_SCHEMA}.job WHERE name = $1 GROUP BY state`,
      [QUEUE_NAME],
    );
    expect(Object.fromEntries(states.map((s) => [s.state, Number(s.n)]))).toEqual({ completed: 1000 });
  } finally {
    await client.end();
  }
  // Every run ended succeeded.
  expect(await query<{ status: string }>('SELECT DISTINCT status FROM runs')).toEqual([
    { status: 'succeeded' },
  ]);
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode === null ? c.on('exit', r) : r(null)))),
  );
  expect(children.map((c) => c.exitCode)).toEqual([0, 0, 0]);
  expect((await query('SELECT 1 FROM workers')).length).toBe(0);
}, 500_000);
