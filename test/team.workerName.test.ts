/**
 * A worker's name is its own while it lives: a second `cronium worker` with the name of a live one is
 * refused (it would reap the live one's executions as an earlier process's), and one that takes over a
 * name whose process ended on this machine starts at once. Real PostgreSQL, real worker processes.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { PostgresDatabase } from '../src/store/postgresEngine.ts';
import { tempDir } from './support/fixtures.ts';
import { startCli, until, WORKER_READY } from './support/processes.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

let pg: TestPostgres;
let store: PostgresDatabase;
let env: NodeJS.ProcessEnv;
const dirs: { path: string; remove: () => void }[] = [];
const children: ChildProcess[] = [];

/** Starts `cronium worker --name NAME` from a data directory of its own; resolves when it takes work or ends. */
async function worker(
  name: string,
): Promise<{ child: ChildProcess; output: () => string; started: boolean }> {
  const dir = tempDir('cronium-wname-');
  dirs.push(dir);
  const w = startCli(['worker', '--name', name], { ...process.env, ...env, CRONIUM_DATA_DIR: dir.path });
  children.push(w.child);
  // Not an error when it exits: refusing a name that is taken is what some cases expect.
  await until(() => w.output().includes(WORKER_READY) || w.child.exitCode !== null, 30_000).catch(
    () => undefined,
  );
  return { child: w.child, output: w.output, started: w.output().includes(WORKER_READY) };
}

beforeAll(async () => {
  pg = await startPostgres();
  const url = pg.createDatabase('worker_names');
  store = new PostgresDatabase(url);
  env = {
    CRONIUM_DATABASE_URL: url,
    CRONIUM_TEAM_KEY: randomBytes(32).toString('base64'),
    CRONIUM_TEAM_KEY_FILE: undefined,
    CRONIUM_SECRET_STORE: 'key-file',
    CRONIUM_RUNTIME_PORT: '0',
  };
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await store?.close();
  pg?.stop();
  for (const d of dirs) d.remove();
}, 60_000);

it('refuses a second worker with a live worker’s name; after a kill the name is taken over at once', async () => {
  const first = await worker('rack');
  expect(first.started).toBe(true);
  const second = await worker('rack');
  expect(second.started).toBe(false);
  expect(second.child.exitCode).not.toBe(0);
  expect(second.output()).toMatch(
    /A worker named rack is running on .* \(pid \d+, last heartbeat \d+ s ago\)/,
  );
  // Names are the team's case-blind, and only of a host name's characters.
  const upper = await worker('RACK');
  expect(upper.started).toBe(false);
  expect(upper.output()).toMatch(/A worker named rack is running/);
  const spaced = await worker('a b');
  expect(spaced.started).toBe(false);
  expect(spaced.output()).toMatch(/name: a worker's name is 1–63 letters, digits/);
  // The live one keeps its row.
  expect(await store.all('SELECT pid FROM workers WHERE name = ?', ['rack'])).toEqual([
    { pid: first.child.pid },
  ]);
  // Killed: its heartbeat is still fresh, but its process on this machine is gone — a restart takes over.
  const gone = new Promise((r) => first.child.once('exit', r));
  first.child.kill('SIGKILL');
  await gone;
  const restarted = await worker('rack');
  expect(restarted.started).toBe(true);
  expect(await store.all('SELECT pid FROM workers WHERE name = ?', ['rack'])).toEqual([
    { pid: restarted.child.pid },
  ]);
}, 120_000);
