/**
 * Issue 10 (fan-out), on real hosts: a run on several hosts gives every host's script the same job figures
 * in cronium.event() — the runs before it (read from the store once per run), not its sibling executions
 * that ended or started meanwhile — in bundled and in API mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CroniumService } from '../src/service/service.ts';
import { serviceWithHosts } from './support/fixtures.ts';

let service: CroniumService;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 0 }));
});
afterAll(async () => close());

describe('job figures on a run of several hosts', () => {
  it.each(['bundled', 'api'] as const)('are the runs before it on every host (%s)', async (mode) => {
    const script = `import sys\ncronium.output(cronium.event())\nsys.exit(cronium.input().get("exit", 0))\n`;
    const job = await service.createJob({ name: `fanout-figures-${mode}`, language: 'python', script });
    const runOn = async (serverIds: string[], exit: number, concurrency: number) => {
      const run = await service.startRun({
        jobId: job.id,
        serverIds,
        helperMode: mode,
        input: { exit },
        concurrency,
      });
      const done = await service.waitForRun(run.id);
      return Promise.all(done.executionIds.map((id) => service.getExecution(id)));
    };
    const [first] = await runOn(['h1'], 0, 1);
    const [second] = await runOn(['h2'], 3, 1);
    // One host at a time: h2 starts after h1 has ended there, and still does not count it.
    const fanned = await runOn(['h1', 'h2'], 0, 1);
    expect(fanned.map((e) => e.status)).toEqual(['succeeded', 'succeeded']);
    for (const e of fanned)
      expect(e.output).toMatchObject({
        successCount: 1,
        failureCount: 1,
        lastRunAt: new Date(second!.startedAt).toISOString(),
      });
    expect(first!.status).toBe('succeeded');
    // The next run counts the fanned-out one.
    const [after] = await runOn(['h1'], 0, 1);
    expect(after!.output).toMatchObject({
      successCount: 3,
      failureCount: 1,
      lastRunAt: new Date(fanned[0]!.startedAt).toISOString(),
    });
  });
});
