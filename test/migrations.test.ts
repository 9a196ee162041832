/**
 * Every schema version upgrades to the newest with rows in it (as GitHub Desktop tests its databases):
 * for each older version, a database is built up to it with the rows each version could hold, migrated to
 * the newest, and read back through the repositories the app uses.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { deflateRawSync } from 'node:zlib';

import { afterEach, describe, expect, it } from 'vitest';

import { migrate, type Database } from '../src/store/database.ts';
import { HistoryRepo } from '../src/store/historyRepo.ts';
import { JobRepo } from '../src/store/jobRepo.ts';
import { KnownHostRepo } from '../src/store/knownHostRepo.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { ServerRepo } from '../src/store/serverRepo.ts';
import { VariableRepo } from '../src/store/variableRepo.ts';
import { tempDir } from './support/fixtures.ts';

const dirs: { remove: () => void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

const T = 1_700_000_000_000;
const BIG_LOG = 'line of packed output\n'.repeat(2000);

/**
 * Rows as each version's schema held them, written with that version's SQL (never through today's
 * repositories, which only know the newest schema). A new migration adds its entry here.
 */
const SEEDS: Record<number, (db: Database) => void> = {
  1: (db) => {
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
      INSERT INTO log_chunks (execution_id, seq, stream, ts, text) VALUES ('e1', 1, 'stderr', ${T + 1}, 'warn\n');
      INSERT INTO variables (key, value, secret, updated_at, updated_by) VALUES ('threshold', '80', 0, ${T}, 'user');
      INSERT INTO known_hosts (host, port, key_type, fingerprint, first_seen) VALUES ('10.0.0.1', 2200, 'ssh-ed25519', 'SHA256:abc', ${T});
      INSERT INTO settings (key, value) VALUES ('example', 'kept');
    `);
  },
  2: (db) => {
    db.prepare(
      "INSERT INTO log_chunks (execution_id, seq, stream, ts, text, packed) VALUES ('e1', 2, 'stdout', ?, '', ?)",
    ).run(T + 2, deflateRawSync(BIG_LOG));
  },
  3: (db) => {
    db.exec(`
      UPDATE jobs SET keep_running = 1 WHERE id = 'j1';
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at)
        VALUES ('r3', 'j1', 'disk', 'cli', 10, 'bundled', 'running', ${T + 10});
      INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, keep_running)
        VALUES ('e3', 'r3', 'j1', 'disk', 's1', 'web1', 'detached', ${T + 10}, 1);
    `);
  },
};

/** What the app must read back from rows seeded up to `base`. */
function expectSeeded(db: Database, base: number): void {
  const servers = new ServerRepo(db);
  expect(servers.getByName('web1')).toMatchObject({ host: '10.0.0.1', port: 2200, tags: ['prod'] });
  expect(servers.getByName('db1')).toMatchObject({ jumpServerId: 's1' });
  expect(servers.usedAsJumpBy('s1')).toEqual(['db1']);
  const job = new JobRepo(db).getByName('disk');
  expect(job).toMatchObject({
    language: 'bash',
    timeoutSec: 60,
    helperMode: 'bundled',
    defaultServerIds: ['s1'],
  });
  const history = new HistoryRepo(db);
  expect(history.getRun('r1')).toMatchObject({ status: 'succeeded', jobName: 'disk' });
  expect(history.getExecution('e1')).toMatchObject({
    status: 'succeeded',
    exitCode: 0,
    output: { ok: true },
  });
  const log = history.readLog('e1');
  expect(log.slice(0, 2).map((c) => c.text)).toEqual(['hello\n', 'warn\n']);
  if (base >= 2) expect(log[2]?.text).toBe(BIG_LOG);
  expect(job?.keepRunning).toBe(base >= 3);
  if (base >= 3) {
    expect(history.getExecution('e3')).toMatchObject({ status: 'detached', endedAt: null });
    expect(history.isKeepRunning('e3')).toBe(true);
    expect(history.detachedExecutionIds()).toEqual(['e3']);
  } else expect(history.isKeepRunning('e1')).toBe(false);
  expect(new VariableRepo(db).get('threshold')).toMatchObject({ value: '80', secret: false });
  expect(new KnownHostRepo(db).get('10.0.0.1', 2200)).toMatchObject({ fingerprint: 'SHA256:abc' });
}

describe('schema migrations', () => {
  it('has a seed of rows for every version', () => {
    expect(Object.keys(SEEDS).map(Number)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  const newest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  it.each(MIGRATIONS.map((m) => m.version))(
    'upgrades a store of version %i, with rows, to the newest',
    (base) => {
      const dir = tempDir();
      dirs.push(dir);
      const db = new DatabaseSync(join(dir.path, 'cronium.db'));
      db.exec('PRAGMA foreign_keys = ON');
      for (const m of MIGRATIONS.filter((m) => m.version <= base)) {
        migrate(db, m.version);
        SEEDS[m.version]!(db);
      }
      expect(db.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: base });
      migrate(db);
      expect(db.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: newest });
      expect(db.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
      expectSeeded(db, base);
      db.close();
    },
  );
});
