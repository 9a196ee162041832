/**
 * A run's concurrency holds across workers: the store's claim counts a run's taken executions with the
 * run's row locked, so two workers claiming for one run at the same moment (two PostgreSQL sessions) never
 * both get one past the limit. pg-boss's group limit alone let that happen (verify19: two hosts of a
 * `--concurrency 1` run overlapped in 3 of 13 tries).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { openStore } from '../src/store/openStore.ts';
import type { SqlDatabase } from '../src/store/sql.ts';
import { TeamRepo } from '../src/team/teamRepo.ts';
import { tempDir } from './support/fixtures.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

let pg: TestPostgres;
const dir = tempDir('cronium-claim-');
const stores: SqlDatabase[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  const url = pg.createDatabase('claims');
  // Two processes' pools on one team store.
  for (let i = 0; i < 2; i++) stores.push(await openStore({ dataDir: dir.path, databaseUrl: url }));
  const now = Date.now();
  await stores[0]!.exec(`
    INSERT INTO workers (name, host, pid, concurrency, started_at, heartbeat_at)
      VALUES ('wa', 'a', 1, 4, ${now}, ${now}), ('wb', 'b', 2, 4, ${now}, ${now});
  `);
}, 60_000);

afterAll(async () => {
  for (const s of stores) await s.close();
  pg?.stop();
  dir.remove();
});

/** A run of `concurrency` with `n` queued executions (ids RUN-0…), none taken. */
async function queuedRun(id: string, concurrency: number, n: number): Promise<string[]> {
  const db = stores[0]!;
  await db.run(
    `INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, via)
       VALUES (?, 'j', 'job', 'cli', ?, 'auto', 'running', ?, 'workers')`,
    [id, concurrency, Date.now()],
  );
  const ids = Array.from({ length: n }, (_, i) => `${id}-${i}`);
  for (const e of ids)
    await db.run(
      `INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at)
         VALUES (?, ?, 'j', 'job', 's', 'web', 'queued', ?)`,
      [e, id, Date.now()],
    );
  return ids;
}

it('two workers claiming at once for a run of concurrency 1: one gets it, the other is told the run is full', async () => {
  for (let round = 0; round < 10; round++) {
    const [e1, e2] = await queuedRun(`r${round}`, 1, 2);
    const results = await Promise.all([
      new TeamRepo(stores[0]!).claim(e1!, 'wa', `qa${round}`),
      new TeamRepo(stores[1]!).claim(e2!, 'wb', `qb${round}`),
    ]);
    expect(results.sort()).toEqual(['claimed', 'full']);
  }
});

it('a full run takes the next execution once one of its taken ones ends; a taken one is not claimed twice', async () => {
  const [e1, e2, e3] = await queuedRun('rs', 2, 3);
  const a = new TeamRepo(stores[0]!);
  const b = new TeamRepo(stores[1]!);
  expect(await a.claim(e1!, 'wa', 'q1')).toBe('claimed');
  expect(await b.claim(e1!, 'wb', 'q1b')).toBe('taken');
  expect(await b.claim(e2!, 'wb', 'q2')).toBe('claimed');
  expect(await a.claim(e3!, 'wa', 'q3')).toBe('full');
  await stores[0]!.run(`UPDATE executions SET status = 'succeeded', ended_at = ? WHERE id = ?`, [
    Date.now(),
    e1!,
  ]);
  expect(await a.claim(e3!, 'wa', 'q3')).toBe('claimed');
});
