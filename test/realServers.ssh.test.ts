/**
 * Issue 8, cases 2, 3, 4 and 12, against real sshd hosts, with in-process ssh2 servers beside them for the
 * failures a real sshd will not give on demand (a one-time-code prompt, a refused session).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';

import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConnectionPool } from '../src/ssh/connectionPool.ts';
import type { HostKeyVerifier } from '../src/ssh/hostKeys.ts';
import { runCli } from './support/cli.ts';
import { hosts, runJob, serviceWithHosts, tempDir } from './support/fixtures.ts';
import { createTestUser, startPrivateSshd, type TestUser } from './support/sshHosts.ts';
import { ed25519KeyPair } from './support/sshKeys.ts';

const SLOT = Number(process.env.CRONIUM_TEST_SLOT ?? 0);

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function cli(dataDir: string, args: string[], stdin = '') {
  return runCli(args, { CRONIUM_DATA_DIR: dataDir }, stdin);
}

type Session = { command: string; stream: ssh2.ServerChannel };

/**
 * An ssh2 server on loopback for fault injection. `auth` decides each login; `maxSessions` refuses a
 * session channel beyond that many open on one connection (sshd's MaxSessions); a session's exec either
 * answers at once (prints its command, exit 0) or, for "hold", stays open until the test ends it.
 */
async function fakeServer(options: {
  auth: (ctx: ssh2.AuthContext) => void;
  maxSessions?: number;
}): Promise<{ port: number; connections: number; held: Session[]; close: () => Promise<void> }> {
  const hostKey = ed25519KeyPair().private;
  const held: Session[] = [];
  const state = { port: 0, connections: 0, held, close: async () => {} };
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    state.connections++;
    let open = 0;
    client.on('error', () => {});
    client.on('authentication', (ctx) => options.auth(ctx));
    client.on('ready', () => {
      client.on('session', (accept, reject) => {
        if (open >= (options.maxSessions ?? Infinity)) return reject();
        open++;
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          stream.on('close', () => open--);
          // Read what the client sends (nothing), so its end of input is seen and the channel can close.
          stream.resume();
          if (info.command === 'hold') held.push({ command: info.command, stream });
          else {
            stream.write(`ran ${info.command}\n`);
            stream.exit(0);
            stream.end();
          }
        });
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((r) => server.close(() => r()));
  return state;
}

const anyHostKey = { check: async () => null } as unknown as HostKeyVerifier;

describe('case 2: passwords on keyboard-interactive servers', () => {
  const h = hosts();
  let svc: Awaited<ReturnType<typeof serviceWithHosts>>;
  const otp = { port: 0, close: async () => {}, passwords: [] as string[] };
  const twoStep = { port: 0, close: async () => {}, passwords: [] as string[] };

  beforeAll(async () => {
    svc = await serviceWithHosts();
    const base = { host: h.hosts.kbdint.address, username: h.user };
    await svc.service.createServer({
      ...base,
      name: 'kbd-pw',
      auth: { type: 'password', password: h.password },
    });
    await svc.service.createServer({
      ...base,
      name: 'kbd-wrong',
      auth: { type: 'password', password: 'not-it' },
    });
    // A server whose only prompt is a one-time code.
    const a = await fakeServer({
      auth: (ctx) => {
        if (ctx.method !== 'keyboard-interactive') return ctx.reject(['keyboard-interactive']);
        ctx.prompt([{ prompt: 'Verification code: ', echo: false }], () => ctx.reject());
      },
    });
    Object.assign(otp, { port: a.port, close: a.close });
    // Password first, then a one-time code (PAM stacks such as pam_unix + pam_google_authenticator).
    const b = await fakeServer({
      auth: (ctx) => {
        if (ctx.method !== 'keyboard-interactive') return ctx.reject(['keyboard-interactive']);
        ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => {
          twoStep.passwords.push(answers[0] ?? '');
          ctx.prompt([{ prompt: 'Verification code: ', echo: false }], () => ctx.reject());
        });
      },
    });
    Object.assign(twoStep, { port: b.port, close: b.close });
    for (const [name, port] of [
      ['otp', a.port],
      ['pw-then-otp', b.port],
    ] as const) {
      await svc.service.createServer({
        name,
        host: '127.0.0.1',
        port,
        username: 'someone',
        auth: { type: 'password', password: 'the-password' },
      });
    }
  });
  afterAll(async () => {
    await svc.close();
    await otp.close();
    await twoStep.close();
  });

  it('logs in with the saved password through keyboard-interactive, and runs', async () => {
    const result = await svc.service.testServer('kbd-pw');
    expect(result.error).toBeNull();
    expect(result.online).toBe(true);
    const run = await runJob(svc.service, { language: 'bash', script: 'echo "as $(id -un)"' }, ['kbd-pw']);
    expect(run.exec.status).toBe('succeeded');
    expect(run.text('kbd-pw', 'stdout')).toBe(`as ${h.user}\n`);
  });

  it('reports a wrong password there as not accepted', async () => {
    const result = await svc.service.testServer('kbd-wrong');
    expect(result.online).toBe(false);
    expect(result.error?.kind).toBe('auth_failed');
    expect(result.error?.message).toMatch(/did not accept the password/);
  });

  it('stops at a one-time-code prompt with an error that names it', async () => {
    const result = await svc.service.testServer('otp');
    expect(result.online).toBe(false);
    expect(result.error?.kind).toBe('auth_failed');
    expect(result.error?.message).toContain('"Verification code:"');
  });

  it('answers the password prompt, then stops at the one-time code that follows', async () => {
    const result = await svc.service.testServer('pw-then-otp');
    expect(result.error?.kind).toBe('auth_failed');
    expect(result.error?.message).toContain('"Verification code:"');
    expect(twoStep.passwords).toEqual(['the-password']);
  });

  it('cronium server test: exit 0 on the keyboard-interactive host, 255 naming the one-time-code prompt', async () => {
    const dir = tempDir();
    try {
      const add = await cli(
        dir.path,
        ['server', 'add', 'kbd', '--host', h.hosts.kbdint.address, '--user', h.user, '--password-stdin'],
        h.password + '\n',
      );
      expect(add.code).toBe(0);
      const ok = await cli(dir.path, ['server', 'test', 'kbd']);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^kbd: online/);
      await cli(
        dir.path,
        [
          'server',
          'add',
          'otp',
          '--host',
          '127.0.0.1',
          '--port',
          String(otp.port),
          '--user',
          'x',
          '--password-stdin',
        ],
        'pw\n',
      );
      const refused = await cli(dir.path, ['server', 'test', 'otp']);
      expect(refused.code).toBe(255);
      expect(refused.stderr).toContain('"Verification code:"');
    } finally {
      dir.remove();
    }
  });
});

describe('case 3: sessions a server will not open', () => {
  const h = hosts();
  let user: TestUser;
  let svc: Awaited<ReturnType<typeof serviceWithHosts>>;

  beforeAll(async () => {
    user = createTestUser(h, 'sshsess');
    // Check every pooled connection before reuse, so the frozen one is found without waiting.
    svc = await serviceWithHosts({ checkIdleAfterMs: 0 });
    for (const [name, host] of [
      ['one', h.hosts.onesession],
      ['fresh', h.hosts.h1],
    ] as const) {
      await svc.service.createServer({
        name,
        host: host.address,
        username: user.user,
        auth: { type: 'key', keyPath: h.keyPath },
      });
    }
  });
  afterAll(async () => {
    await svc.close();
    user.remove();
  });

  it('runs three executions at once on a MaxSessions 1 server, none lost', async () => {
    const modes = ['auto', 'bundled', 'api'] as const;
    const runs = await Promise.all(
      modes.map((helperMode, i) =>
        runJob(
          svc.service,
          { language: 'bash', script: `sleep 0.3; cronium.output '{"n": ${i}}'; echo run-${i}` },
          ['one'],
          { helperMode },
        ),
      ),
    );
    for (const [i, run] of runs.entries()) {
      expect(run.exec.errorMessage ?? null).toBeNull();
      expect(run.exec.status).toBe('succeeded');
      expect(run.text('one', 'stdout')).toContain(`run-${i}`);
      expect(run.exec.output).toEqual({ n: i });
    }
  });

  it('replaces a pooled connection that stopped answering before anything starts on it', async () => {
    const job = { language: 'bash' as const, script: 'echo "$SSH_CONNECTION"' };
    const first = await runJob(svc.service, job, ['fresh']);
    expect(first.exec.status).toBe('succeeded');
    // The pooled connection's own sshd process on h1 (the privilege-separated child, "sshd: user@notty"):
    // freeze it, so the connection looks open but nothing answers on it; new connections still work.
    const inH1 = execFileSync('ip', ['netns', 'pids', h.hosts.h1.netns], { encoding: 'utf8' }).split('\n');
    const pids = inH1.filter((pid) => {
      try {
        return execFileSync('cat', [`/proc/${pid}/cmdline`], { encoding: 'utf8' }).startsWith(
          `sshd: ${user.user}@`,
        );
      } catch {
        return false;
      }
    });
    expect(pids.length).toBe(1);
    execFileSync('kill', ['-STOP', pids[0]!]);
    try {
      const started = Date.now();
      const second = await runJob(svc.service, job, ['fresh']);
      expect(second.exec.status).toBe('succeeded');
      // Another client port: a new connection was made.
      expect(second.text('fresh', 'stdout').split(' ')[1]).not.toBe(
        first.text('fresh', 'stdout').split(' ')[1],
      );
      expect(second.exec.timings.connectMs).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      execFileSync('kill', ['-KILL', pids[0]!]);
    }
  });

  it('fault injection: a refused session goes to another connection, and the limit is learned', async () => {
    const server = await fakeServer({ auth: (ctx) => ctx.accept(), maxSessions: 1 });
    const pool = new ConnectionPool({
      hostKeys: anyHostKey,
      resolve: async () => ({
        target: {
          label: 'fake',
          host: '127.0.0.1',
          port: server.port,
          username: 'u',
          auth: { type: 'password', password: 'p' },
        },
        jumpServerId: null,
      }),
      readyTimeoutMs: 5000,
    });
    try {
      const lease = await pool.acquire('fake');
      const holding = await lease.connection.exec('hold');
      holding.onStdout(() => {});
      holding.onStderr(() => {});
      const second = await lease.connection.run('echo second');
      expect(second).toMatchObject({ code: 0, stdout: 'ran echo second\n' });
      expect(lease.connection.maxSessions).toBe(1);
      expect(server.connections).toBe(2);
      // The next lease does not crowd the full connection: it gets the other one.
      const next = await pool.acquire('fake');
      expect(next.connection).not.toBe(lease.connection);
      next.release();
      holding.end();
      server.held[0]!.stream.exit(0);
      server.held[0]!.stream.end();
      await holding.exited;
      lease.release();
    } finally {
      pool.closeAll();
      await server.close();
    }
  });

  it('fault injection: a server that refuses every session is reported, without endless retries', async () => {
    const server = await fakeServer({ auth: (ctx) => ctx.accept(), maxSessions: 0 });
    const pool = new ConnectionPool({
      hostKeys: anyHostKey,
      resolve: async () => ({
        target: {
          label: 'fake',
          host: '127.0.0.1',
          port: server.port,
          username: 'u',
          auth: { type: 'password', password: 'p' },
        },
        jumpServerId: null,
      }),
    });
    try {
      const lease = await pool.acquire('fake');
      await expect(lease.connection.run('true')).rejects.toMatchObject({
        kind: 'connection_lost',
        message: expect.stringMatching(/refused a new session: \(SSH\) Channel open failure/),
      });
      expect(server.connections).toBe(1);
      lease.release();
    } finally {
      pool.closeAll();
      await server.close();
    }
  });
});

describe('case 4: Test always logs in afresh; host keys are checked on every new connection', () => {
  const h = hosts();
  let user: TestUser;
  let svc: Awaited<ReturnType<typeof serviceWithHosts>>;

  beforeAll(async () => {
    user = createTestUser(h, 'sshtest');
    svc = await serviceWithHosts();
    const base = { host: h.hosts.h2.address, username: user.user };
    await svc.service.createServer({
      ...base,
      name: 'pw',
      auth: { type: 'password', password: user.password },
    });
    await svc.service.createServer({ ...base, name: 'key', auth: { type: 'key', keyPath: h.keyPath } });
  });
  afterAll(async () => {
    await svc.close();
    user.remove();
  });

  it('a changed password fails the next Test, though a pooled connection exists', async () => {
    expect((await svc.service.testServer('pw')).online).toBe(true);
    expect((await runJob(svc.service, { language: 'bash', script: 'true' }, ['pw'])).exec.status).toBe(
      'succeeded',
    );
    execFileSync('chpasswd', { input: `${user.user}:Changed-${Date.now()}\n` });
    const result = await svc.service.testServer('pw');
    expect(result.online).toBe(false);
    expect(result.error?.kind).toBe('auth_failed');
    expect(result.error?.message).toMatch(/did not accept the password/);
    // The failed Test also dropped the pooled connection: the next run meets the same login.
    const run = await runJob(svc.service, { language: 'bash', script: 'true' }, ['pw']);
    expect(run.exec.errorKind).toBe('auth_failed');
  });

  it('a key removed from authorized_keys fails the next Test', async () => {
    expect((await svc.service.testServer('key')).online).toBe(true);
    expect((await runJob(svc.service, { language: 'bash', script: 'true' }, ['key'])).exec.status).toBe(
      'succeeded',
    );
    writeFileSync(join(h.dir, 'authorized', user.user), '');
    const result = await svc.service.testServer('key');
    expect(result.online).toBe(false);
    expect(result.error?.kind).toBe('auth_failed');
    expect(result.error?.message).toMatch(/did not accept the private key/);
  });

  it('a new host key is refused by the next Test and the next run, with both fingerprints', async () => {
    const sshd = await startPrivateSshd(h, 2200 + SLOT);
    try {
      await svc.service.createServer({
        name: 'rekeyed',
        host: sshd.address,
        port: sshd.port,
        username: h.user,
        auth: { type: 'key', keyPath: h.keyPath },
      });
      const before = await svc.service.testServer('rekeyed');
      expect(before).toMatchObject({ online: true, fingerprint: sshd.fingerprint });
      const old = sshd.fingerprint;
      expect((await runJob(svc.service, { language: 'bash', script: 'true' }, ['rekeyed'])).exec.status).toBe(
        'succeeded',
      );
      await sshd.restartWithNewHostKey();
      expect(sshd.fingerprint).not.toBe(old);
      const result = await svc.service.testServer('rekeyed');
      expect(result.online).toBe(false);
      expect(result.error?.kind).toBe('host_key_mismatch');
      expect(result.error?.message).toContain(old);
      expect(result.error?.message).toContain(sshd.fingerprint);
      const run = await runJob(svc.service, { language: 'bash', script: 'echo ran' }, ['rekeyed']);
      expect(run.exec.errorKind).toBe('host_key_mismatch');
      expect(run.text('rekeyed')).not.toContain('ran');
    } finally {
      sshd.stop();
    }
  });
});

describe('case 12: cancel and the deadline reach every phase', () => {
  const h = hosts();
  let user: TestUser;

  beforeAll(async () => {
    user = createTestUser(h, 'sshdead');
    // Every command but the runner's and the collector's hangs while ~/hang exists: deploy and probe hang.
    const bashrc = join(user.home, '.bashrc');
    const original = existsSync(bashrc) ? execFileSync('cat', [bashrc], { encoding: 'utf8' }) : '';
    writeFileSync(
      bashrc,
      `case "$BASH_EXECUTION_STRING" in *runner.sh*|*collect.sh*) ;; *) if [ -f ~/hang ]; then touch ~/hung; exec sleep 600; fi ;; esac\n` +
        original,
    );
  });
  afterAll(async () => user.remove());

  async function service() {
    const svc = await serviceWithHosts();
    await svc.service.createServer({
      name: 'u1',
      host: h.hosts.h1.address,
      username: user.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
    return svc;
  }

  it('two runs wait for one new connection: cancelling one leaves the other to succeed', async () => {
    // A gate in front of h1: the SSH connection stays pending until the test opens it.
    const waiting: Socket[] = [];
    let open = false;
    let accepted = 0;
    const pipe = (socket: Socket) => {
      const upstream = connect({ host: h.hosts.h1.address, port: 22 });
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    };
    const gate: NetServer = createServer((socket) => {
      accepted++;
      if (open) pipe(socket);
      else waiting.push(socket);
    });
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
    const svc = await service();
    try {
      await svc.service.createServer({
        name: 'gated',
        host: '127.0.0.1',
        port: (gate.address() as AddressInfo).port,
        username: user.user,
        auth: { type: 'key', keyPath: h.keyPath },
      });
      const job = await svc.service.createJob({ name: 'marker', language: 'bash', script: 'echo done' });
      const a = await svc.service.startRun({ jobId: job.id, serverIds: ['gated'] });
      const b = await svc.service.startRun({ jobId: job.id, serverIds: ['gated'] });
      const statusOf = async (runId: string) =>
        (await svc.service.getExecution((await svc.service.getRun(runId)).executionIds[0]!)).status;
      await until(
        async () =>
          (await statusOf(a.id)) === 'connecting' &&
          (await statusOf(b.id)) === 'connecting' &&
          waiting.length === 1,
      );
      await svc.service.cancelRun(a.id);
      expect((await svc.service.waitForRun(a.id)).status).toBe('cancelled');
      open = true;
      for (const socket of waiting.splice(0)) pipe(socket);
      const finished = await svc.service.waitForRun(b.id);
      const execution = await svc.service.getExecution(finished.executionIds[0]!);
      expect(execution.errorMessage ?? null).toBeNull();
      expect(execution.status).toBe('succeeded');
      expect(accepted).toBe(1);
    } finally {
      await svc.close();
      gate.close();
    }
  });

  it('a hung deploy ends timed_out within the job timeout', async () => {
    execFileSync('rm', ['-f', join(user.home, 'hung')]);
    writeFileSync(join(user.home, 'hang'), '');
    const svc = await service();
    try {
      const started = Date.now();
      const run = await runJob(
        svc.service,
        { language: 'bash', script: 'touch ~/ran-after-timeout', timeoutSec: 2 },
        ['u1'],
      );
      expect(run.exec.status).toBe('timed_out');
      expect(run.exec.errorKind).toBe('timed_out');
      expect(run.exec.errorMessage).toMatch(/Timed out after 2 s/);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(existsSync(join(user.home, 'ran-after-timeout'))).toBe(false);
    } finally {
      await svc.close();
      execFileSync('rm', ['-f', join(user.home, 'hang'), join(user.home, 'hung')]);
    }
  });

  it('a cancel during deploy ends cancelled, and the script never runs', async () => {
    execFileSync('rm', ['-f', join(user.home, 'hung')]);
    writeFileSync(join(user.home, 'hang'), '');
    const svc = await service();
    try {
      const job = await svc.service.createJob({
        name: 'mark',
        language: 'bash',
        script: 'touch ~/ran-after-cancel',
      });
      const run = await svc.service.startRun({ jobId: job.id, serverIds: ['u1'] });
      await until(() => existsSync(join(user.home, 'hung')));
      await svc.service.cancelRun(run.id);
      const finished = await svc.service.waitForRun(run.id);
      const execution = await svc.service.getExecution(finished.executionIds[0]!);
      expect(execution.status).toBe('cancelled');
      expect(execution.errorKind).toBe('cancelled');
      expect(existsSync(join(user.home, 'ran-after-cancel'))).toBe(false);
    } finally {
      await svc.close();
      execFileSync('rm', ['-f', join(user.home, 'hang'), join(user.home, 'hung')]);
    }
  });
});
