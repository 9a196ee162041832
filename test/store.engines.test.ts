/**
 * One conformance suite for both engines behind `SqlDatabase` (issue 13): the embedded SQLite file and a
 * real PostgreSQL server (a throwaway one for this file, test/support/postgres.ts). Portable SQL must mean
 * the same on both: placeholders, types, upserts, case-blind lookups, LIKE, transactions, concurrency, and
 * the migrations — from empty, and from every older version with rows in it (mirroring
 * test/migrations.test.ts at the SQL level: each PostgreSQL store is compared row for row with SQLite's).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CroniumError } from '../src/core/errors.ts';
import { migrateSql, SCHEMA_VERSION } from '../src/store/migrate.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import {
  checkServerVersion,
  connectPostgres,
  NOTIFY_MAX_BYTES,
  numberPlaceholders,
  openPostgres,
  PostgresDatabase,
} from '../src/store/postgresEngine.ts';
import type { Sql, SqlDatabase, SqlEngine } from '../src/store/sql.ts';
import { SqliteDatabase } from '../src/store/sqliteEngine.ts';
import { tempDir } from './support/fixtures.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

let server: TestPostgres;
const files = tempDir();
const opened: SqlDatabase[] = [];
let databases = 0;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close().catch(() => {})));
  server?.stop();
  files.remove();
});

/** Where a fresh, empty store of an engine lives: a new SQLite file, or a new PostgreSQL database. */
function freshLocation(engine: SqlEngine): string {
  const name = `db_${++databases}`;
  return engine === 'sqlite' ? join(files.path, `${name}.db`) : server.createDatabase(name);
}

function openAt(engine: SqlEngine, location: string): SqlDatabase {
  const db = engine === 'sqlite' ? new SqliteDatabase(location) : new PostgresDatabase(location);
  opened.push(db);
  return db;
}

/** A fresh store of `engine`, migrated to the newest schema. */
async function freshStore(engine: SqlEngine): Promise<SqlDatabase> {
  const db = openAt(engine, freshLocation(engine));
  await migrateSql(db);
  return db;
}

/** Runs `node test/support/engineChild.ts …args`; resolves with its JSON line. */
function child(args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(import.meta.dirname, 'support', 'engineChild.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out) as unknown) : reject(new Error(`child exited ${code}: ${err}`)),
    );
  });
}

const T = 1_700_000_000_123;
const BIG_LOG = 'line of packed output\n'.repeat(2000);

/**
 * Rows as each version's schema held them (the same rows as test/migrations.test.ts), written with that
 * version's SQL through the seam, so they run on both engines.
 */
const SEEDS: Record<number, (db: Sql) => Promise<unknown>> = {
  1: (db) =>
    db.exec(`
      INSERT INTO servers (id, name, host, port, username, auth_type, key_path, tags, description, created_at, updated_at)
        VALUES ('s1', 'web1', '10.0.0.1', 2200, 'deploy', 'key', '/k/id_ed25519', '["prod"]', 'front', ${T}, ${T});
      INSERT INTO servers (id, name, host, port, username, auth_type, jump_server_id, created_at, updated_at)
        VALUES ('s2', 'db1', '10.0.0.2', 22, 'admin', 'agent', 's1', ${T}, ${T});
      INSERT INTO jobs (id, name, language, script, timeout_sec, env, default_input, default_server_ids, helper_mode, tags, created_at, updated_at)
        VALUES ('j1', 'disk', 'bash', 'df -h', 60, '[{"key":"A","value":"1","secret":false}]', '{"n":1}', '["s1"]', 'bundled', '["ops"]', ${T}, ${T});
      INSERT INTO runs (id, job_id, job_name, input, trigger, concurrency, helper_mode, status, owner_pid, started_at, ended_at)
        VALUES ('r1', 'j1', 'disk', '{"n":1}', 'cli', 10, 'auto', 'succeeded', 1, ${T}, ${T + 500});
      INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, exit_code, helper_mode,
          connect_ms, deploy_ms, script_ms, collect_ms, started_at, ended_at, output, condition, variable_changes, attempt)
        VALUES ('e1', 'r1', 'j1', 'disk', 's1', 'web1', 'succeeded', 0, 'api', 40, 5, 300, 0, ${T}, ${T + 400},
          '{"ok":true}', 1, '[{"key":"k","action":"set"}]', 1);
      INSERT INTO log_chunks (execution_id, seq, stream, ts, text) VALUES ('e1', 0, 'stdout', ${T}, 'hello\n');
      INSERT INTO log_chunks (execution_id, seq, stream, ts, text) VALUES ('e1', 1, 'stderr', ${T + 1}, 'warn ✓\n');
      INSERT INTO variables (key, value, secret, updated_at, updated_by) VALUES ('threshold', '80', 0, ${T}, 'user');
      INSERT INTO known_hosts (host, port, key_type, fingerprint, first_seen) VALUES ('10.0.0.1', 2200, 'ssh-ed25519', 'SHA256:abc', ${T});
      INSERT INTO settings (key, value) VALUES ('example', 'kept');
    `),
  2: (db) =>
    db.run(
      "INSERT INTO log_chunks (execution_id, seq, stream, ts, text, packed) VALUES ('e1', 2, 'stdout', ?, '', ?)",
      [T + 2, deflateRawSync(BIG_LOG)],
    ),
  3: (db) =>
    db.exec(`
      INSERT INTO schedules (id, name, job_id, cron, timezone, targets, params, input, overlap, missed, enabled,
          checked_until, last_fire_at, last_outcome, last_run_id, created_at, updated_at)
        VALUES ('sc1', 'nightly', 'j1', '0 3 * * *', 'Europe/Berlin', '["s1","tag:prod"]', '{"region":"eu"}', '{"n":2}',
          'skip', 'run-once', 1, ${T}, ${T}, 'started', 'r1', ${T}, ${T});
      INSERT INTO schedule_fires (schedule_id, fire_at, holder, outcome, run_id, claimed_at)
        VALUES ('sc1', ${T}, 'host:1:ab', 'started', 'r1', ${T});
      INSERT INTO scheduler_lease (name, holder, expires_at, acquired_at) VALUES ('main', 'host:1:ab', ${T + 30_000}, ${T});
      UPDATE runs SET schedule_id = 'sc1', trigger = 'schedule' WHERE id = 'r1';
    `),
  4: (db) => db.exec("UPDATE servers SET helper_mode = 'bundled' WHERE id = 's2'"),
  5: (db) =>
    db.exec(`
      INSERT INTO jobs (id, name, language, script, chain, desktop_notify, created_at, updated_at)
        VALUES ('j2', 'after-disk', 'bash', 'true', '[{"on":"success","jobId":"j1","servers":"same"}]', 'failure', ${T}, ${T});
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, parent_execution_id, chain_depth)
        VALUES ('r2', 'j2', 'after-disk', 'chain', 10, 'auto', 'succeeded', ${T + 600}, 'e1', 1);
    `),
  6: (db) =>
    db.exec(`
      UPDATE jobs SET params = '[{"name":"n","type":"number","choices":[],"default":1,"description":""}]' WHERE id = 'j1';
      INSERT INTO runs (id, job_id, job_name, input, trigger, concurrency, helper_mode, status, owner_pid, started_at, ended_at, params, retry_of, attempt)
        VALUES ('r3', 'j1', 'disk', '{"n":1}', 'retry', 10, 'auto', 'succeeded', 1, ${T + 1000}, ${T + 1500}, '{"n":2}', 'r1', 2);
      UPDATE executions SET stdout_hash = 'abc' WHERE id = 'e1';
      INSERT INTO cancel_requests (run_id, execution_id, requested_at) VALUES ('r3', NULL, ${T + 1200});
    `),
  7: (db) =>
    db.exec(`
      INSERT INTO tools (id, name, type, summary, secret, created_at, updated_at)
        VALUES ('t1', 'team-slack', 'slack', 'webhook on hooks.slack.com', 'v1:sealed', ${T}, ${T});
      UPDATE executions SET tool_actions = '[{"tool":"slack","action":"send_message","status":"sent","at":${T}}]'
        WHERE id = 'e1';
    `),
  8: (db) =>
    db.exec(`
      UPDATE jobs SET keep_running = 1 WHERE id = 'j1';
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at)
        VALUES ('r8', 'j1', 'disk', 'cli', 10, 'bundled', 'running', ${T + 10});
      INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, keep_running)
        VALUES ('e8', 'r8', 'j1', 'disk', 's1', 'web1', 'detached', ${T + 10}, 1);
    `),
  9: (db) =>
    db.exec(`
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, ended_at, started_by)
        VALUES ('r9', 'j1', 'disk', 'cli', 10, 'auto', 'succeeded', ${T + 20}, ${T + 30}, 'alice@laptop');
      INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, ended_at, started_by)
        VALUES ('e9', 'r9', 'j1', 'disk', 's1', 'web1', 'succeeded', ${T + 20}, ${T + 30}, 'alice@laptop');
    `),
  10: (db) =>
    db.exec(`
      INSERT INTO workers (name, host, pid, concurrency, started_at, heartbeat_at) VALUES ('w1', 'build-1', 42, 4, ${T}, ${T + 20});
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, via)
        VALUES ('r10', 'j1', 'disk', 'cli', 10, 'auto', 'running', ${T + 20}, 'workers');
      INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, worker, queue_job)
        VALUES ('e10', 'r10', 'j1', 'disk', 's1', 'web1', 'running', ${T + 20}, 'w1', 'q1');
    `),
  // Keys a linguistic collation orders otherwise than bytes (version 11 puts PostgreSQL's text in byte order).
  11: (db) =>
    db.exec(`
      INSERT INTO variables (key, value, secret, updated_at, updated_by) VALUES
        ('b11', '1', 0, ${T}, 'user'), ('B-11', '2', 0, ${T}, 'user'), ('a.11', '3', 0, ${T}, 'user');
    `),
  12: (db) =>
    db.exec(`
      INSERT INTO jobs (id, name, language, script, created_at, updated_at, default_via)
        VALUES ('j11', 'fanout', 'bash', 'true', ${T}, ${T}, 'workers');
    `),
  // A job's executions, counted by status from the index version 13 adds.
  13: (db) =>
    db.exec(`
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, ended_at)
        VALUES ('r13', 'j13', 'counted', 'cli', 10, 'auto', 'failed', ${T + 40}, ${T + 41});
      INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, ended_at)
        VALUES ('e13', 'r13', 'j13', 'counted', 's1', 'web1', 'failed', ${T + 40}, ${T + 41});
    `),
};

/** Every table of the newest schema and the columns that order its rows. */
const TABLES: Record<string, string> = {
  servers: 'id',
  jobs: 'id',
  runs: 'id',
  executions: 'id',
  log_chunks: 'execution_id, seq',
  variables: 'key',
  known_hosts: 'host, port',
  settings: 'key',
  schedules: 'id',
  schedule_fires: 'schedule_id, fire_at',
  scheduler_lease: 'name',
  cancel_requests: 'run_id, requested_at',
  tools: 'id',
  workers: 'name',
};

/** Every row of every table, blobs as hex: what two stores must agree on. */
async function dump(db: Sql): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [table, order] of Object.entries(TABLES))
    out[table] = (await db.all(`SELECT * FROM ${table} ORDER BY ${order}`)).map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [
          k,
          v instanceof Uint8Array ? `hex:${Buffer.from(v).toString('hex')}` : v,
        ]),
      ),
    );
  out.schema_migrations = await db.all('SELECT version, name FROM schema_migrations ORDER BY version');
  return out;
}

describe('numberPlaceholders', () => {
  it('numbers ? outside quoted text, comments and dollar quotes, and leaves those alone', () => {
    const sql = `SELECT ?, '?', 'it''s ?', E'\\'?', "col?", $$?$$, $t$ ? $t$ -- ?
      /* ? /* ? */ ? */ FROM x WHERE a = ? AND b::text = ?`;
    const { text, count } = numberPlaceholders(sql);
    expect(count).toBe(3);
    expect(text).toBe(
      sql
        .replace(/^SELECT \?/, 'SELECT $1')
        .replace('a = ?', 'a = $2')
        .replace('b::text = ?', 'b::text = $3'),
    );
  });
});

describe('checkServerVersion', () => {
  const target = { host: 'db.example', port: 5432, database: 'cronium', user: 'u' };
  it('takes 13 and newer, and refuses older servers with a sentence', () => {
    expect(() => checkServerVersion(130_000, target)).not.toThrow();
    expect(() => checkServerVersion(150_004, target)).not.toThrow();
    expect(() => checkServerVersion(120_011, target)).toThrow(/version 12; Cronium needs 13 or newer/);
    expect(() => checkServerVersion(90_624, target)).toThrow(/version 9\.1; Cronium needs 13/);
  });
});

describe.each(['sqlite', 'postgres'] as const)('the %s engine', (engine) => {
  it('binds ? placeholders, and leaves a ? inside a string literal, identifier or comment alone', async () => {
    const db = await freshStore(engine);
    await db.exec('CREATE TABLE marks (k TEXT PRIMARY KEY, "what?" TEXT, note TEXT)');
    await db.run(`INSERT INTO marks (k, "what?", note) -- a ? in a comment\n VALUES (?, '?', ?)`, [
      'a',
      'x?y',
    ]);
    expect(await db.get('SELECT k, "what?", note FROM marks WHERE k = ? AND note = ?', ['a', 'x?y'])).toEqual(
      {
        k: 'a',
        'what?': '?',
        note: 'x?y',
      },
    );
  });

  it('returns epoch milliseconds and counts as numbers, text as UTF-8, blobs as bytes', async () => {
    const db = await freshStore(engine);
    const text = 'héllo ✓ 𝄞 — 日本語\n\ttab';
    await db.run(
      'INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ['r', 'j', text, 'cli', 10, 'auto', 'succeeded', T, BigInt(T + 1)],
    );
    const row = await db.get<{ started_at: unknown; ended_at: unknown; job_name: unknown }>(
      'SELECT started_at, ended_at, job_name FROM runs WHERE id = ?',
      ['r'],
    );
    expect(row).toEqual({ started_at: T, ended_at: T + 1, job_name: text });
    const agg = await db.get<{ n: unknown; total: unknown; newest: unknown }>(
      'SELECT count(*) AS n, sum(started_at) AS total, max(started_at) AS newest FROM runs',
    );
    expect(agg).toEqual({ n: 1, total: T, newest: T });
    const bytes = new Uint8Array(256).map((_, i) => i);
    await db.exec(
      "INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at) VALUES ('e', 'r', 'j', 'n', 's', 's', 'running', 0)",
    );
    await db.run(
      "INSERT INTO log_chunks (execution_id, seq, stream, ts, text, packed) VALUES ('e', 0, 'stdout', ?, '', ?)",
      [T, bytes],
    );
    const blob = await db.get<{ packed: Uint8Array }>('SELECT packed FROM log_chunks');
    expect(blob!.packed).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(blob!.packed).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses an integer beyond Number.MAX_SAFE_INTEGER instead of rounding it', async () => {
    const db = await freshStore(engine);
    await db.run("INSERT INTO settings (key, value) VALUES ('big', '9007199254740993')");
    await expect(
      db.get(
        engine === 'postgres'
          ? 'SELECT CAST(value AS BIGINT) AS n FROM settings'
          : 'SELECT CAST(value AS INTEGER) AS n FROM settings',
      ),
    ).rejects.toThrow();
    // The connection is still usable afterwards.
    expect(await db.get('SELECT count(*) AS n FROM settings')).toEqual({ n: 1 });
  });

  it('upserts with ON CONFLICT … DO NOTHING and DO UPDATE', async () => {
    const db = await freshStore(engine);
    const upsert =
      'INSERT INTO variables (key, value, secret, updated_at, updated_by) VALUES (?, ?, 0, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at';
    await db.run(upsert, ['k', '1', T, 'a']);
    expect((await db.run(upsert, ['k', '2', T + 5, 'b'])).changes).toBe(1);
    expect(await db.get('SELECT value, updated_at, updated_by FROM variables WHERE key = ?', ['k'])).toEqual({
      value: '2',
      updated_at: T + 5,
      updated_by: 'a',
    });
    const ignore = 'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING';
    expect((await db.run(ignore, ['s', 'first'])).changes).toBe(1);
    expect((await db.run(ignore, ['s', 'second'])).changes).toBe(0);
    expect(await db.get('SELECT value FROM settings WHERE key = ?', ['s'])).toEqual({ value: 'first' });
  });

  it('finds names case-blind through lower(), and keeps them unique regardless of case', async () => {
    const db = await freshStore(engine);
    const add = (id: string, name: string) =>
      db.run(
        "INSERT INTO servers (id, name, host, port, username, auth_type, created_at, updated_at) VALUES (?, ?, 'h', 22, 'u', 'agent', ?, ?)",
        [id, name, T, T],
      );
    await add('s1', 'Web-Prod');
    expect(await db.get('SELECT id FROM servers WHERE lower(name) = lower(?)', ['WEB-prod'])).toEqual({
      id: 's1',
    });
    await expect(add('s2', 'web-PROD')).rejects.toThrow();
    for (const table of ['jobs', 'schedules', 'tools']) {
      // Each named table keeps one name per spelling-blind case (the SQLite column is COLLATE NOCASE).
      const names = (await db.all<{ name: string }>(`SELECT name FROM ${table}`)).map((r) => r.name);
      expect(names).toEqual([]);
    }
    await db.run(
      "INSERT INTO jobs (id, name, language, script, created_at, updated_at) VALUES ('j1', 'Backup', 'bash', 'true', ?, ?)",
      [T, T],
    );
    await expect(
      db.run(
        "INSERT INTO jobs (id, name, language, script, created_at, updated_at) VALUES ('j2', 'BACKUP', 'bash', 'true', ?, ?)",
        [T, T],
      ),
    ).rejects.toThrow();
  });

  it('matches LIKE through lower() with an ESCAPE character for % and _', async () => {
    const db = await freshStore(engine);
    for (const [key, value] of [
      ['a', '50% OFF today'],
      ['b', '500 off'],
      ['c', 'snake_case'],
      ['d', 'snakeXcase'],
    ] as [string, string][])
      await db.run('INSERT INTO settings (key, value) VALUES (?, ?)', [key, value]);
    const like = async (pattern: string) =>
      (
        await db.all<{ key: string }>(
          "SELECT key FROM settings WHERE lower(value) LIKE lower(?) ESCAPE '\\' ORDER BY key",
          [pattern],
        )
      ).map((r) => r.key);
    expect(await like('%50\\% off%')).toEqual(['a']);
    expect(await like('%E\\_C%')).toEqual(['c']);
    expect(await like('%E_C%')).toEqual(['c', 'd']);
  });

  it('rolls a failing transaction back whole, nests into the same one, and keeps outside statements out', async () => {
    const db = await freshStore(engine);
    await expect(
      db.transaction(async (tx) => {
        await tx.run("INSERT INTO settings (key, value) VALUES ('a', '1')");
        await tx.transaction(async (inner) => {
          await inner.run("INSERT INTO settings (key, value) VALUES ('a2', '1')");
        });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.all("SELECT key FROM settings WHERE key IN ('a', 'a2')")).toEqual([]);

    // A nested call's error rolls back everything, the outer statements too.
    await expect(
      db.transaction(async (tx) => {
        await tx.run("INSERT INTO settings (key, value) VALUES ('n1', '1')");
        await tx.transaction(async (inner) => {
          await inner.run("INSERT INTO settings (key, value) VALUES ('n2', '1')");
          throw new Error('inner');
        });
      }),
    ).rejects.toThrow('inner');
    expect(await db.all("SELECT key FROM settings WHERE key IN ('n1', 'n2')")).toEqual([]);

    const committed = await db.transaction(async (tx) => {
      await tx.run("INSERT INTO settings (key, value) VALUES ('ok', '1')");
      return tx.transaction(
        async (inner) => (await inner.run("UPDATE settings SET value = '2' WHERE key = 'ok'")).changes,
      );
    });
    expect(committed).toBe(1);
    expect(await db.get("SELECT value FROM settings WHERE key = 'ok'")).toEqual({ value: '2' });

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertedInside = new Promise<void>((resolve) => (inserted = resolve));
    const tx = db.transaction(async (t) => {
      await t.run("INSERT INTO settings (key, value) VALUES ('b', '1')");
      inserted();
      await gate;
      throw new Error('rolled back');
    });
    await insertedInside;
    const outside = db.run("INSERT INTO settings (key, value) VALUES ('c', '1')");
    release();
    await expect(tx).rejects.toThrow('rolled back');
    expect((await outside).changes).toBe(1);
    const keys = (await db.all<{ key: string }>('SELECT key FROM settings ORDER BY key')).map((r) => r.key);
    expect(keys).toContain('c');
    expect(keys).not.toContain('b');
  });

  it('keeps one counter consistent when two processes increment it in transactions at once', async () => {
    const location = freshLocation(engine);
    const db = openAt(engine, location);
    await migrateSql(db);
    await db.exec('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
    await db.run('INSERT INTO counter (id, n) VALUES (1, 0)');
    const times = 40;
    const startAt = String(Date.now() + 1500);
    const [a, b] = (await Promise.all([
      child(['count', engine, location, startAt, String(times)]),
      child(['count', engine, location, startAt, String(times)]),
    ])) as [number[], number[]];
    // Every transaction saw its own increment: no value twice, none lost, the row ends at the total.
    expect(new Set([...a, ...b]).size).toBe(2 * times);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: 2 * times }, (_, i) => i + 1));
    expect(await db.get('SELECT n FROM counter WHERE id = 1')).toEqual({ n: 2 * times });
  });

  it('migrates an empty store to the newest version, and a second time applies nothing', async () => {
    const db = openAt(engine, freshLocation(engine));
    expect(await migrateSql(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrateSql(db)).toEqual([]);
    expect(await db.get('SELECT max(version) AS v, count(*) AS n FROM schema_migrations')).toEqual({
      v: SCHEMA_VERSION,
      n: MIGRATIONS.length,
    });
    const tables = await dump(db);
    expect(Object.values(tables).every((rows) => Array.isArray(rows))).toBe(true);
  });

  it('applies each step once when two processes migrate one store at once', async () => {
    const location = freshLocation(engine);
    const startAt = String(Date.now() + 1500);
    const [a, b] = (await Promise.all([
      child(['migrate', engine, location, startAt]),
      child(['migrate', engine, location, startAt]),
    ])) as [number[], number[]];
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(MIGRATIONS.map((m) => m.version));
    const db = openAt(engine, location);
    expect(await db.all('SELECT version FROM schema_migrations ORDER BY version')).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version })),
    );
  });
});

describe('upgrades on PostgreSQL', () => {
  it('has a seed of rows for every version', () => {
    expect(Object.keys(SEEDS).map(Number)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it.each(MIGRATIONS.map((m) => m.version))(
    'upgrades a store of version %i, with rows, to the newest, holding the same rows as SQLite',
    async (base) => {
      const stores = await Promise.all(
        (['sqlite', 'postgres'] as const).map(async (engine) => {
          const db = openAt(engine, freshLocation(engine));
          for (const m of MIGRATIONS.filter((m) => m.version <= base)) {
            await migrateSql(db, m.version);
            await SEEDS[m.version]!(db);
          }
          expect(await db.get('SELECT max(version) AS v FROM schema_migrations')).toEqual({ v: base });
          await migrateSql(db);
          expect(await db.get('SELECT max(version) AS v FROM schema_migrations')).toEqual({
            v: SCHEMA_VERSION,
          });
          return dump(db);
        }),
      );
      const [sqlite, postgres] = stores as [
        Awaited<ReturnType<typeof dump>>,
        Awaited<ReturnType<typeof dump>>,
      ];
      expect(postgres).toEqual(sqlite);
      // What the rows say, beyond agreeing: epoch ms as numbers, the packed log intact, later columns defaulted.
      expect(postgres.runs!.find((r) => r.id === 'r1')).toMatchObject({ started_at: T, ended_at: T + 500 });
      expect(postgres.log_chunks).toHaveLength(base >= 2 ? 3 : 2);
      expect(postgres.jobs!.find((j) => j.id === 'j1')).toMatchObject({
        keep_running: base >= 8 ? 1 : 0,
        chain: '[]',
      });
      expect(postgres.servers!.find((s) => s.id === 's2')).toMatchObject({
        helper_mode: base >= 4 ? 'bundled' : 'default',
      });
    },
  );
});

describe('PostgresDatabase', () => {
  it('names host, port and database in a connection error, never the password', async () => {
    const closed = `postgres://cronium:hunter2secret@127.0.0.1:1/cronium`;
    const refused = await connectPostgres(closed).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(CroniumError);
    expect((refused as CroniumError).kind).toBe('connection_refused');
    expect((refused as CroniumError).message).toMatch(/127\.0\.0\.1:1 \(database "cronium"/);
    expect((refused as CroniumError).message).not.toContain('hunter2secret');

    const missing = await connectPostgres(
      `postgres://cronium:hunter2secret@127.0.0.1:${server.port}/nosuchdb`,
    ).catch((err: unknown) => err);
    expect((missing as CroniumError).kind).toBe('not_found');
    expect((missing as CroniumError).message).toContain('"nosuchdb"');
    expect((missing as CroniumError).message).not.toContain('hunter2secret');

    await expect(connectPostgres('mysql://x@y/z')).rejects.toMatchObject({ kind: 'invalid_input' });
  });

  it('opens a store migrated to the newest version, located by its URL without the password', async () => {
    const url = server.createDatabase('opened').replace('cronium@', 'cronium:pw%40x@');
    const db = await openPostgres(url);
    opened.push(db);
    expect(db.location).toBe(`postgres://cronium@127.0.0.1:${server.port}/opened`);
    expect(await db.get('SELECT max(version) AS v FROM schema_migrations')).toEqual({ v: SCHEMA_VERSION });
  });

  it('delivers notifications, listens again after its connection is dropped, and refuses oversized payloads', async () => {
    const db = await openPostgres(server.createDatabase('notify'));
    opened.push(db);
    const got: string[] = [];
    let waiter: (() => void) | null = null;
    const next = () => new Promise<void>((resolve) => (waiter = resolve));
    let resumed!: () => void;
    const resumedOnce = new Promise<void>((resolve) => (resumed = resolve));
    const stop = await db.listen(
      'cronium_test',
      (payload) => {
        got.push(payload);
        waiter?.();
      },
      () => resumed(),
    );
    let arrived = next();
    await db.notify('cronium_test', 'one ✓');
    await arrived;
    expect(got).toEqual(['one ✓']);

    // The server ends the listening connection (as a restart or a failover would).
    await db.run(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    );
    await resumedOnce;
    arrived = next();
    await db.notify('cronium_test', 'two');
    await arrived;
    expect(got).toEqual(['one ✓', 'two']);

    const largest = 'x'.repeat(NOTIFY_MAX_BYTES);
    arrived = next();
    await db.notify('cronium_test', largest);
    await arrived;
    expect(got[2]).toBe(largest);
    await expect(db.notify('cronium_test', largest + 'x')).rejects.toMatchObject({ kind: 'invalid_input' });

    // Stopped: nothing more arrives. Notifications are delivered in commit order, so once a later one on
    // another channel has arrived, an earlier one on the stopped channel would have too.
    let fenced!: () => void;
    const fence = new Promise<void>((resolve) => (fenced = resolve));
    const stopFence = await db.listen('cronium_fence', () => fenced());
    await stop();
    await db.notify('cronium_test', 'after');
    await db.notify('cronium_fence', 'done');
    await fence;
    await stopFence();
    expect(got).toHaveLength(3);
  });
});
