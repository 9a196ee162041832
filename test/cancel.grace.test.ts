/**
 * A script that ends at TERM ends its execution at once: the grace period before KILL is for scripts that
 * ignore TERM, not a wait every stop pays. stop.sh counted its own subshells (they carry the execution's
 * environment too) as "left", so every timeout and cancel waited out the whole grace period (verify19:
 * `sleep 30` with a 2 s timeout took 8 s; Ctrl-C and Cancel 6–7 s). Real hosts, a long grace period so the
 * difference is plain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CroniumService } from '../src/service/service.ts';
import { ownHosts, runJob, serviceWithHosts } from './support/fixtures.ts';

const GRACE_SEC = 30;
const h = ownHosts('grace');
let service: CroniumService;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ service, close } = await serviceWithHosts({ killGraceSec: GRACE_SEC }, h));
});
afterAll(async () => {
  await close();
  h.removeUser();
});

describe('stopping a script that ends at TERM', () => {
  it('a timeout ends it without waiting out the grace period', async () => {
    const started = Date.now();
    const { exec } = await runJob(service, { language: 'bash', script: 'sleep 300', timeoutSec: 1 }, ['h1']);
    const tookSec = (Date.now() - started) / 1000;
    expect(exec.status).toBe('timed_out');
    expect(tookSec).toBeLessThan(GRACE_SEC);
  }, 60_000);

  it('a cancel ends it without waiting out the grace period', async () => {
    const job = await service.createJob({ name: 'long', language: 'bash', script: 'echo up; sleep 300' });
    const run = await service.startRun({ jobId: job.id, serverIds: ['h2'] });
    const deadline = Date.now() + 20_000;
    let seen = '';
    while (!seen.includes('up') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      seen = (await service.readLog(run.executionIds[0]!)).map((c) => c.text).join('');
    }
    const cancelledAt = Date.now();
    await service.cancelRun(run.id);
    const ended = await service.waitForRun(run.id);
    expect(ended.status).toBe('cancelled');
    expect((Date.now() - cancelledAt) / 1000).toBeLessThan(GRACE_SEC);
  }, 60_000);
});
