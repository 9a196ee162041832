/**
 * The store's behaviour on both engines (issue 13): every suite here runs on SQLite and on a PostgreSQL
 * database with a linguistic collation (test/support/engines.ts), through the service and through the
 * repositories, and must see the same answers — the order of lists, case-blind names, id prefixes, the
 * history's search with LIKE's own characters, numbers that stay numbers, and writes that land whole.
 */
import { join } from 'node:path';

import { afterEach, expect, it } from 'vitest';

import type { LogChunk } from '../src/core/domain.ts';
import { CroniumError } from '../src/core/errors.ts';
import type { CroniumService } from '../src/service/service.ts';
import { executionListQuery, HistoryRepo } from '../src/store/historyRepo.ts';
import { KnownHostRepo } from '../src/store/knownHostRepo.ts';
import { LogWriter } from '../src/store/logWriter.ts';
import { PostgresLogWriter } from '../src/store/postgresLogWriter.ts';
import type { SqlDatabase } from '../src/store/sql.ts';
import { VariableRepo } from '../src/store/variableRepo.ts';
import { describeEngines } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** SQLite's BINARY order (code units), which every list of the store keeps on both engines. */
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** The order of names: case-blind first (lower-cased, in byte order), then the exact text. */
const nameOrder = (a: string, b: string) => byteOrder(a.toLowerCase(), b.toLowerCase()) || byteOrder(a, b);

/** Names that a linguistic collation orders differently from bytes: punctuation, digits, case. */
const NAMES = [
  'beta',
  'Alpha',
  'alpha-2',
  'alpha_1',
  'alpha.3',
  'alpha10',
  'alpha9',
  'Zed',
  'a-z',
  'az',
  '_x',
];

describeEngines('the store through the service', ({ engine, openService, connect }) => {
  async function service(): Promise<{ service: CroniumService; dir: string }> {
    const dir = tempDir();
    const s = await openService({ dataDir: dir.path, agentSocket: '', runtimePort: 0 });
    cleanup.push(
      () => dir.remove(),
      () => s.close(),
    );
    return { service: s, dir: dir.path };
  }
  async function count(dir: string, table: string): Promise<number> {
    const db = await connect(dir);
    try {
      return Number((await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n);
    } finally {
      await db.close();
    }
  }

  it('lists servers, jobs, variables, schedules and tools in the same order as SQLite', async () => {
    const { service: s } = await service();
    const names = NAMES.filter((n) => /^[A-Za-z0-9]/.test(n));
    for (const name of names)
      await s.createServer({ name, host: 'example.invalid', username: 'u', auth: { type: 'agent' } });
    for (const name of names) await s.createJob({ name, language: 'bash', script: 'true' });
    for (const name of names) {
      await s.createSchedule({ name, jobId: name, cron: '@hourly', targets: [names[0]!] });
      await s.createTool({ type: 'slack', name, webhookUrl: 'https://hooks.slack.com/services/T/B/x' });
    }
    const keys = [...NAMES, 'A:b', 'a:B', 'a.b', '0', '9z', '-a'];
    for (const key of keys) await s.setVariable({ key, value: 1 });
    expect((await s.listServers()).map((x) => x.name)).toEqual([...names].sort(nameOrder));
    expect((await s.listJobs()).map((x) => x.name)).toEqual([...names].sort(nameOrder));
    expect((await s.listSchedules()).map((x) => x.name)).toEqual([...names].sort(nameOrder));
    expect((await s.listTools()).map((x) => x.name)).toEqual([...names].sort(nameOrder));
    expect((await s.listVariables()).map((x) => x.key)).toEqual([...keys].sort(byteOrder));
  });

  it('finds names case-blind and refuses a second name differing only in case, writing nothing', async () => {
    const { service: s, dir } = await service();
    await s.createServer({ name: 'Web-1', host: 'h', username: 'u', auth: { type: 'agent' } });
    expect((await s.getServer('wEB-1')).name).toBe('Web-1');
    await expect(
      s.createServer({ name: 'WEB-1', host: 'h', username: 'u', auth: { type: 'agent' } }),
    ).rejects.toThrow(/already exists/);
    await s.createJob({ name: 'Deploy', language: 'bash', script: 'true' });
    expect((await s.getJob('deploy')).name).toBe('Deploy');
    await expect(s.createJob({ name: 'DEPLOY', language: 'bash', script: 'x' })).rejects.toThrow(
      /already exists/,
    );
    await s.createSchedule({ name: 'Nightly', jobId: 'deploy', cron: '@daily', targets: ['web-1'] });
    expect((await s.getSchedule('NIGHTLY')).name).toBe('Nightly');
    await expect(
      s.createSchedule({ name: 'nightly', jobId: 'deploy', cron: '@daily', targets: ['web-1'] }),
    ).rejects.toThrow(CroniumError);
    await s.createTool({
      type: 'slack',
      name: 'Team-Chat',
      webhookUrl: 'https://hooks.slack.com/services/T/B/x',
    });
    await expect(
      s.createTool({
        type: 'discord',
        name: 'team-chat',
        webhookUrl: 'https://discord.com/api/webhooks/1/x',
      }),
    ).rejects.toThrow(CroniumError);
    expect(await count(dir, 'servers')).toBe(1);
    expect(await count(dir, 'jobs')).toBe(1);
    expect(await count(dir, 'schedules')).toBe(1);
    expect(await count(dir, 'tools')).toBe(1);
    await s.removeTool('TEAM-CHAT');
    await s.removeSchedule('nightly');
    await s.removeJob('DEPLOY');
    await s.removeServer('web-1');
    for (const table of ['servers', 'jobs', 'schedules', 'tools']) expect(await count(dir, table)).toBe(0);
  });

  it('keeps variables as JSON values, secret ones sealed, and counts numbers as numbers', async () => {
    const { service: s, dir } = await service();
    await s.setVariable({ key: 'n', value: 9_007_199_254_740_991 });
    await s.setVariable({ key: 'obj', value: { a: [1, 'two', null], é: true } });
    await s.setVariable({ key: 'api', value: 'var-very-secret', secret: true });
    expect(await s.getVariableValue('n')).toBe(9_007_199_254_740_991);
    expect(await s.getVariableValue('obj')).toEqual({ a: [1, 'two', null], é: true });
    expect(await s.getVariableValue('api')).toBe('var-very-secret');
    expect((await s.listVariables()).find((v) => v.key === 'api')!.value).toBeNull();
    const db = await connect(dir);
    try {
      expect(JSON.stringify(await db.all('SELECT * FROM variables'))).not.toContain('var-very-secret');
      const row = (await db.get<{ updated_at: unknown; secret: unknown }>(
        "SELECT updated_at, secret FROM variables WHERE key = 'api'",
      ))!;
      // BIGINT epoch milliseconds and 0/1 flags come back as JavaScript numbers on both engines.
      expect(typeof row.updated_at).toBe('number');
      expect(row.secret).toBe(1);
    } finally {
      await db.close();
    }
    await s.removeVariable('n');
    expect((await s.listVariables()).map((v) => v.key)).toEqual(['api', 'obj']);
  });

  it('rejects bad input with a message per field and writes nothing', async () => {
    const { service: s, dir } = await service();
    await expect(
      s.createServer({ name: 'bad name!', host: 'a b', port: 70000, username: '', auth: { type: 'agent' } }),
    ).rejects.toThrow(CroniumError);
    await expect(
      s.createJob({ name: 'j', language: 'bash', script: 'x', defaultServerIds: ['ghost'] }),
    ).rejects.toThrow(/no server named "ghost"/);
    await expect(s.createSchedule({ name: 's', jobId: 'ghost', cron: '@hourly' })).rejects.toThrow(
      CroniumError,
    );
    expect(await count(dir, 'servers')).toBe(0);
    expect(await count(dir, 'jobs')).toBe(0);
    expect(await count(dir, 'schedules')).toBe(0);
  });

  it('names the servers that hop through a jump server by name, whatever order they were saved in', async () => {
    const { service: s } = await service();
    await s.createServer({ name: 'bastion', host: 'b', username: 'u', auth: { type: 'agent' } });
    for (const name of ['c-inner', 'A-inner', 'b-inner'])
      await s.createServer({
        name,
        host: 'i',
        username: 'u',
        auth: { type: 'agent' },
        jumpServerId: 'bastion',
      });
    await s.updateServer('c-inner', {
      name: 'c-inner',
      host: 'i2',
      username: 'u',
      auth: { type: 'agent' },
      jumpServerId: 'bastion',
    });
    await expect(s.removeServer('bastion')).rejects.toThrow(
      'bastion is the jump server of A-inner, b-inner, c-inner; change those first.',
    );
  });

  it(`reopens the same ${engine} store with everything in it`, async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const first = await openService({ dataDir: dir.path, agentSocket: '', runtimePort: 0 });
    await first.createServer({ name: 'kept', host: 'h', username: 'u', auth: { type: 'agent' } });
    await first.setVariable({ key: 'k', value: 'v', secret: true });
    await first.close();
    const again = await openService({ dataDir: dir.path, agentSocket: '', runtimePort: 0 });
    cleanup.push(() => again.close());
    expect((await again.listServers()).map((x) => x.name)).toEqual(['kept']);
    expect(await again.getVariableValue('k')).toBe('v');
  });
});

describeEngines('history and its search', (e) => {
  const { openStore } = e;
  async function history(): Promise<{ db: SqlDatabase; history: HistoryRepo }> {
    const dir = tempDir();
    const db = await openStore({ dataDir: dir.path });
    cleanup.push(
      () => dir.remove(),
      () => db.close(),
    );
    return { db, history: new HistoryRepo(db) };
  }
  const run = (id: string, jobName: string, startedAt: number) => ({
    id,
    jobId: `job-${jobName}`,
    jobName,
    input: null,
    trigger: 'cli' as const,
    concurrency: 1,
    helperMode: 'auto' as const,
    startedAt,
  });

  it("searches LIKE's own characters literally and words case-blind", async () => {
    const { history: h } = await history();
    const names = ['100%', '1000', 'a_b', 'aXb', 'back\\slash', 'backslash', 'Mixed-Case'];
    for (const [i, name] of names.entries())
      await h.createRun(run(`r${i}`, name, 1000 + i), [{ id: `e${i}`, serverId: 's', serverName: 'srv' }]);
    const find = async (text: string) =>
      (await h.listExecutions({ limit: 50, text })).map((e) => e.jobName).sort(byteOrder);
    expect(await find('100%')).toEqual(['100%']);
    expect(await find('a_b')).toEqual(['a_b']);
    expect(await find('k\\s')).toEqual(['back\\slash']);
    expect(await find('mixed-case')).toEqual(['Mixed-Case']);
    expect(await find('MIXED case')).toEqual(['Mixed-Case']);
    expect(await find('%')).toEqual(['100%']);
    expect(await find('_')).toEqual(['a_b']);
  });

  it('finds executions and runs by an id prefix, dashes and all, and says when it is ambiguous', async () => {
    const { history: h } = await history();
    const ids = ['1a2b-33', '1a2b-3c', '1a2b3c', '1a2c-00', '1A2B-99'];
    for (const [i, id] of ids.entries())
      await h.createRun(run(`run-${id}`, 'j', 1000 + i), [{ id, serverId: 's', serverName: 'srv' }]);
    const sorted = async (prefix: string, limit = 10) =>
      (await h.findExecutionIds(prefix, limit)).sort(byteOrder);
    expect(await sorted('1a2b-')).toEqual(['1a2b-33', '1a2b-3c']);
    expect(await sorted('1a2b-3')).toEqual(['1a2b-33', '1a2b-3c']);
    expect(await sorted('1a2b3')).toEqual(['1a2b3c']);
    expect(await sorted('1a2b')).toEqual(['1a2b-33', '1a2b-3c', '1a2b3c']);
    expect(await sorted('1A2B')).toEqual(['1A2B-99']);
    expect((await h.findRunIds('run-1a2b-', 10)).sort(byteOrder)).toEqual(['run-1a2b-33', 'run-1a2b-3c']);
    // The first ids in id order, whatever the engine keeps them in.
    expect(await h.findExecutionIds('1a2', 2)).toEqual(['1a2b-33', '1a2b-3c']);
    expect(await h.findRunIds('run-1a', 2)).toEqual(['run-1a2b-33', 'run-1a2b-3c']);
  });

  it('lists a run of many servers in server-name order, and pages history by (startedAt, id)', async () => {
    const { history: h } = await history();
    const servers = ['web-10', 'web-9', 'Web_2', 'db', 'DB-1', 'a.b'];
    const created = await h.createRun(
      run('r', 'j', 5),
      servers.map((name, i) => ({ id: `e-${i}`, serverId: `s${i}`, serverName: name })),
    );
    const order = [...servers].sort(byteOrder);
    expect((await h.runExecutions('r')).map((e) => e.serverName)).toEqual(order);
    expect((await h.getRun('r'))!.executionIds).toEqual(created.executionIds);
    expect((await h.getRun('r'))!.executionIds.map((id) => servers[Number(id.slice(2))])).toEqual(order);
    // Same start time for all: the id breaks the tie, in byte order, on both engines.
    const page = await h.listExecutions({ limit: 3 });
    const ids = servers
      .map((_, i) => `e-${i}`)
      .sort(byteOrder)
      .reverse();
    expect(page.map((e) => e.id)).toEqual(ids.slice(0, 3));
    const next = await h.listExecutions({ limit: 3, before: { startedAt: 5, id: page[2]!.id } });
    expect(next.map((e) => e.id)).toEqual(ids.slice(3, 6));
  });

  it('answers limited lists in a defined order, however the rows lie in the table', async () => {
    const { db, history: h } = await history();
    // Inserted out of order, then updated: PostgreSQL's heap order is neither insertion nor id order.
    for (const id of ['ab3', 'ab1', 'ab4', 'ab2'])
      await h.createRun(run(`run-${id}`, 'j', 1000), [{ id, serverId: 's', serverName: 'srv' }]);
    await db.run(`UPDATE executions SET exit_code = 0 WHERE id IN ('ab1', 'ab3')`);
    await db.run(`UPDATE runs SET owner_pid = NULL, status = 'running' WHERE id IN ('run-ab1', 'run-ab3')`);
    await db.run(`UPDATE runs SET owner_pid = NULL WHERE id IN ('run-ab2', 'run-ab4')`);
    expect(await h.findExecutionIds('ab', 2)).toEqual(['ab1', 'ab2']);
    expect(await h.findRunIds('run-ab', 3)).toEqual(['run-ab1', 'run-ab2', 'run-ab3']);
    // Other processes' runs at the same start time: newest first, then by id, on both engines.
    expect((await h.foreignRuns(0)).map((r) => r.id)).toEqual(['run-ab4', 'run-ab3', 'run-ab2', 'run-ab1']);
  });

  it('reads a later page of a large history along the index, never sorting every older row', async () => {
    const { db, history: h } = await history();
    const rows = 20_000;
    const at = (i: string) => `1700000000000 + (${i} / 10) * 1000`;
    await db.exec(
      e.engine === 'sqlite'
        ? `WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < ${rows / 10 - 1})
           INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at)
             SELECT 'r' || i, 'j', 'j', 'cli', 1, 'auto', 'succeeded', ${at('i * 10')} FROM r;
           WITH RECURSIVE x(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM x WHERE i < ${rows - 1})
           INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at)
             SELECT printf('e%06d', i), 'r' || (i / 10), 'j', 'j', 's', 's', 'succeeded', ${at('i')} FROM x;`
        : `INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at)
             SELECT 'r' || i, 'j', 'j', 'cli', 1, 'auto', 'succeeded', ${at('i * 10')}
               FROM generate_series(0, ${rows / 10 - 1}) AS i;
           INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at)
             SELECT 'e' || lpad(i::text, 6, '0'), 'r' || (i / 10), 'j', 'j', 's', 's', 'succeeded', ${at('i')}
               FROM generate_series(0, ${rows - 1}) AS i;
           ANALYZE executions;`,
    );
    const first = await h.listExecutions({ limit: 50 });
    expect(first[0]!.id).toBe('e019999');
    const before = { startedAt: first[49]!.startedAt, id: first[49]!.id };
    const next = await h.listExecutions({ limit: 50, before });
    expect(next.map((x) => x.id)).toEqual(
      Array.from({ length: 50 }, (_, k) => `e${String(rows - 51 - k).padStart(6, '0')}`),
    );
    const middle = { startedAt: 1_700_000_000_000 + 1000 * 1000, id: 'e010005' };
    expect((await h.listExecutions({ limit: 3, before: middle })).map((x) => x.id)).toEqual([
      'e010004',
      'e010003',
      'e010002',
    ]);
    const { sql, values } = executionListQuery({ limit: 50, before: middle }, e.engine);
    const plan =
      e.engine === 'sqlite'
        ? (await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, values)).map((p) => p.detail)
        : (await db.all<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, values)).map((p) => p['QUERY PLAN']);
    const text = plan.join(' | ');
    // The index is entered at the cursor (a bound on started_at), not read from the newest row down with
    // a filter; and there is no OR of two searches sorted whole, no full scan, no sort of every older row.
    expect(text).toMatch(
      e.engine === 'sqlite'
        ? /SEARCH executions USING INDEX executions_started \(started_at<\?\)/
        : /Index Scan using executions_started .*Index Cond: \(started_at <= /,
    );
    expect(text).not.toMatch(/MULTI-INDEX OR|TEMP B-TREE FOR ORDER BY|Seq Scan|Bitmap/);
  });

  it('reports job statistics and times as numbers', async () => {
    const { history: h } = await history();
    for (let i = 0; i < 3; i++) {
      await h.createRun(run(`r${i}`, 'j', 1_700_000_000_000 + i), [
        { id: `e${i}`, serverId: 's', serverName: 'srv' },
      ]);
      await h.moveExecution(`e${i}`, 'connecting');
      await h.moveExecution(`e${i}`, 'running');
      await h.moveExecution(`e${i}`, i === 2 ? 'failed' : 'succeeded', { exitCode: i === 2 ? 1 : 0 });
    }
    expect(await h.jobStats('job-j', null)).toEqual({
      successCount: 2,
      failureCount: 1,
      lastRunAt: 1_700_000_000_002,
    });
    const e = (await h.getExecution('e2'))!;
    expect(e.startedAt).toBe(1_700_000_000_002);
    expect(e.exitCode).toBe(1);
  });
});

describeEngines('known hosts', ({ openStore }) => {
  it('keeps one key per host and port, host names case-blind, replaced when trusted again', async () => {
    const dir = tempDir();
    const db = await openStore({ dataDir: dir.path });
    cleanup.push(
      () => dir.remove(),
      () => db.close(),
    );
    const repo = new KnownHostRepo(db);
    await repo.trust('Host.Example', 22, 'ssh-ed25519', 'SHA256:one');
    await repo.trust('host.example', 2222, 'ssh-rsa', 'SHA256:two');
    expect(await repo.get('HOST.example', 22)).toMatchObject({
      host: 'host.example',
      fingerprint: 'SHA256:one',
    });
    await repo.trust('host.EXAMPLE', 22, 'ecdsa-sha2-nistp256', 'SHA256:three');
    expect(await repo.get('host.example', 22)).toMatchObject({
      keyType: 'ecdsa-sha2-nistp256',
      fingerprint: 'SHA256:three',
    });
    expect((await repo.get('host.example', 2222))!.fingerprint).toBe('SHA256:two');
    await repo.forget('HOST.EXAMPLE', 22);
    expect(await repo.get('host.example', 22)).toBeNull();
    expect(typeof (await repo.get('host.example', 2222))!.firstSeen).toBe('number');
  });
});

describeEngines(
  'PostgreSQL text columns',
  ({ openStore }) => {
    it('keep text in byte order ("C") whatever the server\'s collation, and epoch milliseconds in BIGINT', async () => {
      const dir = tempDir();
      const db = await openStore({ dataDir: dir.path });
      cleanup.push(
        () => dir.remove(),
        () => db.close(),
      );
      const columns = await db.all<{
        table_name: string;
        column_name: string;
        collation_name: string | null;
      }>(
        `SELECT c.table_name, c.column_name, c.collation_name
           FROM information_schema.columns c
           JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.data_type = 'text'`,
      );
      expect(columns.length).toBeGreaterThan(20);
      expect(columns.filter((c) => c.collation_name !== 'C')).toEqual([]);
      // Epoch milliseconds and durations outgrow a 32-bit INTEGER: every such column is BIGINT.
      const times = await db.all<{ table_name: string; column_name: string; data_type: string }>(
        `SELECT table_name, column_name, data_type FROM information_schema.columns
          WHERE table_schema = current_schema()
            AND (column_name LIKE '%\\_at' ESCAPE '\\' OR column_name LIKE '%\\_ms' ESCAPE '\\'
                 OR column_name IN ('ts', 'first_seen', 'checked_until', 'checked_at'))`,
      );
      expect(times.length).toBeGreaterThan(20);
      expect(times.filter((c) => c.data_type !== 'bigint')).toEqual([]);
      // The database itself keeps its linguistic order: only the store's columns are in byte order.
      expect((await db.get<{ lt: boolean }>(`SELECT 'a.b' < 'DB-1' AS lt`))!.lt).toBe(true);
    });
  },
  ['postgres'],
);

describeEngines('writes that land whole', ({ engine, openStore, openService }) => {
  async function store(): Promise<{ dir: string; db: SqlDatabase }> {
    const dir = tempDir();
    const db = await openStore({ dataDir: dir.path });
    cleanup.push(
      () => dir.remove(),
      () => db.close(),
    );
    return { dir: dir.path, db };
  }
  const run = (id: string, startedAt = 1) => ({
    id,
    jobId: 'j',
    jobName: 'j',
    input: null,
    trigger: 'cli' as const,
    concurrency: 1,
    helperMode: 'auto' as const,
    startedAt,
  });

  it('counts concurrent increments exactly (no lost update), on PostgreSQL from two connections', async () => {
    const { dir, db } = await store();
    // A process has one SQLite connection: a second one on the same thread would wait synchronously for
    // the first's lock while the first needs that thread to finish (processes: store.engines.test.ts).
    const other = engine === 'sqlite' ? db : await openStore({ dataDir: dir });
    if (other !== db) cleanup.push(() => other.close());
    const increment = (on: SqlDatabase) =>
      new VariableRepo(on).update(
        'counter',
        (current) => ({
          value: String(Number(JSON.parse(current?.value ?? 'null') ?? 0) + 1),
          secret: false,
        }),
        'test',
      );
    await Promise.all(Array.from({ length: 30 }, (_, i) => increment(i % 2 ? db : other)));
    expect((await new VariableRepo(db).get('counter'))!.value).toBe('30');
  });

  it('rolls back a refused change and a run whose executions cannot be written, leaving no row', async () => {
    const { db } = await store();
    const variables = new VariableRepo(db);
    await expect(
      variables.update(
        'refused',
        () => {
          throw new Error('no');
        },
        'test',
      ),
    ).rejects.toThrow('no');
    expect(await variables.get('refused')).toBeNull();
    const h = new HistoryRepo(db);
    await h.createRun(run('r1'), [{ id: 'e1', serverId: 's', serverName: 's' }]);
    // Same execution id again: the second run's insert fails after its run row was written.
    await expect(h.createRun(run('r2'), [{ id: 'e1', serverId: 's', serverName: 's' }])).rejects.toThrow();
    expect(await h.getRun('r2')).toBeNull();
    expect((await h.getRun('r1'))!.executionIds).toEqual(['e1']);
  });

  it('stores a log in order through the engine’s writer, packed or not, and reads it back in pages', async () => {
    const { dir, db } = await store();
    const h = new HistoryRepo(db);
    await h.createRun(run('r'), [{ id: 'e', serverId: 's', serverName: 's' }]);
    const logs = engine === 'sqlite' ? new LogWriter(join(dir, 'cronium.db')) : new PostgresLogWriter(db);
    cleanup.push(() => logs.close());
    const texts = ['plain line\n', 'x'.repeat(100_000), 'with a \u0000 NUL\n', 'ünïcødé ✓ token=abc\n'];
    const chunks: LogChunk[] = [];
    for (let seq = 0; seq < 400; seq++)
      chunks.push({
        executionId: 'e',
        seq,
        stream: seq % 3 === 0 ? 'stderr' : 'stdout',
        ts: 1_700_000_000_000 + seq,
        text: texts[seq % texts.length]!,
      });
    for (let i = 0; i < chunks.length; i += 37) logs.write(chunks.slice(i, i + 37));
    await logs.flush();
    expect(await h.readLog('e', -1, 1000)).toEqual(chunks);
    expect(await h.readLog('e', 99, 50)).toEqual(chunks.slice(100, 150));
    const extent = await h.storedLogExtent('e');
    expect(extent.lastSeq).toBe(399);
    expect(extent.stdout + extent.stderr).toBe(chunks.reduce((n, c) => n + c.text.length, 0));
    expect(await h.maskLog('e', (t) => t.replace('abc', '***').replace(/x{10}/g, 'y'))).toBe(200);
    const masked = await h.readLog('e', -1, 1000);
    expect(masked[3]!.text).toBe('ünïcødé ✓ token=***\n');
    expect(masked[1]!.text).toBe('y'.repeat(10_000));
    expect(masked[0]!.text).toBe('plain line\n');
  });

  it('renames a job or server to its own name in another case, never onto another’s name', async () => {
    const dir = tempDir();
    const s = await openService({ dataDir: dir.path, agentSocket: '', runtimePort: 0 });
    cleanup.push(
      () => dir.remove(),
      () => s.close(),
    );
    await s.createServer({ name: 'web', host: 'h', username: 'u', auth: { type: 'agent' } });
    await s.createServer({ name: 'db', host: 'h', username: 'u', auth: { type: 'agent' } });
    await s.updateServer('web', { name: 'WEB', host: 'h', username: 'u', auth: { type: 'agent' } });
    expect((await s.listServers()).map((x) => x.name)).toEqual(['db', 'WEB']);
    await expect(
      s.updateServer('web', { name: 'DB', host: 'h', username: 'u', auth: { type: 'agent' } }),
    ).rejects.toThrow(/already exists/);
    await s.createJob({ name: 'job', language: 'bash', script: 'true' });
    await s.createJob({ name: 'other', language: 'bash', script: 'true' });
    await s.updateJob('JOB', { name: 'Job', language: 'bash', script: 'false' });
    expect((await s.getJob('job')).name).toBe('Job');
    await expect(s.updateJob('job', { name: 'OTHER', language: 'bash', script: 'x' })).rejects.toThrow(
      /already exists/,
    );
    expect((await s.listJobs()).map((j) => j.name)).toEqual(['Job', 'other']);
  });
});
