/**
 * Issue 13 item 3: every run records who started it (the audit trail). The process's OS user and machine
 * by default, or the actor a worker passes; re-runs and chained runs too; shown by `cronium show`,
 * `show --run` and `history --json`, found by history's text search; runs from before it was kept read
 * as "unknown".
 */
import { hostname, userInfo } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { migrateSql } from '../src/store/migrate.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { SqliteDatabase } from '../src/store/sqliteEngine.ts';
import { runCli } from './support/cli.ts';
import { serviceWithHosts, tempDir } from './support/fixtures.ts';

/** What this test process is, computed independently of the code under test's helper. */
const ME = `${userInfo().username}@${hostname().split('.')[0]}`;

describe('who started each run', () => {
  let service: CroniumService;
  let dir: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ service, dir, close } = await serviceWithHosts({ tunnelLingerMs: 0 }));
  });
  afterAll(() => close());

  it('records user@machine for a run, its re-run and the runs its chain links start', async () => {
    await service.createJob({ name: 'sb-next', language: 'bash', script: 'echo next' });
    const job = await service.createJob({
      name: 'sb-first',
      language: 'bash',
      script: 'echo first; exit 3',
      chain: [{ on: 'failure', jobId: 'sb-next' }],
    });
    const run = await service.startRun({ jobId: job.id, serverIds: ['h1'] });
    expect(run.startedBy).toBe(ME);
    const done = await service.waitForRun(run.id);
    const [chained] = await service.waitForChain(run.id);
    expect(chained).toMatchObject({ trigger: 'chain', startedBy: ME });
    expect((await service.getExecution(done.executionIds[0]!)).startedBy).toBe(ME);
    const again = await service.rerun(run.id);
    expect(again).toMatchObject({ trigger: 'retry', startedBy: ME });
    await service.waitForRun(again.id);
    expect((await service.getRun(again.id)).startedBy).toBe(ME);
  });

  it('records the actor a worker passes, and history finds runs by it', async () => {
    const worker = await CroniumService.open({
      dataDir: dir,
      keychain: null,
      runtimePort: 0,
      unknownHostKeys: 'accept-new',
      actor: 'worker w-42@rack7',
    });
    try {
      const job = await service.createJob({ name: 'sb-worker', language: 'bash', script: 'echo w' });
      const run = await worker.startRun({ jobId: job.id, serverIds: ['h2'] });
      await worker.waitForRun(run.id);
      expect((await service.getRun(run.id)).startedBy).toBe('worker w-42@rack7');
      const found = (await service.queryHistory({ text: 'w-42@rack7', limit: 50 })).items;
      expect(found.map((e) => e.runId)).toEqual([run.id]);
      expect(found[0]!.startedBy).toBe('worker w-42@rack7');
      // Case-blind, like the rest of the search, and every word must match.
      expect((await service.queryHistory({ text: 'RACK7 sb-worker', limit: 50 })).items).toHaveLength(1);
      expect((await service.queryHistory({ text: 'rack7 sb-first', limit: 50 })).items).toHaveLength(0);
    } finally {
      await worker.close();
    }
  });

  it('is shown by cronium show, show --run and history --json, and searchable from the CLI', async () => {
    const env = { CRONIUM_DATA_DIR: dir };
    const ran = await runCli(['--json', 'run', 'sb-next', '--on', 'h1'], env);
    expect(ran.code).toBe(0);
    const history = await runCli(['history', '--json', '--search', ME, '--limit', '500'], env);
    expect(history.code).toBe(0);
    const items = JSON.parse(history.stdout) as { id: string; runId: string; startedBy: string | null }[];
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(item.startedBy).toBe(ME);
    const show = await runCli(['show', items[0]!.id], env);
    expect(show.stdout).toContain(`\nstarted by: ${ME}\n`);
    const overview = await runCli(['show', '--run', items[0]!.runId], env);
    expect(overview.stdout).toContain(`\nstarted by: ${ME}\n`);
    const json = JSON.parse((await runCli(['--json', 'show', '--run', items[0]!.runId], env)).stdout) as {
      run: { startedBy: string };
    };
    expect(json.run.startedBy).toBe(ME);
  });
});

describe('runs from before the audit trail', () => {
  it('read as null, shown as "unknown"', async () => {
    const dir = tempDir();
    try {
      // A store at the schema before started_by, with a finished run in it.
      const store = new SqliteDatabase(`${dir.path}/cronium.db`);
      const raw = store.raw;
      const before = MIGRATIONS.find((m) => m.name === 'who started each run')!.version;
      await migrateSql(store, before - 1);
      raw
        .prepare(
          `INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, ended_at)
           VALUES ('old-run-1', 'j', 'old job', 'manual', 1, 'auto', 'succeeded', 1, 2)`,
        )
        .run();
      raw
        .prepare(
          `INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at, ended_at)
           VALUES ('old-exec-1', 'old-run-1', 'j', 'old job', 's', 'old server', 'succeeded', 1, 2)`,
        )
        .run();
      await store.close();
      const env = { CRONIUM_DATA_DIR: dir.path };
      const show = await runCli(['show', 'old-exec-1'], env);
      expect(show.code).toBe(0);
      expect(show.stdout).toContain('\nstarted by: unknown\n');
      const history = JSON.parse((await runCli(['history', '--json'], env)).stdout) as {
        startedBy: unknown;
      }[];
      expect(history).toEqual([expect.objectContaining({ startedBy: null })]);
    } finally {
      dir.remove();
    }
  });
});
