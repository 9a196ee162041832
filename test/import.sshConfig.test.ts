/**
 * ssh_config resolution (src/ssh/sshConfig.ts) and known_hosts matching (src/ssh/knownHostsFile.ts) against
 * OpenSSH's documented rules (ssh_config(5), sshd(8)), and the import planner on files of each kind. The
 * runs on real hosts are in realServers.import.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hostKeyFor, knownHostsName, parseKnownHosts } from '../src/ssh/knownHostsFile.ts';
import {
  configAliases,
  matchPatternList,
  parseProxyJump,
  parseSshConfig,
  readSshConfig,
  resolveSshHost,
  type SshConfigContext,
} from '../src/ssh/sshConfig.ts';
import { composeCore } from '../src/service/compose.ts';
import { ImportService } from '../src/service/import.ts';
import type { CroniumService } from '../src/service/service.ts';
import { KnownHostRepo } from '../src/store/knownHostRepo.ts';
import { describeEngines } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

const dir = tempDir('cronium-import-');
const home = join(dir.path, 'home');
const ctx: SshConfigContext = {
  home,
  localUser: 'me',
  localHost: 'laptop.lan',
  uid: 1234,
  env: { PROJECT: 'acme' },
};
const resolveIn = (text: string, alias: string, overrides = {}) =>
  resolveSshHost(parseSshConfig(text, join(home, '.ssh', 'config'), ctx), alias, ctx, overrides);

function keyPair(name: string): { path: string; pub: string } {
  const path = join(dir.path, name);
  // Made once per name: the import planner's cases run once per store engine.
  if (!existsSync(path)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
  return { path, pub: readFileSync(`${path}.pub`, 'utf8').trim() };
}
const fingerprint = (pubPath: string) =>
  execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubPath], { encoding: 'utf8' }).split(' ')[1]!;

beforeAll(async () => mkdirSync(join(home, '.ssh', 'conf.d'), { recursive: true }));
afterAll(async () => dir.remove());

describe('ssh_config resolution', () => {
  it('takes the first value of each setting, and every IdentityFile in order', () => {
    const r = resolveIn(
      `Host web
  User first
  IdentityFile /k/one
Host *
  User second
  Port 2200
  IdentityFile /k/two
`,
      'web',
    );
    expect(r).toMatchObject({
      user: 'first',
      port: 2200,
      hostName: 'web',
      identityFiles: ['/k/one', '/k/two'],
    });
  });

  it('applies settings before the first Host to every host, and wildcard entries only as defaults', () => {
    const text = `User global
Host db
  HostName 10.0.0.5
Host *
  Port 2022
`;
    expect(configAliases(parseSshConfig(text, 'x', ctx))).toEqual(['db']);
    expect(resolveIn(text, 'db')).toMatchObject({ user: 'global', port: 2022, hostName: '10.0.0.5' });
  });

  it('matches Host patterns with * and ?, case-insensitively, and a negated match rules the block out', () => {
    const text = `Host web-? !web-9
  User webuser
Host *.PROD
  User produser
Host *
  User other
`;
    expect(resolveIn(text, 'web-1').user).toBe('webuser');
    expect(resolveIn(text, 'web-9').user).toBe('other');
    expect(resolveIn(text, 'web-10').user).toBe('other'); // ? is exactly one character
    expect(resolveIn(text, 'api.prod').user).toBe('produser');
    expect(matchPatternList('a.example.com', '*.example.com,!b.*')).toBe(true);
    expect(matchPatternList('b.example.com', '*.example.com,!b.*')).toBe(false);
    expect(matchPatternList('b.example.com', '!b.*')).toBe(false); // a negation alone matches nothing
  });

  it('lists only plain aliases as servers, in order, each once', () => {
    const text = `Host a b *.x !c
Host b d?
Host e
`;
    expect(configAliases(parseSshConfig(text, 'x', ctx))).toEqual(['a', 'b', 'e']);
  });

  it('expands %h in HostName, and ~, ${ENV} and the tokens in IdentityFile', () => {
    const r = resolveIn(
      `Host box
  HostName %h.internal
  User deploy
  Port 2201
  IdentityFile ~/.ssh/%r@%h-%p
  IdentityFile /keys/%u/%L/%l/%n/%i/%d/\${PROJECT}/100%%
`,
      'box',
    );
    expect(r.hostName).toBe('box.internal');
    expect(r.identityFiles).toEqual([
      `${home}/.ssh/deploy@box.internal-2201`,
      `/keys/me/laptop/laptop.lan/box/1234/${home}/acme/100%`,
    ]);
    expect(r.problems).toEqual([]);
  });

  it('reports an unknown token and a bad port as problems', async () => {
    expect(resolveIn('Host x\n  IdentityFile /k/%Z\n', 'x').problems[0]).toMatch(/unknown token %Z/);
    expect(resolveIn('Host x\n  Port 70000\n', 'x').problems[0]).toMatch(/not a port/);
    expect(resolveIn('Host x\n  HostName %d.example\n', 'x').problems[0]).toMatch(/HostName/);
  });

  it('follows Include with globs (sorted), relative to ~/.ssh, nested, and only where its block applies', () => {
    writeFileSync(join(home, '.ssh', 'conf.d', '20-b.conf'), 'Host inc-b\n  User from-b\n');
    writeFileSync(
      join(home, '.ssh', 'conf.d', '10-a.conf'),
      'Include nested.conf\nHost inc-a\n  User from-a\n',
    );
    writeFileSync(join(home, '.ssh', 'nested.conf'), 'Host inc-nested\n  Port 2345\n');
    writeFileSync(join(home, '.ssh', 'only-web.conf'), 'User only-web\n');
    writeFileSync(
      join(home, '.ssh', 'config'),
      'Include conf.d/*.conf missing-*.conf\nHost web\n  Include only-web.conf\nHost other\n  HostName o.example\n',
    );
    const config = readSshConfig(join(home, '.ssh', 'config'), ctx);
    expect(configAliases(config)).toEqual(['inc-nested', 'inc-a', 'inc-b', 'web', 'other']);
    expect(resolveSshHost(config, 'inc-b', ctx).user).toBe('from-b');
    expect(resolveSshHost(config, 'inc-nested', ctx).port).toBe(2345);
    expect(resolveSshHost(config, 'web', ctx).user).toBe('only-web');
    // The Include inside "Host web" does not apply to other hosts.
    expect(resolveSshHost(config, 'other', ctx).user).toBe('me');
  });

  it('never applies an included file whose Include sits in a block that does not apply', async () => {
    writeFileSync(join(home, '.ssh', 'cond.conf'), 'Host *\n  Port 2400\nHost cond-target\n  User cond\n');
    const text = `Host not-this-one
  Include cond.conf
Host *
  Port 22
`;
    const config = parseSshConfig(text, 'x', ctx);
    // ssh.c's SSHCONF_NEVERMATCH: even "Host *" inside it stays off.
    expect(resolveSshHost(config, 'cond-target', ctx)).toMatchObject({ port: 22, user: 'me' });
    expect(resolveSshHost(config, 'not-this-one', ctx).port).toBe(2400);
  });

  it('starts an included file active, and restores the including block after it', () => {
    writeFileSync(join(home, '.ssh', 'defaults.conf'), 'Host zzz\n  User zzz-user\n');
    const text = `Host app
  Include defaults.conf
  Port 2100
Host *
  User fallback
`;
    const config = parseSshConfig(text, 'x', ctx);
    // Inside the include, "Host zzz" turns it off; back in "Host app", Port applies again.
    expect(resolveSshHost(config, 'app', ctx)).toMatchObject({ user: 'fallback', port: 2100 });
  });

  it('evaluates Match host (after HostName), originalhost, user, localuser, all, and negations', () => {
    const text = `Host short
  HostName long.example.com
Match host *.example.com
  Port 2001
Match originalhost short user me
  User matched-user
Match !localuser someone-else all
  IdentityFile /k/negated
Match all
  Compression yes
`;
    const r = resolveIn(text, 'short');
    expect(r).toMatchObject({ port: 2001, user: 'matched-user', identityFiles: ['/k/negated'] });
    expect(resolveIn(text, 'elsewhere').port).toBe(22);
  });

  it('skips Match exec (never run), canonical, final and localnetwork, and says so', () => {
    const text = `Match exec "touch /tmp/cronium-should-not-exist"
  User exec-user
Match canonical
  Port 2002
Match localnetwork 10.0.0.0/8
  Port 2003
Host x
`;
    const r = resolveIn(text, 'x');
    expect(r.user).toBe('me');
    expect(r.port).toBe(22);
    expect(r.notes.join('\n')).toMatch(/Match exec/);
    expect(r.notes.join('\n')).toMatch(/Match canonical/);
    expect(r.notes.join('\n')).toMatch(/Match localnetwork/);
  });

  it('keeps whichever of ProxyJump and ProxyCommand comes first', async () => {
    expect(resolveIn('Host x\n  ProxyJump a,b\nHost *\n  ProxyCommand nc %h %p\n', 'x')).toMatchObject({
      proxyJump: 'a,b',
      proxyCommand: null,
    });
    expect(resolveIn('Host x\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump a\n', 'x')).toMatchObject({
      proxyJump: null,
      proxyCommand: 'nc %h %p',
    });
    expect(resolveIn('Host x\n  ProxyJump none\nHost *\n  ProxyJump a\n', 'x').proxyJump).toBeNull();
  });

  it("lets a hop's user@ and :port win over the file, as -l and -p do", () => {
    expect(resolveIn('Host j\n  User filed\n  Port 2\n', 'j', { user: 'given', port: 3 })).toMatchObject({
      user: 'given',
      port: 3,
    });
  });

  it('parses ProxyJump hops: user@host:port, ssh:// URIs and bracketed IPv6', () => {
    expect(parseProxyJump('a, bob@b:2200,ssh://carol@[fd00::1]:2022')).toEqual([
      { host: 'a' },
      { user: 'bob', host: 'b', port: 2200 },
      { user: 'carol', host: 'fd00::1', port: 2022 },
    ]);
    expect(() => parseProxyJump('a:99999')).toThrow(/no valid port/);
    expect(() => parseProxyJump('a:b:c')).toThrow(/not \[user@\]host\[:port\]/);
  });
});

describe('known_hosts', () => {
  it('matches plain, pattern, negated, [host]:port and hashed names; skips @cert-authority and @revoked', () => {
    const k1 = keyPair('kh1');
    const k2 = keyPair('kh2');
    const k3 = keyPair('kh3');
    const [type1, blob1] = k1.pub.split(' ');
    const [, blob2] = k2.pub.split(' ');
    const [, blob3] = k3.pub.split(' ');
    const salt = randomBytes(20);
    const hashed = (name: string) =>
      `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
    const text = [
      '# comment',
      `web1.example.com,10.0.0.1 ${type1} ${blob1}`,
      `*.lab,!secret.lab ${type1} ${blob2}`,
      `[10.0.0.2]:2222 ${type1} ${blob3}`,
      `${hashed('[hashed.example]:2200')} ${type1} ${blob2}`,
      `@cert-authority *.example.com ${type1} ${blob3}`,
      `revoked.example ${type1} ${blob1}`,
      `@revoked revoked.example ${type1} ${blob1}`,
      `garbage line`,
      `bad.example ssh-rsa ${blob1}`, // the blob says ed25519: corrupt
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    expect(hostKeyFor(entries, 'web1.example.com', 22)?.fingerprint).toBe(fingerprint(`${k1.path}.pub`));
    expect(hostKeyFor(entries, '10.0.0.1', 22)?.fingerprint).toBe(fingerprint(`${k1.path}.pub`));
    expect(hostKeyFor(entries, '10.0.0.1', 2222)).toBeNull();
    expect(hostKeyFor(entries, 'box.lab', 22)?.fingerprint).toBe(fingerprint(`${k2.path}.pub`));
    expect(hostKeyFor(entries, 'secret.lab', 22)).toBeNull();
    expect(hostKeyFor(entries, '10.0.0.2', 2222)?.fingerprint).toBe(fingerprint(`${k3.path}.pub`));
    expect(hostKeyFor(entries, 'hashed.example', 2200)?.fingerprint).toBe(fingerprint(`${k2.path}.pub`));
    expect(hostKeyFor(entries, 'hashed.example', 22)).toBeNull();
    expect(hostKeyFor(entries, 'a.example.com', 22)).toBeNull(); // a CA is not a host key
    expect(hostKeyFor(entries, 'revoked.example', 22)).toBeNull();
    expect(hostKeyFor(entries, 'bad.example', 22)).toBeNull();
    expect(knownHostsName('FD00::2', 2222)).toBe('[fd00::2]:2222');
  });

  it('reads what ssh-keygen -H hashes', async () => {
    const k = keyPair('khh');
    const file = join(dir.path, 'known_hashed');
    writeFileSync(file, `[h.example]:2022 ${k.pub}\nplain.example ${k.pub}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/example/);
    const entries = parseKnownHosts(text, file);
    expect(hostKeyFor(entries, 'h.example', 2022)?.fingerprint).toBe(fingerprint(`${k.path}.pub`));
    expect(hostKeyFor(entries, 'plain.example', 22)?.fingerprint).toBe(fingerprint(`${k.path}.pub`));
  });

  it('leaves out key types ssh2 cannot ask for (security keys)', async () => {
    const k = keyPair('sk-like');
    const blob = Buffer.from(k.pub.split(' ')[1]!, 'base64');
    // The same key blob with another type name: a type this app cannot negotiate.
    const name = Buffer.from('sk-ssh-ed25519@openssh.com');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(name.length);
    const sk = Buffer.concat([len, name, blob.subarray(4 + blob.readUInt32BE(0))]).toString('base64');
    const entries = parseKnownHosts(`sk.example sk-ssh-ed25519@openssh.com ${sk}\n`, 'kh');
    expect(entries).toHaveLength(1);
    expect(hostKeyFor(entries, 'sk.example', 22)).toBeNull();
  });

  it('prefers the key type ssh2 asks for first when a host has several', async () => {
    const ed = keyPair('pref-ed');
    const rsaPath = join(dir.path, 'pref-rsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsaPath]);
    const rsa = readFileSync(`${rsaPath}.pub`, 'utf8').trim();
    const entries = parseKnownHosts(`multi ${rsa}\nmulti ${ed.pub}\n`, 'kh');
    expect(hostKeyFor(entries, 'multi', 22)).toMatchObject({ keyType: 'ssh-ed25519', others: 1 });
  });
});

describeEngines('import planner', ({ openService }) => {
  let service: CroniumService;
  const data = tempDir();
  const key = () => keyPair(`id-${Math.random().toString(36).slice(2, 8)}`);

  beforeAll(async () => {
    service = await openService({ dataDir: data.path, unknownHostKeys: 'ask', agentSocket: '' });
  });
  afterAll(async () => {
    await service.close();
    data.remove();
  });

  function files(config: string, knownHosts = '') {
    const sub = join(dir.path, `case-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(sub);
    writeFileSync(join(sub, 'config'), config);
    writeFileSync(join(sub, 'known_hosts'), knownHosts);
    return { sshConfig: join(sub, 'config'), knownHosts: [join(sub, 'known_hosts')] };
  }

  it('plans without writing on a dry run, then imports, then re-imports as unchanged', async () => {
    const k = key();
    const host = keyPair('hostkey-a');
    const f = files(
      `Host alpha\n  HostName 10.1.0.1\n  User ops\n  IdentityFile ${k.path}\n`,
      `10.1.0.1 ${host.pub}\n`,
    );
    const dry = await service.importServers({ ...f, dryRun: true });
    expect(dry.applied).toBe(false);
    expect(dry.servers).toMatchObject([
      {
        name: 'alpha',
        action: 'create',
        host: '10.1.0.1',
        username: 'ops',
        authType: 'key',
        keyPath: k.path,
        hostKey: { status: 'new', fingerprint: fingerprint(`${host.path}.pub`) },
      },
    ]);
    expect((await service.listServers()).map((s) => s.name)).not.toContain('alpha');

    const done = await service.importServers(f);
    expect(done.applied).toBe(true);
    expect(await service.getServer('alpha')).toMatchObject({
      host: '10.1.0.1',
      username: 'ops',
      keyPath: k.path,
    });
    const again = await service.importServers(f);
    expect(again.servers[0]).toMatchObject({ action: 'unchanged', hostKey: { status: 'trusted' } });
    expect((await service.listServers()).filter((s) => s.name === 'alpha')).toHaveLength(1);

    // A changed file updates the saved server, keeping its tags.
    await service.updateServer('alpha', { ...toInput(await service.getServer('alpha')), tags: ['kept'] });
    writeFileSync(f.sshConfig, `Host alpha\n  HostName 10.1.0.9\n  User ops\n  IdentityFile ${k.path}\n`);
    expect((await service.importServers(f)).servers[0]!.action).toBe('update');
    expect(await service.getServer('alpha')).toMatchObject({ host: '10.1.0.9', tags: ['kept'] });
  });

  it('saves each ProxyJump hop as a server, chained, reusing an alias that is the same host', async () => {
    const k = key();
    const f = files(`Host bastion
  HostName 10.2.0.1
  User jump
  IdentityFile ${k.path}
Host target
  HostName 10.2.0.3
  ProxyJump bastion,relay@10.2.0.2:2222
Host *
  IdentityFile ${k.path}
  User app
`);
    const plan = await service.importServers(f);
    const byName = Object.fromEntries(plan.servers.map((s) => [s.name, s]));
    expect(byName.target).toMatchObject({ jump: '10.2.0.2', hop: false });
    expect(byName['10.2.0.2']).toMatchObject({
      hop: true,
      username: 'relay',
      port: 2222,
      jump: 'bastion',
      requiredBy: ['target'],
      source: 'relay@10.2.0.2:2222',
    });
    expect(byName.bastion).toMatchObject({ hop: false, username: 'jump', jump: null });
    const target = await service.getServer('target');
    const hop = await service.getServer(target.jumpServerId!);
    expect(hop).toMatchObject({ host: '10.2.0.2', port: 2222 });
    expect((await service.getServer(hop.jumpServerId!)).name).toBe('bastion');
  });

  it('brings along the hops a selected server needs, and nothing else', async () => {
    const k = key();
    const f = files(`Host j1
  HostName 10.3.0.1
Host one
  HostName 10.3.0.2
  ProxyJump j1
Host two
  HostName 10.3.0.3
Host *
  IdentityFile ${k.path}
`);
    const plan = await service.importServers({ ...f, select: ['one'], dryRun: true });
    expect(
      plan.servers
        .filter((s) => s.selected)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['j1', 'one']);
    await expect(service.importServers({ ...f, select: ['nope'] })).rejects.toThrow(
      /not among the hosts found/,
    );
  });

  it('says why a host cannot be imported: ProxyCommand, a loop, a bad HostName, IdentitiesOnly without a key', async () => {
    const f = files(`Host pc
  ProxyCommand ssh -W %h:%p gw
Host loop-a
  ProxyJump loop-b
Host loop-b
  ProxyJump loop-a
Host bad
  HostName "two words"
Host strict
  IdentitiesOnly yes
  IdentityFile /nonexistent/key
Host fine
  HostName 10.4.0.1
`);
    const plan = await service.importServers({ ...f, dryRun: true });
    const reasons = Object.fromEntries(plan.skipped.map((s) => [s.name, s.reason]));
    expect(reasons.pc).toMatch(/ProxyCommand is not supported/);
    expect(reasons['loop-a']).toMatch(/loops/);
    expect(reasons.bad).toMatch(/HostName/);
    expect(reasons.strict).toMatch(/IdentitiesOnly yes.*does not exist/);
    expect(plan.servers.map((s) => s.name)).toEqual(['fine']);
    expect(plan.servers[0]).toMatchObject({ authType: 'agent' });
  });

  it('filters aliases with --only patterns', async () => {
    const f = files('Host web1\nHost web2\nHost db1\n');
    const plan = await service.importServers({ ...f, only: ['web*', 'db1,!db*'], dryRun: true });
    expect(plan.servers.map((s) => s.name)).toEqual(['web1', 'web2']);
  });

  it('keeps a key trusted here when known_hosts has another, and says so', async () => {
    const k1 = keyPair('differ-1');
    const k2 = keyPair('differ-2');
    const f1 = files('Host dk\n  HostName 10.5.0.1\n', `10.5.0.1 ${k1.pub}\n`);
    await service.importServers(f1);
    const f2 = files('Host dk\n  HostName 10.5.0.1\n', `10.5.0.1 ${k2.pub}\n`);
    const plan = await service.importServers(f2);
    expect(plan.servers[0]!.hostKey).toMatchObject({ status: 'differs' });
    expect(plan.servers[0]!.notes.join()).toMatch(/trusted one is kept/);
  });

  it('reads ~/ in the paths given (as typed in the app) from the home directory, and ~/.ssh/config by default', async () => {
    const coreDir = tempDir();
    const core = await composeCore({ dataDir: coreDir.path, unknownHostKeys: 'ask' });
    const imports = new ImportService({
      db: core.db,
      servers: core.servers,
      knownHosts: new KnownHostRepo(core.db),
      agentSocket: () => undefined,
      context: () => ctx,
    });
    try {
      writeFileSync(join(home, 'elsewhere.conf'), 'Host tilde\n  HostName 10.6.0.1\n');
      writeFileSync(join(home, 'kh'), '');
      const plan = await imports.run({ sshConfig: '~/elsewhere.conf', knownHosts: ['~/kh'], dryRun: true });
      expect(plan).toMatchObject({ sshConfig: join(home, 'elsewhere.conf'), knownHosts: [join(home, 'kh')] });
      expect(plan.servers.map((s) => s.name)).toEqual(['tilde']);
      writeFileSync(join(home, '.ssh', 'config'), 'Host from-default\n');
      expect((await imports.run({ dryRun: true })).sshConfig).toBe(join(home, '.ssh', 'config'));
    } finally {
      await core.close();
      coreDir.remove();
    }
  });

  it('refuses an ssh_config path that does not exist, writing nothing', async () => {
    const before = (await service.listServers()).length;
    await expect(service.importServers({ sshConfig: join(dir.path, 'nope') })).rejects.toThrow(/cannot read/);
    expect(await service.listServers()).toHaveLength(before);
  });

  it('never imports a host whose known_hosts key is @revoked (it would be trusted on first connect)', async () => {
    const k = key();
    const host = keyPair('hostkey-revoked');
    const f = files(
      `Host bad\n  HostName 10.9.0.1\n  IdentityFile ${k.path}\nHost behind\n  HostName 10.9.0.2\n  IdentityFile ${k.path}\n  ProxyJump bad\n`,
      `@revoked 10.9.0.1 ${host.pub}\n`,
    );
    const plan = await service.importServers({ ...f, dryRun: true });
    const reasons = Object.fromEntries(plan.skipped.map((s) => [s.name, s.reason]));
    expect(reasons.bad).toMatch(/@revoked/);
    expect(reasons.bad).toContain(fingerprint(`${host.path}.pub`));
    // A host reached through it is not imported either.
    expect(reasons.behind).toMatch(/jump host bad: .*@revoked/);
    expect(plan.servers.map((s) => s.name)).toEqual([]);
  });

  it('links a ProxyJump to the Host alias it names, even when another alias has the same address', async () => {
    const k = key();
    const f = files(
      `Host alias-first\n  HostName 10.8.0.1\n  IdentityFile ${k.path}\n` +
        `Host gate\n  HostName 10.8.0.1\n  IdentityFile ${k.path}\n` +
        `Host mid\n  HostName 127.0.0.1\n  Port 2222\n  IdentityFile ${k.path}\n  ProxyJump gate\n`,
    );
    const plan = await service.importServers({ ...f, dryRun: true });
    const byName = Object.fromEntries(plan.servers.map((s) => [s.name, s]));
    expect(byName.mid).toMatchObject({ jump: 'gate' });
    expect(byName['alias-first']).toMatchObject({ jump: null });
  });
});

function toInput(s: Awaited<ReturnType<CroniumService['getServer']>>) {
  return {
    name: s.name,
    host: s.host,
    port: s.port,
    username: s.username,
    auth: s.authType === 'key' ? { type: 'key' as const, keyPath: s.keyPath! } : { type: 'agent' as const },
    jumpServerId: s.jumpServerId,
    tags: s.tags,
    description: s.description,
  };
}
