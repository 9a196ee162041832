/**
 * Issue 10 (fan-out): a job's figures for Cronium's event fields (successCount, failureCount, lastRunAt)
 * are read from the store once per run, not once per host — the query reads every execution the job ever
 * had — and every execution of a run gets the same figures: those of the runs before it, never of its own
 * sibling executions. On both engines.
 */
import { afterEach, expect, it } from 'vitest';

import { jobCountsQuery } from '../src/store/historyExecutions.ts';
import { HistoryRepo } from '../src/store/historyRepo.ts';
import type { SqlDatabase } from '../src/store/sql.ts';
import { describeEngines } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A statement that reads a job's executions (historyExecutions.ts jobStats: done once per run). */
const isStatsQuery = (sql: string) => /FROM executions WHERE job_id = \?/.test(sql);

describeEngines('job figures per run', ({ engine, openStore }) => {
  async function history(): Promise<{ db: SqlDatabase; history: HistoryRepo; statsQueries: () => number }> {
    const dir = tempDir();
    const db = await openStore({ dataDir: dir.path });
    cleanup.push(
      () => dir.remove(),
      () => db.close(),
    );
    let queries = 0;
    // Every statement goes through get/all/run: the stats statement is counted wherever it is sent.
    const counted = new Proxy(db, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (typeof args[0] === 'string' && isStatsQuery(args[0])) queries++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as SqlDatabase;
    return { db, history: new HistoryRepo(counted), statsQueries: () => queries };
  }
  const run = (id: string, startedAt: number) => ({
    id,
    jobId: 'job-j',
    jobName: 'j',
    input: null,
    trigger: 'cli' as const,
    concurrency: 3,
    helperMode: 'auto' as const,
    startedAt,
  });
  const finish = async (h: HistoryRepo, id: string, status: 'succeeded' | 'failed') => {
    await h.moveExecution(id, 'connecting');
    await h.moveExecution(id, 'running');
    await h.moveExecution(id, status, { exitCode: status === 'succeeded' ? 0 : 1 });
  };

  it('gives every host of a run the runs before it, read once', async () => {
    const { history: h, statsQueries } = await history();
    await h.createRun(run('r0', 1_000), [{ id: 'e0', serverId: 's1', serverName: 'one' }]);
    await finish(h, 'e0', 'succeeded');
    await h.createRun(run('r1', 2_000), [{ id: 'e1', serverId: 's1', serverName: 'one' }]);
    await finish(h, 'e1', 'failed');
    const hosts = ['a', 'b', 'c'].map((x) => ({ id: `e2${x}`, serverId: `s-${x}`, serverName: x }));
    await h.createRun(run('r2', 3_000), hosts);

    const before = { successCount: 1, failureCount: 1, lastRunAt: 2_000 };
    expect(await h.jobStats('job-j', 'r2')).toEqual(before);
    const firstHost = statsQueries();
    // A sibling that ended meanwhile is not counted by the next host of the same run (nor its start).
    await finish(h, 'e2a', 'succeeded');
    expect(await h.jobStats('job-j', 'r2')).toEqual(before);
    // Hosts asking at the same moment share the one read.
    const [b, c] = await Promise.all([h.jobStats('job-j', 'r2'), h.jobStats('job-j', 'r2')]);
    expect([b, c]).toEqual([before, before]);
    // The store was read for the first host only.
    expect(firstHost).toBeGreaterThan(0);
    expect(statsQueries()).toBe(firstHost);

    // The next run counts this one's ended executions, with a read of its own.
    await h.createRun(run('r3', 4_000), [{ id: 'e3', serverId: 's1', serverName: 'one' }]);
    expect(await h.jobStats('job-j', 'r3')).toEqual({ successCount: 2, failureCount: 1, lastRunAt: 3_000 });
    expect(statsQueries()).toBeGreaterThan(firstHost);
    // No run: the job's whole record.
    expect(await h.jobStats('job-j', null)).toEqual({ successCount: 2, failureCount: 1, lastRunAt: 4_000 });
  });

  it.runIf(engine === 'sqlite')(
    "counts a job's executions from indexes, without reading its rows",
    async () => {
      const { db } = await history();
      // The real statement: the job's counts from the covering index alone, the run's own executions
      // (subtracted, in the same statement: one snapshot) through the run's index.
      const q = jobCountsQuery('job-j', 'r');
      const plan = (await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${q.sql}`, q.values)).map(
        (p) => p.detail,
      );
      expect(plan.join(' | ')).toMatch(/COVERING INDEX executions_job_status/);
      expect(plan.join(' | ')).toMatch(/INDEX executions_run\b/);
      expect(plan.join(' | ')).not.toMatch(/SCAN executions\b(?! USING)/);
    },
  );
});
