/**
 * npm run bench (store section): the store's hot calls, per call, on both engines — this build's async
 * repositories on the embedded SQLite file and on PostgreSQL (a throwaway server, test/support/postgres.ts)
 * — and, side by side, the last synchronous build's repositories on the same SQLite file, so that the
 * price of going async (issue 13: "without slowing the SQLite path") is a printed figure.
 *
 *   node bench/run.ts store
 *
 * Environment: BENCH_REPS (rounds per figure, default 7; the sync and async builds alternate within a
 * round, so both see the same moment of a shared machine), BENCH_STORE_EXECUTIONS (history size, default
 * 1,000,000), CRONIUM_BENCH_SYNC=DIR (a checkout of the synchronous build with its node_modules, e.g.
 * `git archive 95c72b9 | tar -x -C DIR`; without it, that column is left out). Nothing here asserts a time.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';

import type { Execution, LogChunk } from '../src/core/domain.ts';
import { HistoryRepo, type ExecutionFilter } from '../src/store/historyRepo.ts';
import { LogWriter, type LogStore } from '../src/store/logWriter.ts';
import { openStore } from '../src/store/openStore.ts';
import { PostgresLogWriter } from '../src/store/postgresLogWriter.ts';
import type { SqlDatabase } from '../src/store/sql.ts';
import { SqliteDatabase } from '../src/store/sqliteEngine.ts';
import { VariableRepo } from '../src/store/variableRepo.ts';
import { startPostgres } from '../test/support/postgres.ts';

const REPS = Number(process.env.BENCH_REPS ?? 7);
const EXECUTIONS = Number(process.env.BENCH_STORE_EXECUTIONS ?? 1_000_000);
const PER_RUN = 10;
const JOBS = 20;
const SERVERS = 50;
/** Log chunks per batch, batches per figure: the executor hands the writer a batch per output burst. */
const BATCH = 100;
const BATCHES = 200;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg()[0]!.toFixed(2);

/** The calls measured, as each build spells them (the sync build returns values, this one Promises). */
interface Calls {
  getExecution(id: string): unknown;
  listExecutions(filter: ExecutionFilter): unknown;
  getVariable(key: string): unknown;
  setVariable(key: string, value: string): unknown;
  logs: LogStore;
  close(): Promise<void>;
}

/** The synchronous build's modules, loaded from its checkout. */
interface SyncBuild {
  openDatabase(dataDir: string): DatabaseSync;
  HistoryRepo: new (db: DatabaseSync) => {
    getExecution(id: string): Execution | null;
    listExecutions(filter: ExecutionFilter): Execution[];
  };
  VariableRepo: new (db: DatabaseSync) => {
    get(key: string): unknown;
    set(key: string, value: string, secret: boolean, updatedBy: string): void;
  };
  LogWriter: new (path: string) => LogStore;
}

async function loadSyncBuild(dir: string): Promise<SyncBuild> {
  const load = async <T>(file: string) => (await import(join(dir, 'src', 'store', file))) as T;
  return {
    ...(await load<Pick<SyncBuild, 'openDatabase'>>('database.ts')),
    ...(await load<Pick<SyncBuild, 'HistoryRepo'>>('historyRepo.ts')),
    ...(await load<Pick<SyncBuild, 'VariableRepo'>>('variableRepo.ts')),
    ...(await load<Pick<SyncBuild, 'LogWriter'>>('logWriter.ts')),
  };
}

function asyncCalls(db: SqlDatabase, logs: LogStore): Calls {
  const history = new HistoryRepo(db);
  const variables = new VariableRepo(db);
  return {
    getExecution: (id) => history.getExecution(id),
    listExecutions: (filter) => history.listExecutions(filter),
    getVariable: (key) => variables.get(key),
    setVariable: (key, value) => variables.set(key, value, false, 'bench'),
    logs,
    close: async () => {
      await logs.close();
      await db.close();
    },
  };
}

function syncCalls(build: SyncBuild, dataDir: string): Calls {
  const db = build.openDatabase(dataDir);
  const history = new build.HistoryRepo(db);
  const variables = new build.VariableRepo(db);
  const logs = new build.LogWriter(join(dataDir, 'cronium.db'));
  return {
    getExecution: (id) => history.getExecution(id),
    listExecutions: (filter) => history.listExecutions(filter),
    getVariable: (key) => variables.get(key),
    setVariable: (key, value) => variables.set(key, value, false, 'bench'),
    logs,
    close: async () => {
      await logs.close();
      db.close();
    },
  };
}

/** The history rows: runs of PER_RUN executions, a second apart, over JOBS jobs and SERVERS servers. */
const BASE = 1_700_000_000_000;
const jobOf = (run: number) => run % JOBS;
const statusOf = (i: number) => (i % 17 === 0 ? 'failed' : 'succeeded');

/** Fills the SQLite store through one connection and one transaction (the fastest way SQLite allows). */
function seedSqlite(db: SqliteDatabase): string[] {
  const raw = db.raw;
  const sample: string[] = [];
  const run = raw.prepare(
    `INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, ended_at)
     VALUES (?, ?, ?, 'schedule', 10, 'auto', 'succeeded', ?, ?)`,
  );
  const exec = raw.prepare(
    `INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, ended_at, exit_code, error_message)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  raw.exec('BEGIN');
  for (let r = 0; r < EXECUTIONS / PER_RUN; r++) {
    const runId = randomUUID();
    const at = BASE + r * 1000;
    const job = jobOf(r);
    run.run(runId, `job-${job}`, `nightly-backup-${job}`, at, at + 900);
    for (let k = 0; k < PER_RUN; k++) {
      const i = r * PER_RUN + k;
      const id = randomUUID();
      if (i % Math.ceil(EXECUTIONS / 1000) === 0) sample.push(id);
      const server = (r + k) % SERVERS;
      const failed = statusOf(i) === 'failed';
      exec.run(
        id,
        runId,
        `job-${job}`,
        `nightly-backup-${job}`,
        `server-${server}`,
        `web-${server}`,
        statusOf(i),
        at,
        at + 900,
        failed ? 1 : 0,
        failed ? 'exit code 1' : null,
      );
    }
  }
  raw.exec('COMMIT');
  return sample;
}

/** The same rows on PostgreSQL, generated by the server (ids are md5 text, as long as a UUID). */
async function seedPostgres(db: SqlDatabase): Promise<string[]> {
  const runs = EXECUTIONS / PER_RUN;
  await db.exec(`
INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, ended_at)
  SELECT 'r' || md5(r::text), 'job-' || (r % ${JOBS}), 'nightly-backup-' || (r % ${JOBS}), 'schedule', 10, 'auto',
         'succeeded', ${BASE} + r * 1000, ${BASE} + r * 1000 + 900
    FROM generate_series(0, ${runs - 1}) AS r;
INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, ended_at, exit_code, error_message)
  SELECT md5(i::text), 'r' || md5((i / ${PER_RUN})::text), 'job-' || ((i / ${PER_RUN}) % ${JOBS}),
         'nightly-backup-' || ((i / ${PER_RUN}) % ${JOBS}), 'server-' || ((i / ${PER_RUN} + i % ${PER_RUN}) % ${SERVERS}),
         'web-' || ((i / ${PER_RUN} + i % ${PER_RUN}) % ${SERVERS}),
         CASE WHEN i % 17 = 0 THEN 'failed' ELSE 'succeeded' END,
         ${BASE} + (i / ${PER_RUN}) * 1000, ${BASE} + (i / ${PER_RUN}) * 1000 + 900,
         CASE WHEN i % 17 = 0 THEN 1 ELSE 0 END, CASE WHEN i % 17 = 0 THEN 'exit code 1' END
    FROM generate_series(0, ${EXECUTIONS - 1}) AS i;
ANALYZE runs;
ANALYZE executions;
`);
  const step = Math.ceil(EXECUTIONS / 1000);
  return (
    await db.all<{ id: string }>(
      `SELECT md5(i::text) AS id FROM generate_series(0, ${EXECUTIONS - 1}, ${step}) AS i`,
    )
  ).map((r) => r.id);
}

/** One execution to write logs to (the log table's rows belong to an execution). */
async function logTarget(db: SqlDatabase): Promise<string> {
  const id = randomUUID();
  await new HistoryRepo(db).createRun(
    {
      id: randomUUID(),
      jobId: 'job-logs',
      jobName: 'logs',
      input: null,
      trigger: 'cli',
      concurrency: 1,
      helperMode: 'auto',
      startedAt: Date.now(),
    },
    [{ id, serverId: 'server-logs', serverName: 'logs' }],
  );
  return id;
}

/** Microseconds per call of `fn` over `n` calls (awaiting each, as a caller does). */
async function perCall(n: number, fn: (i: number) => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return ((performance.now() - start) * 1000) / n;
}

/** Microseconds per chunk of BATCHES batches of BATCH chunks written and flushed, starting at seq `from`. */
async function perChunk(logs: LogStore, executionId: string, from: number): Promise<number> {
  const text = 'INFO 2026-11-30T03:00:00Z backup: copied 4096 files to /var/backups/nightly\n';
  const start = performance.now();
  let seq = from;
  for (let b = 0; b < BATCHES; b++) {
    const batch: LogChunk[] = [];
    for (let k = 0; k < BATCH; k++)
      batch.push({ executionId, seq: seq++, stream: k % 7 ? 'stdout' : 'stderr', ts: Date.now(), text });
    if (!logs.write(batch)) await logs.whenDrained();
  }
  await logs.flush();
  return ((performance.now() - start) * 1000) / (BATCH * BATCHES);
}

interface Measure {
  label: string;
  /** Microseconds per call on one build/engine, for round `round`. */
  run(calls: Calls, ids: string[], round: number, logId: string): Promise<number>;
}

const pick = (ids: string[], i: number) => ids[(i * 7919) % ids.length]!;
const older = (ids: string[]) => ({ startedAt: BASE + EXECUTIONS * 50, id: ids[0]! });

const MEASURES: Measure[] = [
  { label: 'getExecution (by id)', run: (c, ids) => perCall(2000, (i) => c.getExecution(pick(ids, i))) },
  {
    label: `history first page (50 of ${EXECUTIONS.toLocaleString('en')})`,
    run: (c) => perCall(50, () => c.listExecutions({ limit: 50 })),
  },
  {
    label: 'history next page (keyset cursor)',
    run: (c, ids) => perCall(50, () => c.listExecutions({ limit: 50, before: older(ids) })),
  },
  {
    label: 'history first page, one job',
    run: (c) => perCall(50, (i) => c.listExecutions({ limit: 50, jobId: `job-${i % JOBS}` })),
  },
  {
    label: 'history first page, failed only',
    run: (c) => perCall(50, () => c.listExecutions({ limit: 50, status: 'failed' })),
  },
  {
    label: 'history first page, text search "backup-7 web-1"',
    run: (c) => perCall(20, () => c.listExecutions({ limit: 50, text: 'backup-7 web-1' })),
  },
  { label: 'variable get', run: (c) => perCall(5000, (i) => c.getVariable(`v${i % 100}`)) },
  {
    label: 'variable set (upsert)',
    run: (c, _ids, r) => perCall(2000, (i) => c.setVariable(`v${i % 100}`, `${r}:${i}`)),
  },
  {
    label: `log chunks (${BATCH}-chunk batches, flushed)`,
    run: (c, _ids, r, logId) => perChunk(c.logs, logId, r * BATCH * BATCHES),
  },
];

const us = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(1)} ms` : `${x.toFixed(1)} µs`);

/** Runs the store section: prints one table, the sync build beside this one on SQLite, and PostgreSQL. */
export async function storeBench(): Promise<void> {
  const syncDir = process.env.CRONIUM_BENCH_SYNC;
  const build = syncDir ? await loadSyncBuild(syncDir) : null;
  const dir = mkdtempSync(join(tmpdir(), 'cronium-bench-store-'));
  const pg = await startPostgres();
  try {
    let t = performance.now();
    const sqlite = (await openStore({ dataDir: dir })) as SqliteDatabase;
    const sqliteIds = seedSqlite(sqlite);
    const sqliteSeed = performance.now() - t;
    const sqliteLog = await logTarget(sqlite);
    t = performance.now();
    const postgres = await openStore({ dataDir: dir, databaseUrl: pg.createDatabase('bench_store') });
    const pgIds = await seedPostgres(postgres);
    const pgSeed = performance.now() - t;
    const pgLog = await logTarget(postgres);
    for (const db of [sqlite, postgres]) {
      const vars = new VariableRepo(db);
      for (let i = 0; i < 100; i++) await vars.set(`v${i}`, String(i), false, 'bench');
    }
    const now = asyncCalls(sqlite, new LogWriter(join(dir, 'cronium.db')));
    const old = build ? syncCalls(build, dir) : null;
    const shared = asyncCalls(postgres, new PostgresLogWriter(postgres));

    console.log(
      `\n## Store: per call (medians of ${REPS} rounds; sync and async alternate)\n\n` +
        `${EXECUTIONS.toLocaleString('en')} executions seeded in ${(sqliteSeed / 1000).toFixed(1)} s (SQLite), ` +
        `${(pgSeed / 1000).toFixed(1)} s (PostgreSQL ${await postgres.version()}); ` +
        `sync build: ${syncDir ?? 'not given (CRONIUM_BENCH_SYNC)'}\n`,
    );
    console.log(
      '| call | SQLite, sync build | SQLite, async (this build) | async / sync | PostgreSQL | load (1 min) |',
    );
    console.log('|---|---|---|---|---|---|');
    for (const m of MEASURES) {
      const a: number[] = [];
      const s: number[] = [];
      const p: number[] = [];
      for (let r = 0; r < REPS; r++) {
        // Alternate which of the two SQLite builds goes first, so neither always meets a warm cache.
        if (old && r % 2 === 1) s.push(await m.run(old, sqliteIds, r, sqliteLog));
        a.push(await m.run(now, sqliteIds, r + REPS, sqliteLog));
        if (old && r % 2 === 0) s.push(await m.run(old, sqliteIds, r + 2 * REPS, sqliteLog));
        p.push(await m.run(shared, pgIds, r, pgLog));
      }
      const syncFigure = old ? median(s) : null;
      console.log(
        `| ${m.label} | ${syncFigure === null ? '-' : us(syncFigure)} | ${us(median(a))} | ` +
          `${syncFigure === null ? '-' : `${(median(a) / syncFigure).toFixed(2)}×`} | ${us(median(p))} | ${load()} |`,
      );
    }
    await now.close();
    await old?.close();
    await shared.close();
  } finally {
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
