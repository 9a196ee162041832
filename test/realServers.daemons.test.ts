/**
 * Issue 8, case 5: after a normal end, what a script deliberately detached (nohup, setsid, disown, `&` with
 * its output redirected) keeps running, as through `ssh host '…'`; cancel, timeout and a lost connection
 * still end the whole tree, setsid'd processes included.
 */
import { execFileSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CroniumService } from '../src/service/service.ts';
import { hosts, runJob, serviceWithHosts } from './support/fixtures.ts';
import { createTestUser, onHost, type TestUser } from './support/sshHosts.ts';

describe('background processes started by a job', () => {
  const h = hosts();
  let service: CroniumService;
  let close: () => Promise<void>;
  let user: TestUser;

  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts());
    user = createTestUser(h, 'daemons');
    await service.createServer({
      name: 'd1',
      host: h.hosts.h1.address,
      port: h.hosts.h1.port,
      username: user.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
  });
  afterAll(async () => {
    await close();
    user.remove();
  });

  /** pid and args of the user's processes whose command line matches the pattern (grep -E). */
  const processes = (pattern: string) =>
    onHost(h, `ps -u ${user.user} -o pid=,args= | grep -E '${pattern}' | grep -v grep`, user.user).trim();

  /** Waits (up to 5 s) until no process matches. */
  async function gone(pattern: string): Promise<string> {
    let left = processes(pattern);
    for (let i = 0; i < 50 && left; i++) {
      await new Promise((res) => setTimeout(res, 100));
      left = processes(pattern);
    }
    return left;
  }

  // Four ways of leaving something running, each with its own tag (bash's exec -a) to find it by.
  const detach = (tag: string) =>
    [
      `nohup bash -c 'exec -a ${tag}-nohup sleep 300' >/dev/null 2>&1 &`,
      `setsid bash -c 'exec -a ${tag}-setsid sleep 300' >/dev/null 2>&1 </dev/null &`,
      `bash -c 'exec -a ${tag}-disown sleep 300' >/dev/null 2>&1 & disown`,
      `(exec -a ${tag}-amp sleep 300) >/dev/null 2>&1 &`,
    ].join('\n');

  it('keeps nohup, setsid, disown and redirected & processes after a normal end', async () => {
    const tag = `keep${Date.now()}`;
    const r = await runJob(service, { language: 'bash', script: `${detach(tag)}\necho started` }, ['d1']);
    expect(r.exec.status).toBe('succeeded');
    expect(r.text('d1', 'stdout')).toBe('started\n');
    const left = processes(tag);
    for (const kind of ['nohup', 'setsid', 'disown', 'amp']) expect(left).toContain(`${tag}-${kind}`);
    // The work directory is gone all the same.
    expect(onHost(h, 'ls -A ~/.cronium/runs', user.user)).toBe('');
    const pids = left.split('\n').map((line) => line.trim().split(/\s+/)[0]!);
    execFileSync('kill', pids);
    expect(await gone(tag)).toBe('');
  });

  it.each(['cancel', 'timeout'] as const)('still ends all of them on %s', async (how) => {
    const tag = `${how}${Date.now()}`;
    const job = await service.createJob({
      name: `detach-${tag}`,
      language: 'bash',
      script: `${detach(tag)}\necho started\nsleep 300`,
      timeoutSec: how === 'timeout' ? 2 : 600,
    });
    const run = await service.startRun({ jobId: job.id, serverIds: ['d1'] });
    if (how === 'cancel') {
      await new Promise<void>((resolve) => {
        const off = service.subscribe((e) => {
          if (e.type === 'log' && e.chunk.text.includes('started')) {
            off();
            resolve();
          }
        });
      });
      expect(processes(`${tag}-setsid`)).not.toBe('');
      await service.cancelRun(run.id);
    }
    const done = await service.waitForRun(run.id);
    expect((await service.getExecution(done.executionIds[0]!)).status).toBe(
      how === 'cancel' ? 'cancelled' : 'timed_out',
    );
    expect(await gone(tag)).toBe('');
  });

  // Waiting: the script still runs when the connection goes. Writing: it dies of the broken pipe, maybe
  // before the watcher looks; then only the sshd being gone tells that this was no normal end.
  it.each([
    ['waiting', 'sleep 300'],
    ['writing', 'while :; do echo tick; sleep 0.05; done'],
  ])('ends them when the connection is lost (script %s)', async (_, rest) => {
    const tag = `lost${Date.now()}`;
    const job = await service.createJob({
      name: `detach-${tag}`,
      language: 'bash',
      script: `${detach(tag)}\necho "up $PPID"\n${rest}`,
    });
    const run = await service.startRun({ jobId: job.id, serverIds: ['d1'] });
    const sshdPid = await new Promise<string>((resolve) => {
      const off = service.subscribe((e) => {
        const m = e.type === 'log' ? /up (\d+)/.exec(e.chunk.text) : null;
        if (m) {
          off();
          resolve(m[1]!);
        }
      });
    });
    execFileSync('kill', ['-KILL', sshdPid]);
    const done = await service.waitForRun(run.id);
    expect((await service.getExecution(done.executionIds[0]!)).errorKind).toBe('connection_lost');
    expect(await gone(tag)).toBe('');
  });

  it('waits for a background job that still holds the output, within the timeout', async () => {
    const tag = `hold${Date.now()}`;
    // Like `ssh host 'sleep 300 &'`: the channel stays open while the job holds its stdout.
    const r = await runJob(
      service,
      { language: 'bash', script: `(exec -a ${tag} sleep 300) &\necho started`, timeoutSec: 2 },
      ['d1'],
    );
    expect(r.exec.status).toBe('timed_out');
    // One deadline covers the whole execution (connect, deploy, script): together they took the 2 s.
    const { connectMs, deployMs, scriptMs } = r.exec.timings;
    expect((connectMs ?? 0) + (deployMs ?? 0) + (scriptMs ?? 0)).toBeGreaterThanOrEqual(1900);
    expect(r.text('d1', 'stdout')).toBe('started\n');
    expect(await gone(tag)).toBe('');
  });
});
