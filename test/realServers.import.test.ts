/**
 * Importing from ~/.ssh/config and known_hosts against real sshd hosts: imported hosts connect without a
 * trust prompt (the app's "ask" policy), a two-hop ProxyJump runs through both hops, tags are run
 * targets, and the CLI's import, dry run and tag options do what they say.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { runCli } from './support/cli.ts';
import { hosts, runJob, tempDir } from './support/fixtures.ts';

const h = hosts();
const home = tempDir('cronium-import-home-');
const ssh = join(home.path, '.ssh');
const hostKey = (name: string) => readFileSync(join(h.dir, `${name}_host_ed25519.pub`), 'utf8').trim();

beforeAll(async () => {
  mkdirSync(join(ssh, 'config.d'), { recursive: true });
  writeFileSync(
    join(ssh, 'config'),
    `Include ${ssh}/config.d/*.conf
Host imp-inner
  HostName ${h.behindH1.address}
  Port ${h.behindH1.port}
  ProxyJump imp-h1
Host imp-deep
  HostName ${h.deepBehindH1.address}
  Port ${h.deepBehindH1.port}
  ProxyJump imp-h1,imp-inner
Host imp-h3
  HostName ${h.hosts.h3.address}
Host imp-pc
  HostName ${h.hosts.h2.address}
  ProxyCommand ssh -W %h:%p imp-h1
Host imp-*
  User ${h.user}
  IdentityFile ${h.keyPath}
  IdentitiesOnly yes
`,
  );
  writeFileSync(
    join(ssh, 'config.d', 'lab.conf'),
    `Host imp-h1\n  HostName ${h.hosts.h1.address}\nHost imp-h2\n  HostName ${h.hosts.h2.address}\n`,
  );
  // h1 and the addresses inside it share h1's key; h3 is left out on purpose (it must ask).
  const knownHosts = join(ssh, 'known_hosts');
  writeFileSync(
    knownHosts,
    [
      `${h.hosts.h1.address} ${hostKey('h1')}`,
      `[${h.behindH1.address}]:${h.behindH1.port} ${hostKey('h1')}`,
      `[${h.deepBehindH1.address}]:${h.deepBehindH1.port} ${hostKey('h1')}`,
    ].join('\n') + '\n',
  );
  // Hashed, as Debian's HashKnownHosts yes writes them.
  execFileSync('ssh-keygen', ['-q', '-H', '-f', knownHosts], { stdio: 'ignore' });
  writeFileSync(join(ssh, 'known_hosts2'), `${h.hosts.h2.address} ${hostKey('h2')}\n`);
});
afterAll(async () => home.remove());

describe('import, then run with no trust prompt', () => {
  const data = tempDir();
  let service: CroniumService;

  beforeAll(async () => {
    // The app's policy: an unknown host key is asked about, never accepted silently.
    service = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'ask',
      runtimePort: 0,
      readyTimeoutMs: 5000,
      killGraceSec: 1,
    });
  });
  afterAll(async () => {
    await service.close();
    data.remove();
  });

  it('imports every host with its hops and keys, and runs on them without asking', async () => {
    expect(readFileSync(join(ssh, 'known_hosts'), 'utf8')).toMatch(/^\|1\|/);
    const plan = await service.importServers({
      sshConfig: join(ssh, 'config'),
      knownHosts: [join(ssh, 'known_hosts'), join(ssh, 'known_hosts2')],
    });
    expect(plan.skipped).toEqual([{ name: 'imp-pc', reason: expect.stringMatching(/ProxyCommand/) }]);
    const byName = Object.fromEntries(plan.servers.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(['imp-deep', 'imp-h1', 'imp-h2', 'imp-h3', 'imp-inner']);
    expect(byName['imp-deep']).toMatchObject({ jump: 'imp-inner', hostKey: { status: 'new' } });
    expect(byName['imp-inner']).toMatchObject({ jump: 'imp-h1', requiredBy: ['imp-deep'] });
    expect(byName['imp-h1']!.hostKey?.fingerprint).toBe(h.hosts.h1.hostKeyFingerprint);
    expect(byName['imp-h2']!.hostKey?.fingerprint).toBe(h.hosts.h2.hostKeyFingerprint);
    expect(byName['imp-h3']!.hostKey).toBeNull();

    const r = await runJob(service, { language: 'bash', script: 'echo "at ${SSH_CONNECTION#* * }"' }, [
      'imp-h1',
      'imp-h2',
      'imp-deep',
    ]);
    expect(r.executions.map((e) => [e.serverName, e.status, e.errorKind])).toEqual([
      ['imp-deep', 'succeeded', null],
      ['imp-h1', 'succeeded', null],
      ['imp-h2', 'succeeded', null],
    ]);
    // The far end saw the connection arrive at its own address: the two hops were taken.
    expect(r.text('imp-deep', 'stdout')).toBe(`at ${h.deepBehindH1.address} ${h.deepBehindH1.port}\n`);
    expect(r.text('imp-h1', 'stdout')).toBe(`at ${h.hosts.h1.address} 22\n`);

    // The control: the host known_hosts said nothing about is asked about.
    const asked = await runJob(service, { language: 'bash', script: 'true' }, ['imp-h3']);
    expect(asked.exec).toMatchObject({ status: 'error', errorKind: 'host_key_unknown' });

    // History: "not succeeded" finds exactly that one; text finds by server name, job name and error.
    const ids = async (q: object) => (await service.queryHistory(q)).items.map((e) => e.id);
    expect(await ids({ status: 'not_succeeded' })).toEqual([asked.exec.id]);
    expect(await ids({ text: 'IMP-DEEP' })).toEqual([r.executions[0]!.id]);
    expect(await ids({ text: 'not known' })).toEqual([asked.exec.id]);
    expect((await ids({ text: `${r.exec.jobName} imp-h` })).sort()).toEqual(
      [r.executions[1]!.id, r.executions[2]!.id].sort(),
    );
    expect(await ids({ text: '100%_' })).toEqual([]);
  });

  it('re-imports without duplicates, and runs on tags mixed with names', async () => {
    const before = (await service.listServers()).length;
    const again = await service.importServers({
      sshConfig: join(ssh, 'config'),
      knownHosts: [join(ssh, 'known_hosts'), join(ssh, 'known_hosts2')],
    });
    expect(again.servers.every((s) => s.action === 'unchanged')).toBe(true);
    expect(await service.listServers()).toHaveLength(before);

    for (const name of ['imp-h1', 'imp-deep']) {
      const s = await service.getServer(name);
      await service.updateServer(s.id, {
        name: s.name,
        host: s.host,
        port: s.port,
        username: s.username,
        auth: { type: 'key', keyPath: s.keyPath! },
        jumpServerId: s.jumpServerId,
        tags: ['prod'],
        description: s.description,
      });
    }
    // imp-h1 comes through the tag and by name: once.
    const r = await runJob(service, { language: 'bash', script: 'echo ok' }, [
      'tag:prod',
      'imp-h2',
      'imp-h1',
    ]);
    expect(r.executions.map((e) => e.serverName)).toEqual(['imp-deep', 'imp-h1', 'imp-h2']);
    expect(r.executions.every((e) => e.status === 'succeeded')).toBe(true);
    await expect(service.startRun({ jobId: r.run.jobId, serverIds: ['tag:nope'] })).rejects.toThrow(
      /no server is tagged "nope" \(tags in use: prod\)/,
    );
    await expect(service.startRun({ jobId: r.run.jobId, serverIds: ['imp-h2', 'imp-h2'] })).rejects.toThrow(
      /listed twice/,
    );
  });
});

describe('the CLI', () => {
  const data = tempDir();
  const dir = join(data.path, 'data');
  const env = { HOME: home.path, CRONIUM_DATA_DIR: dir };
  afterAll(async () => data.remove());

  // Each CLI call is a process of its own (seconds each on a loaded machine): a few per test.
  it('server import --dry-run writes nothing; server import imports, then updates nothing', async () => {
    const dry = await runCli(['server', 'import', '--dry-run', '--only', 'imp-h?'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^imp-h1 +new +/m);
    expect(dry.stdout).toMatch(/3 new, 0 updated, 0 unchanged \(dry run: nothing was written\)/);
    expect(existsSync(dir)).toBe(false);

    const done = await runCli(['server', 'import', '--json'], env);
    expect(done.code).toBe(0);
    const plan = JSON.parse(done.stdout) as { applied: boolean; servers: { name: string }[] };
    expect(plan.applied).toBe(true);
    expect(plan.servers).toHaveLength(5);
    expect((await runCli(['server', 'import'], env)).stdout).toMatch(/0 new, 0 updated, 5 unchanged\./);
  }, 120_000);

  it('lists by tag, and runs on tag:NAME mixed with names', async () => {
    expect((await runCli(['server', 'edit', 'imp-h2', '--tag', 'db'], env)).code).toBe(0);
    expect((await runCli(['server', 'list', '--tag', 'db'], env)).stdout).toMatch(/^imp-h2 /m);
    expect(
      (await runCli(['job', 'add', 'who', '--lang', 'bash', '--script', 'hostname', '--tag', 'ops'], env))
        .code,
    ).toBe(0);
    expect((await runCli(['job', 'list', '--tag', 'ops'], env)).stdout).toMatch(/^who /m);

    const run = await runCli(['run', 'who', '--on', 'tag:db,imp-h1'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\[imp-h1\] /m);
    expect(run.stdout).toMatch(/^\[imp-h2\] /m);

    const unknown = await runCli(['run', 'who', '--on', 'tag:nope'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'cronium: Invalid input — --on: no server is tagged "nope" (tags in use: db)\n',
    );
  }, 120_000);

  it('searches history and filters what did not succeed', async () => {
    const failed = await runCli(['history', '--status', 'not_succeeded', '--json'], env);
    expect(JSON.parse(failed.stdout)).toEqual([]);
    const found = await runCli(['history', '--search', 'IMP-H2 who', '--json'], env);
    expect((JSON.parse(found.stdout) as { serverName: string }[]).map((e) => e.serverName)).toEqual([
      'imp-h2',
    ]);
  }, 120_000);
});
