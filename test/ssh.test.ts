import { createServer, type AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { withDatabase } from './support/database.ts';
import { ownHosts, runJob, tempDir } from './support/fixtures.ts';

// A test user of this file's own: its home (~/.cronium) and processes are nobody else's.
const h = ownHosts('ssh');
afterAll(async () => h.removeUser());

describe('SSH connections against real sshd', () => {
  const dir = tempDir();
  let service: CroniumService;

  beforeAll(async () => {
    service = await CroniumService.open({
      dataDir: dir.path,
      unknownHostKeys: 'accept-new',
      readyTimeoutMs: 3000,
      agentSocket: h.agentSocket,
      runtimePort: 0,
    });
    const base = { host: h.hosts.h1.address, username: h.user };
    await service.createServer({ ...base, name: 'by-key', auth: { type: 'key', keyPath: h.keyPath } });
    await service.createServer({
      ...base,
      name: 'by-encrypted-key',
      host: h.hosts.h2.address,
      auth: { type: 'key', keyPath: h.encryptedKeyPath, passphrase: h.passphrase },
    });
    await service.createServer({
      ...base,
      name: 'by-password',
      auth: { type: 'password', password: h.password },
    });
    await service.createServer({ ...base, name: 'by-agent', auth: { type: 'agent' } });
    await service.createServer({
      ...base,
      name: 'wrong-key',
      auth: { type: 'key', keyPath: h.wrongKeyPath },
    });
    await service.createServer({
      ...base,
      name: 'wrong-password',
      auth: { type: 'password', password: 'not-it' },
    });
    await service.createServer({
      ...base,
      name: 'closed-port',
      host: h.hosts.h2.address,
      port: h.closedPort,
      auth: { type: 'password', password: h.password },
    });
    await service.createServer({
      ...base,
      name: 'no-dns',
      host: 'no-such-host.invalid',
      auth: { type: 'password', password: h.password },
    });
    await service.createServer({ ...base, name: 'jump', auth: { type: 'key', keyPath: h.keyPath } });
    // 127.0.0.1:2222 inside h1's namespace: reachable only through a jump server.
    const behind = {
      host: h.behindH1.address,
      port: h.behindH1.port,
      username: h.user,
      auth: { type: 'password' as const, password: h.password },
    };
    await service.createServer({ ...behind, name: 'behind-jump', jumpServerId: 'jump' });
    // Its jump server's port is closed: the hop fails before the target is tried.
    await service.createServer({ ...behind, name: 'behind-closed-jump', jumpServerId: 'closed-port' });
  });
  afterAll(async () => {
    await service.close();
    dir.remove();
  });

  it.each(['by-key', 'by-encrypted-key', 'by-password', 'by-agent'])(
    'authenticates %s and records the check',
    async (name) => {
      const result = await service.testServer(name);
      expect(result.error).toBeNull();
      expect(result.online).toBe(true);
      expect(result.os).toMatch(/Linux/);
      expect((await service.getServer(name)).lastCheck).toMatchObject({ online: true });
    },
  );

  it.each([
    ['wrong-key', 'auth_failed', /Authentication as crtest\w* .* failed/],
    ['wrong-password', 'auth_failed', /did not accept the password/],
    ['closed-port', 'connection_refused', /refused the connection/],
    ['no-dns', 'dns', /does not resolve|could not be resolved/],
  ])('reports %s as %s, once', async (name, kind, message) => {
    const result = await service.testServer(name);
    expect(result.online).toBe(false);
    expect(result.error?.kind).toBe(kind);
    expect(result.error?.message).toMatch(message);
    expect((await service.getServer(name)).lastCheck).toMatchObject({ online: false });
  });

  it('reports a server that never answers as connect_timeout, once', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    await service.createServer({
      name: 'silent',
      host: '127.0.0.1',
      port,
      username: h.user,
      auth: { type: 'password', password: 'x' },
    });
    const events: string[] = [];
    const off = service.subscribe(
      (e) => e.type === 'execution' && e.execution.serverName === 'silent' && events.push(e.execution.status),
    );
    const run = await runJob(service, { language: 'bash', script: 'true' }, ['silent']);
    off();
    silent.close();
    expect(run.exec.errorKind).toBe('connect_timeout');
    expect(run.exec.errorMessage).toMatch(/did not complete the SSH handshake in time/);
    expect(events.filter((s) => s === 'error')).toHaveLength(1);
  });

  it('hops through a jump server to a host only it can reach', async () => {
    // 127.0.0.1:2222 exists only inside h1's namespace: reaching it proves the hop.
    const result = await service.testServer('behind-jump');
    expect(result.error).toBeNull();
    expect(result.online).toBe(true);
    const run = await runJob(service, { language: 'bash', script: 'echo "via $SSH_CONNECTION"' }, [
      'behind-jump',
    ]);
    expect(run.exec.status).toBe('succeeded');
    expect(run.text('behind-jump', 'stdout')).toMatch(/^via 127\.0\.0\.1 \d+ 127\.0\.0\.1 2222/);
  });

  it('says which server a failing jump server was the hop for', async () => {
    const run = await runJob(service, { language: 'bash', script: 'true' }, ['behind-closed-jump']);
    expect(run.exec.status).toBe('error');
    expect(run.exec.errorKind).toBe('connection_refused');
    // The jump server's own words first (its name and address), then whose hop it was.
    expect(run.exec.errorMessage).toMatch(
      new RegExp(
        `^closed-port \\(${h.hosts.h2.address.replace(/\./g, '\\.')}:${h.closedPort}\\).* \\(the jump server for behind-closed-jump\\)\\.$`,
      ),
    );
  });

  it('records a new host key on first use (accept-new) with its SHA256 fingerprint', async () => {
    await service.testServer('by-key');
    const row = (await withDatabase(service, (db) =>
      db.prepare('SELECT * FROM known_hosts WHERE host = ?').get(h.hosts.h1.address),
    )) as {
      fingerprint: string;
      key_type: string;
    };
    expect(row.fingerprint).toBe(h.hosts.h1.hostKeyFingerprint);
    expect(row.key_type).toBe('ssh-ed25519');
  });

  it('refuses a changed host key with both fingerprints, until the key is re-trusted', async () => {
    const fake = 'SHA256:' + Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '');
    await withDatabase(service, (db) =>
      db.prepare('UPDATE known_hosts SET fingerprint = ? WHERE host = ?').run(fake, h.hosts.h2.address),
    );
    // Host keys are checked at the handshake: drop the warm connection so the next use connects afresh.
    await service.disconnectServer('by-encrypted-key');
    const refused = await service.testServer('by-encrypted-key');
    expect(refused.error?.kind).toBe('host_key_mismatch');
    expect(refused.error?.message).toContain(fake);
    expect(refused.error?.message).toContain(h.hosts.h2.hostKeyFingerprint);
    // Runs are refused the same way, and nothing ran.
    const run = await runJob(service, { language: 'bash', script: 'echo ran' }, ['by-encrypted-key']);
    expect(run.exec.status).toBe('error');
    expect(run.exec.errorKind).toBe('host_key_mismatch');
    expect(run.text('by-encrypted-key')).not.toContain('ran');
    // Trusting a fingerprint other than the one the server offers trusts nothing.
    await expect(service.trustHostKey('by-encrypted-key', 'SHA256:somethingElse')).rejects.toThrow(
      /nothing was trusted/,
    );
    expect(await service.testServer('by-encrypted-key')).toMatchObject({ online: false });
    const trusted = await service.trustHostKey('by-encrypted-key', h.hosts.h2.hostKeyFingerprint);
    expect(trusted).toMatchObject({ online: true, fingerprint: h.hosts.h2.hostKeyFingerprint });
  });

  it("asks before trusting an unknown key when the policy is 'ask' (the desktop app's)", async () => {
    const askDir = tempDir();
    const asking = await CroniumService.open({
      dataDir: askDir.path,
      unknownHostKeys: 'ask',
      readyTimeoutMs: 3000,
      runtimePort: 0,
    });
    try {
      await asking.createServer({
        name: 'new',
        host: h.hosts.h2.address,
        username: h.user,
        auth: { type: 'key', keyPath: h.keyPath },
      });
      const first = await asking.testServer('new');
      expect(first.error?.kind).toBe('host_key_unknown');
      expect(first.fingerprint).toBe(h.hosts.h2.hostKeyFingerprint);
      expect(
        await withDatabase(asking, (db) => db.prepare('SELECT count(*) AS n FROM known_hosts').get()),
      ).toEqual({ n: 0 });
      const accepted = await asking.trustHostKey('new', first.fingerprint!);
      expect(accepted.online).toBe(true);
    } finally {
      await asking.close();
      askDir.remove();
    }
  });

  it('reuses one warm connection across executions on the same server', async () => {
    // API helpers on both (auto would give the first, on a new connection, bundled at once: `true` names
    // no helper), so the two executions set up the same things and only the connection can differ.
    const job = { language: 'bash', script: 'true', helperMode: 'api' } as const;
    const first = await runJob(service, job, ['by-password']);
    const second = await runJob(service, job, ['by-password']);
    expect(first.exec.status).toBe('succeeded');
    expect(second.exec.status).toBe('succeeded');
    // The second paid no connect and no deploy.
    expect(second.exec.timings.connectMs).toBe(0);
    expect(second.exec.timings.deployMs).toBeLessThan(first.exec.timings.deployMs! + 1);
  });
});
