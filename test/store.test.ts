import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { CroniumError } from '../src/core/errors.ts';
import { openStore } from '../src/store/openStore.ts';
import { executionListQuery, HistoryRepo } from '../src/store/historyRepo.ts';
import { CroniumService } from '../src/service/service.ts';
import { withDatabase } from './support/database.ts';
import { describeEngines, type EngineUnderTest } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

const dirs: { remove: () => void }[] = [];
function dataDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}
afterEach(async () => dirs.splice(0).forEach((d) => d.remove()));

/** Rows in a table of the service's store, on its engine. */
async function countOn(e: EngineUnderTest, service: CroniumService, table: string): Promise<number> {
  const db = await e.connect((await service.appInfo()).dataDir);
  try {
    return Number((await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n);
  } finally {
    await db.close();
  }
}

describe('store', () => {
  it('creates one SQLite file in WAL mode with every migration applied once', async () => {
    const dir = dataDir();
    const db = await openStore({ dataDir: dir });
    expect((await db.get<{ journal_mode: string }>('PRAGMA journal_mode'))!.journal_mode).toBe('wal');
    const versions = await db.all('SELECT version FROM schema_migrations');
    await db.close();
    const again = await openStore({ dataDir: dir });
    expect(await again.all('SELECT version FROM schema_migrations')).toEqual(versions);
    const tables = (
      await again.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
    ).map((t) => t.name);
    expect(tables).toEqual(
      expect.arrayContaining([
        'servers',
        'jobs',
        'runs',
        'executions',
        'log_chunks',
        'variables',
        'known_hosts',
      ]),
    );
    await again.close();
    expect(statSync(join(dir, 'cronium.db')).isFile()).toBe(true);
  });

  it('lets a second process write while this one holds the database open', async () => {
    const dir = dataDir();
    const service = await CroniumService.open({ dataDir: dir });
    await service.setVariable({ key: 'from-parent', value: 1 });
    // A real second process (as the CLI is beside the desktop app), writing through its own connection.
    const child = spawnSync(
      process.execPath,
      ['src/cli/main.ts', '--data-dir', dir, 'var', 'set', 'from-child', '{"n":2}'],
      { encoding: 'utf8' },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(await service.getVariableValue('from-child')).toEqual({ n: 2 });
    void service.close();
  });

  it('keeps passwords, passphrases and secret values encrypted at rest, with a 0600 key file', async () => {
    const dir = dataDir();
    const service = await CroniumService.open({ dataDir: dir });
    await service.createServer({
      name: 'pw',
      host: 'example.invalid',
      username: 'u',
      auth: { type: 'password', password: 'hunter2-very-secret' },
    });
    await service.createJob({
      name: 'j',
      language: 'bash',
      script: 'true',
      env: [
        { key: 'TOKEN', value: 'tok-very-secret', secret: true },
        { key: 'PLAIN', value: 'visible' },
      ],
    });
    await service.setVariable({ key: 'api', value: 'var-very-secret', secret: true });
    const dump = JSON.stringify(
      await withDatabase(service, async (db) => [
        db.prepare('SELECT * FROM servers').all(),
        db.prepare('SELECT * FROM jobs').all(),
        db.prepare('SELECT * FROM variables').all(),
      ]),
    );
    expect(dump).not.toContain('hunter2-very-secret');
    expect(dump).not.toContain('tok-very-secret');
    expect(dump).not.toContain('var-very-secret');
    expect(dump).toContain('visible');
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    // What clients see: no secret values at all.
    expect(JSON.stringify(await service.listServers())).not.toContain('secret');
    expect((await service.getJob('j')).env).toEqual([
      { key: 'TOKEN', value: null, secret: true },
      { key: 'PLAIN', value: 'visible', secret: false },
    ]);
    expect((await service.listVariables())[0]!.value).toBeNull();
    expect(await service.getVariableValue('api')).toBe('var-very-secret');
    void service.close();
  });
});

describeEngines('store', (e) => {
  it('rejects bad input with a message per field and writes nothing', async () => {
    const service = await e.openService({ dataDir: dataDir() });
    const attempt = async () =>
      await service.createServer({
        name: 'bad name!',
        host: 'a b',
        port: 70000,
        username: '',
        auth: { type: 'key', keyPath: '/nonexistent' },
      });
    await expect(attempt()).rejects.toThrow(CroniumError);
    try {
      await attempt();
    } catch (err) {
      const fields = (err as CroniumError).fields!;
      expect(Object.keys(fields)).toEqual(expect.arrayContaining(['name', 'host', 'port', 'username']));
    }
    await expect(
      service.createServer({
        name: 'k',
        host: 'h',
        username: 'u',
        auth: { type: 'key', keyPath: '/nonexistent/key' },
      }),
    ).rejects.toThrow(/auth.keyPath: cannot read/);
    await expect(service.createJob({ name: 'j', language: 'ruby', script: 'x' })).rejects.toThrow(/language/);
    await expect(
      service.createJob({ name: 'j', language: 'bash', script: 'x', defaultServerIds: ['ghost'] }),
    ).rejects.toThrow(/no server named "ghost"/);
    await expect(
      service.createJob({
        name: 'j',
        language: 'bash',
        script: 'x',
        env: [
          { key: 'A', value: '1' },
          { key: 'A', value: '2' },
        ],
      }),
    ).rejects.toThrow(/set twice/);
    expect(await countOn(e, service, 'servers')).toBe(0);
    expect(await countOn(e, service, 'jobs')).toBe(0);
    await service.createJob({ name: 'same', language: 'bash', script: 'x' });
    await expect(service.createJob({ name: 'SAME', language: 'bash', script: 'y' })).rejects.toThrow(
      /already exists/,
    );
    expect(await countOn(e, service, 'jobs')).toBe(1);
    void service.close();
  });

  it('refuses to remove a server that another uses as its jump server', async () => {
    const service = await e.openService({ dataDir: dataDir() });
    await service.createServer({ name: 'bastion', host: 'b', username: 'u', auth: { type: 'agent' } });
    await service.createServer({
      name: 'inner',
      host: 'i',
      username: 'u',
      auth: { type: 'agent' },
      jumpServerId: 'bastion',
    });
    await expect(service.removeServer('bastion')).rejects.toThrow(/jump server of inner/);
    await expect(
      service.updateServer('bastion', {
        name: 'bastion',
        host: 'b',
        username: 'u',
        auth: { type: 'agent' },
        jumpServerId: 'inner',
      }),
    ).rejects.toThrow(/cannot hop through itself/);
    await service.removeServer('inner');
    await service.removeServer('bastion');
    expect(await service.listServers()).toEqual([]);
    void service.close();
  });

  it('pages history newest first with filters, in SQL', async () => {
    const db = await e.openStore({ dataDir: dataDir() });
    const history = new HistoryRepo(db);
    const base = 1_700_000_000_000;
    for (let i = 0; i < 30; i++) {
      const runId = `run-${i}`;
      await history.createRun(
        {
          id: runId,
          jobId: i % 2 ? 'jobA' : 'jobB',
          jobName: i % 2 ? 'A' : 'B',
          input: null,
          trigger: 'cli',
          concurrency: 1,
          helperMode: 'auto',
          startedAt: base + i * 1000,
        },
        [
          {
            id: `exec-${String(i).padStart(2, '0')}`,
            serverId: i % 3 ? 's1' : 's2',
            serverName: i % 3 ? 'one' : 'two',
          },
        ],
      );
      // Through the status machine, as the executor does: connecting, running, then the end.
      const execId = `exec-${String(i).padStart(2, '0')}`;
      await history.moveExecution(execId, 'connecting');
      await history.moveExecution(execId, 'running');
      await history.moveExecution(execId, i % 5 === 0 ? 'failed' : 'succeeded', {
        exitCode: i % 5 === 0 ? 1 : 0,
      });
    }
    const first = await history.listExecutions({ limit: 10 });
    expect(first.map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, k) => `exec-${29 - k}`));
    const second = await history.listExecutions({
      limit: 10,
      before: { startedAt: first[9]!.startedAt, id: first[9]!.id },
    });
    expect(second[0]!.id).toBe('exec-19');
    const failedA = await history.listExecutions({ limit: 100, jobId: 'jobA', status: 'failed' });
    expect(failedA.map((e) => e.id)).toEqual(['exec-25', 'exec-15', 'exec-05']);
    const onTwo = await history.listExecutions({
      limit: 100,
      serverId: 's2',
      from: base + 10_000,
      to: base + 20_000,
    });
    expect(onTwo.map((e) => e.id)).toEqual(['exec-18', 'exec-15', 'exec-12']);
    // The repository's own history queries use an index for each filter, never a scan of the table (SQLite's
    // plan; PostgreSQL's planner rightly scans a table this small).
    if (e.engine === 'postgres') {
      await db.close();
      return;
    }
    const before = { startedAt: base, id: 'exec-00' };
    for (const [filter, index] of [
      [{ limit: 50 }, 'executions_started'],
      [{ limit: 50, before }, 'executions_started'],
      [{ limit: 50, jobId: 'jobA' }, 'executions_job'],
      [{ limit: 50, serverId: 's1', before }, 'executions_server'],
      [{ limit: 50, status: 'failed' as const }, 'executions_status'],
    ] as const) {
      const { sql, values } = executionListQuery(filter);
      const plan = (await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, values))
        .map((p) => p.detail)
        .join(' | ');
      expect(plan, JSON.stringify(filter)).toMatch(new RegExp(`USING INDEX ${index}\\b`));
      expect(plan, JSON.stringify(filter)).not.toMatch(/SCAN executions(?! USING)/);
    }
    await db.close();
  });

  it('marks runs of a process that died as failed, and leaves live processes alone', async () => {
    const dir = dataDir();
    const db = await e.openStore({ dataDir: dir });
    const history = new HistoryRepo(db);
    await history.createRun(
      {
        id: 'r-dead',
        jobId: 'j',
        jobName: 'j',
        input: null,
        trigger: 'cli',
        concurrency: 1,
        helperMode: 'auto',
        startedAt: 1,
      },
      [{ id: 'e-dead', serverId: 's', serverName: 's' }],
    );
    await history.createRun(
      {
        id: 'r-live',
        jobId: 'j',
        jobName: 'j',
        input: null,
        trigger: 'cli',
        concurrency: 1,
        helperMode: 'auto',
        startedAt: 2,
      },
      [{ id: 'e-live', serverId: 's', serverName: 's' }],
    );
    await db.run("UPDATE runs SET owner_pid = 999999999 WHERE id = 'r-dead'");
    await db.run("UPDATE runs SET owner_pid = ? WHERE id = 'r-live'", [process.ppid]);
    expect(await history.failOrphans((pid) => pid !== 999999999)).toBe(1);
    expect((await history.getExecution('e-dead'))!.status).toBe('error');
    expect((await history.getExecution('e-live'))!.status).toBe('queued');
    expect((await history.getRun('r-dead'))!.status).toBe('failed');
    await db.close();
  });
});
