/**
 * Every schema version upgrades to the newest with rows in it (as GitHub Desktop tests its databases):
 * for each older version, a database is built up to it with the rows each version could hold, migrated to
 * the newest, and read back through the repositories the app uses.
 */
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { deflateRawSync } from 'node:zlib';

import { afterEach, describe, expect, it } from 'vitest';

import { HistoryRepo } from '../src/store/historyRepo.ts';
import { JobRepo } from '../src/store/jobRepo.ts';
import { KnownHostRepo } from '../src/store/knownHostRepo.ts';
import { migrateSql } from '../src/store/migrate.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { ScheduleRepo } from '../src/store/scheduleRepo.ts';
import { ServerRepo } from '../src/store/serverRepo.ts';
import type { Sql } from '../src/store/sql.ts';
import { SqliteDatabase } from '../src/store/sqliteEngine.ts';
import { ToolRepo } from '../src/store/toolRepo.ts';
import { VariableRepo } from '../src/store/variableRepo.ts';
import { tempDir } from './support/fixtures.ts';

const dirs: { remove: () => void }[] = [];
afterEach(async () => dirs.splice(0).forEach((d) => d.remove()));

const T = 1_700_000_000_000;
const BIG_LOG = 'line of packed output\n'.repeat(2000);

/**
 * Rows as each version's schema held them, written with that version's SQL (never through today's
 * repositories, which only know the newest schema). A new migration adds its entry here.
 */
const SEEDS: Record<number, (db: DatabaseSync) => void> = {
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
      INSERT INTO schedules (id, name, job_id, cron, timezone, targets, params, input, overlap, missed, enabled,
          checked_until, last_fire_at, last_outcome, last_run_id, created_at, updated_at)
        VALUES ('sc1', 'nightly', 'j1', '0 3 * * *', 'Europe/Berlin', '["s1","tag:prod"]', '{"region":"eu"}', '{"n":2}',
          'skip', 'run-once', 1, ${T}, ${T}, 'started', 'r1', ${T}, ${T});
      INSERT INTO schedule_fires (schedule_id, fire_at, holder, outcome, run_id, claimed_at)
        VALUES ('sc1', ${T}, 'host:1:ab', 'started', 'r1', ${T});
      UPDATE runs SET schedule_id = 'sc1', trigger = 'schedule' WHERE id = 'r1';
    `);
  },
  4: (db) => {
    db.exec("UPDATE servers SET helper_mode = 'bundled' WHERE id = 's2'");
  },
  5: (db) => {
    db.exec(`
      INSERT INTO jobs (id, name, language, script, chain, desktop_notify, created_at, updated_at)
        VALUES ('j2', 'after-disk', 'bash', 'true', '[{"on":"success","jobId":"j1","servers":"same"}]', 'failure', ${T}, ${T});
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, parent_execution_id, chain_depth)
        VALUES ('r2', 'j2', 'after-disk', 'chain', 10, 'auto', 'succeeded', ${T + 600}, 'e1', 1);
    `);
  },
  6: (db) => {
    db.exec(`
      UPDATE jobs SET params = '[{"name":"n","type":"number","choices":[],"default":1,"description":""}]' WHERE id = 'j1';
      INSERT INTO runs (id, job_id, job_name, input, trigger, concurrency, helper_mode, status, owner_pid, started_at, ended_at, params, retry_of, attempt)
        VALUES ('r3', 'j1', 'disk', '{"n":1}', 'retry', 10, 'auto', 'succeeded', 1, ${T + 1000}, ${T + 1500}, '{"n":2}', 'r1', 2);
      UPDATE executions SET stdout_hash = 'abc' WHERE id = 'e1';
    `);
  },
  7: (db) => {
    db.exec(`
      INSERT INTO tools (id, name, type, summary, secret, created_at, updated_at)
        VALUES ('t1', 'team-slack', 'slack', 'webhook on hooks.slack.com', 'v1:sealed', ${T}, ${T});
      UPDATE executions SET tool_actions = '[{"tool":"slack","action":"send_message","credential":"team-slack","target":"#ops","status":"sent","error":null,"mode":"api","at":${T}}]'
        WHERE id = 'e1';
    `);
  },
  8: (db) => {
    db.exec(`
      UPDATE jobs SET keep_running = 1 WHERE id = 'j1';
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at)
        VALUES ('r8', 'j1', 'disk', 'cli', 10, 'bundled', 'running', ${T + 10});
      INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, keep_running)
        VALUES ('e8', 'r8', 'j1', 'disk', 's1', 'web1', 'detached', ${T + 10}, 1);
    `);
  },
  9: (db) => {
    db.exec(`
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, ended_at, started_by)
        VALUES ('r9', 'j1', 'disk', 'cli', 10, 'auto', 'succeeded', ${T + 20}, ${T + 30}, 'alice@laptop');
      INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, ended_at, started_by)
        VALUES ('e9', 'r9', 'j1', 'disk', 's1', 'web1', 'succeeded', ${T + 20}, ${T + 30}, 'alice@laptop');
    `);
  },
  10: (db) => {
    db.exec(`
      INSERT INTO workers (name, host, pid, concurrency, started_at, heartbeat_at) VALUES ('w1', 'build-1', 42, 4, ${T}, ${T + 20});
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, via)
        VALUES ('r10', 'j1', 'disk', 'cli', 10, 'auto', 'running', ${T + 20}, 'workers');
      INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, worker, queue_job)
        VALUES ('e10', 'r10', 'j1', 'disk', 's1', 'web1', 'running', ${T + 20}, 'w1', 'q1');
    `);
  },
  // Keys a linguistic collation orders otherwise than bytes (version 11 puts PostgreSQL's text in byte order).
  11: (db) => {
    db.exec(`
      INSERT INTO variables (key, value, secret, updated_at, updated_by) VALUES
        ('b11', '1', 0, ${T}, 'user'), ('B-11', '2', 0, ${T}, 'user'), ('a.11', '3', 0, ${T}, 'user');
    `);
  },
  12: (db) => {
    db.exec(`
      INSERT INTO jobs (id, name, language, script, created_at, updated_at, default_via)
        VALUES ('j11', 'fanout', 'bash', 'true', ${T}, ${T}, 'workers');
    `);
  },
  // A job's executions are counted by status from the index version 13 adds.
  13: (db) => {
    db.exec(`
      INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, ended_at)
        VALUES ('r13', 'j13', 'counted', 'cli', 10, 'auto', 'failed', ${T + 40}, ${T + 41});
      INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, ended_at)
        VALUES ('e13', 'r13', 'j13', 'counted', 's1', 'web1', 'failed', ${T + 40}, ${T + 41});
    `);
  },
};

/** What the app must read back from rows seeded up to `base`. */
async function expectSeeded(db: Sql, base: number): Promise<void> {
  // Runs from before team mode ran here (direct); a worker run keeps its worker and queue job.
  expect(await db.get(`SELECT via FROM runs WHERE id = 'r1'`)).toEqual({ via: 'direct' });
  if (base >= 10)
    expect(await db.get(`SELECT worker, queue_job FROM executions WHERE id = 'e10'`)).toEqual({
      worker: 'w1',
      queue_job: 'q1',
    });
  const servers = new ServerRepo(db);
  expect(await servers.getByName('web1')).toMatchObject({ host: '10.0.0.1', port: 2200, tags: ['prod'] });
  expect(await servers.getByName('db1')).toMatchObject({
    jumpServerId: 's1',
    helperMode: base >= 4 ? 'bundled' : 'default',
  });
  expect((await servers.getByName('web1'))!.helperMode).toBe('default');
  expect(await servers.usedAsJumpBy('s1')).toEqual(['db1']);
  const job = await new JobRepo(db).getByName('disk');
  // Jobs from before a job's default place of running run here; one saved with workers keeps it.
  expect(job?.defaultVia).toBe('direct');
  if (base >= 12) expect((await new JobRepo(db).getByName('fanout'))?.defaultVia).toBe('workers');
  expect(job).toMatchObject({
    language: 'bash',
    timeoutSec: 60,
    helperMode: 'bundled',
    defaultServerIds: ['s1'],
  });
  const history = new HistoryRepo(db);
  expect(await history.getRun('r1')).toMatchObject({
    status: 'succeeded',
    jobName: 'disk',
    params: {},
    retryOf: null,
    attempt: 1,
  });
  if (base < 6) expect(job).toMatchObject({ params: [] });
  else {
    expect(await history.getRun('r3')).toMatchObject({ params: { n: 2 }, retryOf: 'r1', attempt: 2 });
    expect(await history.getExecution('e1')).toMatchObject({ stdoutHash: 'abc' });
  }
  expect(await history.getExecution('e1')).toMatchObject({
    status: 'succeeded',
    exitCode: 0,
    output: { ok: true },
  });
  const log = await history.readLog('e1');
  expect(log.slice(0, 2).map((c) => c.text)).toEqual(['hello\n', 'warn\n']);
  if (base >= 2) expect(log[2]?.text).toBe(BIG_LOG);
  // Rows from before chains have none; version 5's rows keep theirs.
  expect(job).toMatchObject({ chain: [], desktopNotify: 'never', webhook: null });
  expect(await history.getRun('r1')).toMatchObject({
    parentExecutionId: null,
    chainDepth: 0,
    notifications: [],
  });
  expect(await history.getExecution('e1')).toMatchObject({ chain: [] });
  if (base >= 5) {
    expect(await new JobRepo(db).getByName('after-disk')).toMatchObject({
      chain: [{ on: 'success', jobId: 'j1', servers: 'same' }],
      desktopNotify: 'failure',
    });
    expect(await history.getRun('r2')).toMatchObject({
      trigger: 'chain',
      parentExecutionId: 'e1',
      chainDepth: 1,
    });
    expect(await history.childRunIds('e1')).toEqual(['r2']);
  }
  expect(job?.keepRunning).toBe(base >= 8);
  if (base >= 8) {
    expect(await history.getExecution('e8')).toMatchObject({ status: 'detached', endedAt: null });
    expect(await history.isKeepRunning('e8')).toBe(true);
    expect(await history.detachedExecutionIds()).toEqual(['e8']);
  } else expect(await history.isKeepRunning('e1')).toBe(false);
  // Runs from before the audit trail record no actor ("unknown"); version 9's keep theirs.
  expect((await history.getRun('r1'))?.startedBy).toBeNull();
  expect((await history.getExecution('e1'))?.startedBy).toBeNull();
  if (base >= 9) {
    expect((await history.getRun('r9'))?.startedBy).toBe('alice@laptop');
    expect((await history.getExecution('e9'))?.startedBy).toBe('alice@laptop');
  }
  if (base >= 13)
    expect(await history.jobStats('j13', null)).toEqual({
      successCount: 0,
      failureCount: 1,
      lastRunAt: T + 40,
    });
  expect(await new VariableRepo(db).get('threshold')).toMatchObject({ value: '80', secret: false });
  expect(await new KnownHostRepo(db).get('10.0.0.1', 2200)).toMatchObject({ fingerprint: 'SHA256:abc' });
  const schedules = new ScheduleRepo(db);
  if (base >= 3) {
    expect(await schedules.getByName('nightly')).toMatchObject({
      jobName: 'disk',
      targets: ['s1', 'tag:prod'],
      params: { region: 'eu' },
      missed: 'run-once',
      lastResult: 'succeeded',
    });
    expect(await history.getRun('r1')).toMatchObject({ trigger: 'schedule', scheduleId: 'sc1' });
  } else {
    expect(await schedules.list()).toEqual([]);
    expect((await history.getRun('r1'))?.scheduleId).toBeNull();
  }
  const execution = (await history.getExecution('e1'))!;
  if (base >= 7) {
    expect(execution.toolActions).toMatchObject([
      { tool: 'slack', status: 'sent', credential: 'team-slack' },
    ]);
    expect(await new ToolRepo(db).newestOfType('slack')).toMatchObject({
      name: 'team-slack',
      secret: 'v1:sealed',
    });
  } else {
    // Executions from before tool actions existed asked for none.
    expect(execution.toolActions).toEqual([]);
    expect(await new ToolRepo(db).list()).toEqual([]);
  }
}

describe('schema migrations', () => {
  it('has a seed of rows for every version', async () => {
    expect(Object.keys(SEEDS).map(Number)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  const newest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  it.each(MIGRATIONS.map((m) => m.version))(
    'upgrades a store of version %i, with rows, to the newest',
    async (base) => {
      const dir = tempDir();
      dirs.push(dir);
      const db = new SqliteDatabase(join(dir.path, 'cronium.db'));
      for (const m of MIGRATIONS.filter((m) => m.version <= base)) {
        await migrateSql(db, m.version);
        SEEDS[m.version]!(db.raw);
      }
      expect(await db.get('SELECT max(version) AS v FROM schema_migrations')).toEqual({ v: base });
      await migrateSql(db);
      expect(await db.get('SELECT max(version) AS v FROM schema_migrations')).toEqual({ v: newest });
      expect(await db.all('PRAGMA foreign_key_check')).toEqual([]);
      await expectSeeded(db, base);
      await db.close();
    },
  );
});
