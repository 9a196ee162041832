/**
 * Failures on the paths the happy tests do not walk: the log store refusing writes, the connection under a
 * forwarding tunnel going away, and Ctrl-C in `cronium run`. Real hosts and a real SQLite file; the faults
 * are made for real (a trigger that refuses inserts, a killed sshd process, a real SIGINT).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

import { hosts, ownHosts, runJob, serviceWithHosts } from './support/fixtures.ts';
import { createTestUser, onHost, type TestHosts } from './support/sshHosts.ts';

// A test user of this file's own: its home (~/.cronium) and processes are nobody else's.
const h = ownHosts('faults');
afterAll(async () => h.removeUser());

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function service(options = {}, as: TestHosts = h) {
  const s = await serviceWithHosts({ tunnelLingerMs: 0, ...options }, as);
  cleanups.push(s.close);
  return s;
}

describe('faults', () => {
  it('ends an execution with the log store’s error when it refuses writes, and recovers after', async () => {
    const { service: svc, dir } = await service();
    // Another connection to the same file, as a full disk or a broken file would: every insert fails.
    const db = new DatabaseSync(join(dir, 'cronium.db'));
    db.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON log_chunks BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    );
    const failed = await runJob(svc, { language: 'bash', script: 'echo one; echo two >&2' }, ['h1']);
    expect(failed.exec).toMatchObject({ status: 'error', errorKind: 'internal' });
    expect(failed.exec.errorMessage).toMatch(/The log could not be stored: database or disk is full/);
    expect(failed.run.status).toBe('failed');
    db.exec('DROP TRIGGER refuse');
    db.close();
    const ok = await runJob(svc, { language: 'bash', script: 'echo again' }, ['h1']);
    expect(ok.exec.status).toBe('succeeded');
    expect(ok.text('h1', 'stdout')).toBe('again\n');
  });

  it('notices a tunnel whose connection died while forwarding, and forwards anew for the next run', async () => {
    const { service: svc } = await service();
    const tunnel: string[] = [];
    svc.subscribe((e) => e.type === 'tunnel' && tunnel.push(e.state));
    const job = await svc.createJob({
      name: 'helpers-then-wait',
      language: 'bash',
      script: 'cronium.setVariable fwd up && echo "up $PPID"; sleep 300',
      helperMode: 'api',
    });
    const run = await svc.startRun({ jobId: job.id, serverIds: ['h2'] });
    // The helper call went through the tunnel; the script's parent is this connection's sshd process.
    const sshdPid = await new Promise<string>((resolve) => {
      const off = svc.subscribe((e) => {
        const m = e.type === 'log' ? /up (\d+)/.exec(e.chunk.text) : null;
        if (m) {
          off();
          resolve(m[1]!);
        }
      });
    });
    expect(tunnel).toEqual(['idle', 'forwarding']);
    execFileSync('kill', ['-KILL', sshdPid]);
    const done = await svc.waitForRun(run.id);
    expect(await svc.getExecution(done.executionIds[0]!)).toMatchObject({
      status: 'error',
      errorKind: 'connection_lost',
    });
    await vi.waitFor(() => expect(tunnel.at(-1)).toMatch(/^(closed|failed)$/));
    const again = await runJob(
      svc,
      { language: 'python', script: 'cronium.output(cronium.getVariable("fwd"))' },
      ['h2'],
      { helperMode: 'api' },
    );
    expect(again.exec).toMatchObject({ status: 'succeeded', helperMode: 'api', output: 'up' });
    expect(tunnel.filter((s) => s === 'forwarding')).toHaveLength(2);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s to `cronium run` stops the remote script and exits %i', async (signal, code) => {
    const { service: svc, dir } = await service();
    const tag = `cronium-sigint-${Date.now()}`;
    await svc.createJob({ name: 'long', language: 'bash', script: `echo started; exec -a ${tag} sleep 300` });
    const child = spawn(
      process.execPath,
      ['src/cli/main.ts', '--data-dir', dir, 'run', 'long', '--on', 'h1'],
      { env: { ...process.env, CRONIUM_RUNTIME_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('started')) resolve();
      }),
    );
    // "[c]…" so that the pattern does not match the shell that runs pgrep.
    const remote = () => onHost(h, `pgrep -u ${h.user} -f '[c]${tag.slice(1)}'`).trim();
    await vi.waitFor(() => expect(remote()).not.toBe(''));
    child.kill(signal);
    expect(await exited).toBe(code);
    expect(stderr).toMatch(/cancel/i);
    await vi.waitFor(() => expect(remote()).toBe(''), { timeout: 10_000 });
  });

  it('moves a run off a pooled connection that died a moment after its last use, without waiting a minute', async () => {
    // Every reuse is checked by default (one round trip), however recent the last use.
    const { service: svc } = await service({ sessionAnswerMs: 1500 });
    const job = { language: 'bash' as const, script: 'echo "$SSH_CONNECTION"' };
    const first = await runJob(svc, job, ['h1']);
    expect(first.exec.status).toBe('succeeded');
    // Freeze the pooled connection's own sshd process ("sshd: user@notty") in h1: the connection looks open,
    // nothing answers on it, and new connections still work.
    const pids = execFileSync('ip', ['netns', 'pids', h.hosts.h1.netns], { encoding: 'utf8' })
      .split('\n')
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(`sshd: ${h.user}@`);
        } catch {
          return false;
        }
      });
    expect(pids).toHaveLength(1);
    execFileSync('kill', ['-STOP', pids[0]!]);
    try {
      const second = await runJob(svc, job, ['h1']);
      expect(second.exec).toMatchObject({ status: 'succeeded', errorMessage: null });
      // Another client port: the run went to a new connection.
      expect(second.text('h1', 'stdout').split(' ')[1]).not.toBe(first.text('h1', 'stdout').split(' ')[1]);
      // Well under the minute the keepalive would have taken (1.5 s to give up on the frozen one).
      const { connectMs, deployMs, scriptMs } = second.exec.timings;
      expect((connectMs ?? 0) + (deployMs ?? 0) + (scriptMs ?? 0)).toBeLessThan(20_000);
    } finally {
      execFileSync('kill', ['-KILL', pids[0]!]);
    }
  });

  it.each(['cancel', 'deadline'] as const)(
    'a %s while a slow login shell starts never runs the script',
    async (stop) => {
      // A login shell that takes its time (nvm, conda init): 3 s once ~/.slow exists.
      const u = createTestUser(hosts(), stop === 'cancel' ? 'slowc' : 'slowd');
      try {
        onHost(h, `printf '[ -f ~/.slow ] && sleep 3\\n' > ~/.bashrc; rm -f ~/ran.txt`, u.user);
        const { service: svc } = await service({}, { ...hosts(), user: u.user, password: u.password });
        // Deployed while the shell is quick; then every new command waits 3 s for the login shell.
        expect((await runJob(svc, { language: 'bash', script: 'true' }, ['h1'])).exec.status).toBe(
          'succeeded',
        );
        onHost(h, 'touch ~/.slow', u.user);
        const job = await svc.createJob({
          name: `slow-${stop}`,
          language: 'bash',
          script: 'echo ran >> ~/ran.txt',
          helperMode: 'bundled',
          timeoutSec: stop === 'deadline' ? 2 : 60,
        });
        const run = await svc.startRun({ jobId: job.id, serverIds: ['h1'] });
        if (stop === 'cancel') {
          // Cancelled while the login shell that will start the runner is still busy (its sleep is seen on
          // the host): the launch is under way, the script has not started.
          await vi.waitFor(
            () => expect(onHost(h, `pgrep -u ${u.user} -x sleep`, u.user).trim()).not.toBe(''),
            {
              timeout: 20_000,
            },
          );
          await svc.cancelRun(run.id);
        }
        const done = await svc.waitForRun(run.id);
        const e = await svc.getExecution(done.executionIds[0]!);
        expect(e.status).toBe(stop === 'cancel' ? 'cancelled' : 'timed_out');
        expect((await svc.readLog(e.id)).map((c) => c.text).join('')).toMatch(/did not run/);
        // Give a runner that wrongly started time to write, then check nothing ran.
        await new Promise((r) => setTimeout(r, 4000));
        expect(onHost(h, 'cat ~/ran.txt 2>/dev/null; ls ~/.cronium/runs | wc -l', u.user).trim()).toBe('0');
      } finally {
        u.remove();
      }
    },
    60_000,
  );
});
