/**
 * Issue 10, the set-up path of one execution: what a run no longer waits for, on real hosts.
 * - A script that never names the helpers runs with bundled helpers at once: no runtime, no tunnel, no
 *   probe (no tunnel event at all); one that names them still gets API mode through the tunnel; a program
 *   such a script starts can still call the helpers (bundled).
 * - A new process (a new service on the same data directory, as each `cronium run` is) trusts the record of
 *   the runner it deployed (runners.json) and launches straight away; when the runner was removed from the
 *   host meanwhile, the launch finds out, deploys it again and runs the script once.
 * - DeployRecord itself: a hash or an age that does not match is not trusted; a bad file is no record.
 * - Authentication with a key offers it at once, without the "none" round trip first.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEPLOY_RECORD_MAX_AGE_MS, DeployRecord } from '../src/exec/deployRecord.ts';
import { namesHelpers } from '../src/runtime/helperSession.ts';
import { CroniumService } from '../src/service/service.ts';
import { AuthSequence } from '../src/ssh/auth.ts';
import { SshConnection } from '../src/ssh/sshConnection.ts';
import type { SshAuth } from '../src/ssh/target.ts';
import { ownHosts, runJob, serviceWithHosts, tempDir } from './support/fixtures.ts';
import { onHost } from './support/sshHosts.ts';

const h = ownHosts('perfst');
afterAll(() => h.removeUser());

/** The commands this process starts on hosts (exec requests), in order, while `fn` runs. */
async function commandsDuring(fn: () => Promise<void>): Promise<string[]> {
  const commands: string[] = [];
  const original = SshConnection.prototype.exec;
  SshConnection.prototype.exec = function (this: SshConnection, command, options) {
    commands.push(command);
    return original.call(this, command, options);
  };
  try {
    await fn();
  } finally {
    SshConnection.prototype.exec = original;
  }
  return commands;
}

describe('which scripts get a tunnel (auto helpers)', () => {
  let service: CroniumService;
  let close: () => Promise<void>;
  const tunnels: string[] = [];
  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 0 }, h));
    service.subscribe((e) => e.type === 'tunnel' && tunnels.push(e.state));
  });
  afterAll(() => close());

  it('a script that never names the helpers: bundled at once, no tunnel, no runtime, no probe', async () => {
    tunnels.length = 0;
    const commands = await commandsDuring(async () => {
      const r = await runJob(service, { language: 'bash', script: 'echo plain' }, ['h1']);
      expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: 'bundled', fallbackReason: null });
      expect(r.text('h1', 'stdout')).toBe('plain\n');
      expect(r.text('h1', 'system')).not.toMatch(/fell back/);
    });
    expect(tunnels).toEqual([]);
    // Only the runner's launch, which brings the helpers' results back too (see
    // perf.oneExec.test.ts): no probe through a tunnel, no collector of its own.
    expect(commands.filter((c) => /runner\.sh/.test(c))).toHaveLength(1);
    expect(commands.filter((c) => /collect\.sh/.test(c))).toHaveLength(0);
    expect(commands).toHaveLength(1 + commands.filter((c) => c === 'sh -s').length);
    expect(commands.filter((c) => c === 'sh -s').length).toBeLessThanOrEqual(1); // the first deploy
    // The runtime API was never started for it.
    expect((await service.appInfo()).runtimePort).toBeNull();
  });

  it('a script that names them: API mode through the tunnel, as before', async () => {
    tunnels.length = 0;
    const r = await runJob(
      service,
      { language: 'bash', script: 'cronium.setVariable named "$CRONIUM_HELPER_MODE"; echo named' },
      ['h1'],
    );
    expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: 'api', fallbackReason: null });
    expect(await service.getVariableValue('named')).toBe('api');
    expect(tunnels).toContain('forwarding');
  });

  it('a program that such a script starts can still call the helpers (bundled)', async () => {
    // A process of its own (a new connection), as `cronium run` is.
    const own = await serviceWithHosts({ tunnelLingerMs: 0 }, h);
    const seen: string[] = [];
    own.service.subscribe((e) => e.type === 'tunnel' && seen.push(e.state));
    try {
      // The child is a file on the host: the job's own text never says "cronium".
      onHost(h, 'printf "%s\\n" "cronium.setVariable child \\"\\$1\\"" > ~/child.sh', h.user);
      const r = await runJob(own.service, { language: 'bash', script: 'bash ~/child.sh 41' }, ['h1']);
      expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: 'bundled' });
      expect(await own.service.getVariableValue('child')).toBe(41);
      expect(seen).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('on a connection in use before, such a script gets API mode (its tunnel serves the next runs)', async () => {
    const r = await runJob(service, { language: 'bash', script: 'echo "$CRONIUM_HELPER_MODE"' }, ['h1']);
    expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: 'api', fallbackReason: null });
  });

  it('api asked for explicitly: the tunnel is used whatever the text', async () => {
    tunnels.length = 0;
    const r = await runJob(service, { language: 'bash', script: 'echo "$CRONIUM_HELPER_MODE"' }, ['h1'], {
      helperMode: 'api',
    });
    expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: 'api' });
    expect(r.text('h1', 'stdout')).toBe('api\n');
    expect(tunnels).toContain('forwarding');
  });

  it('names the helpers: any "cronium", in any case', () => {
    expect(namesHelpers('cronium.getVariable("x")')).toBe(true);
    expect(namesHelpers('echo $CRONIUM_WORK_DIR')).toBe(true);
    expect(namesHelpers("require('Cronium')")).toBe(true);
    expect(namesHelpers('hostname; uptime')).toBe(false);
  });
});

describe('a tunnel that is already open (back-to-back runs in one process)', () => {
  let service: CroniumService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 60_000 }, h));
  });
  afterAll(() => close());

  it('serves a script that does not name the helpers too (API mode, no collection round trip)', async () => {
    const named = await runJob(service, { language: 'bash', script: 'cronium.output ok' }, ['h1']);
    expect(named.exec).toMatchObject({ status: 'succeeded', helperMode: 'api' });
    const tunnels: string[] = [];
    const off = service.subscribe((e) => e.type === 'tunnel' && tunnels.push(e.state));
    const commands = await commandsDuring(async () => {
      const plain = await runJob(service, { language: 'bash', script: 'echo plain' }, ['h1']);
      expect(plain.exec).toMatchObject({ status: 'succeeded', helperMode: 'api', fallbackReason: null });
    });
    off();
    // The same tunnel (no new one made), and only the launch: no probe, no collector.
    expect(tunnels).toEqual([]);
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatch(/runner\.sh/);
  });
});

describe('a new process on the same data directory (the runner record)', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const open = async () =>
    await CroniumService.open({
      dataDir: dir.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
      killGraceSec: 1,
      readyTimeoutMs: 5000,
    });
  const runTrue = async (service: CroniumService, script = 'echo once') => {
    const job =
      (await service.listJobs()).find((j) => j.script === script) ??
      (await service.createJob({
        name: `j${Math.random().toString(36).slice(2, 8)}`,
        language: 'bash',
        script,
      }));
    const run = await service.startRun({ jobId: job.id, serverIds: ['h1'] });
    const done = await service.waitForRun(run.id);
    const e = await service.getExecution(done.executionIds[0]!);
    const log = (await service.readLog(e.id, -1, 100_000))
      .filter((c) => c.stream === 'stdout')
      .map((c) => c.text)
      .join('');
    return { e, log };
  };

  it('the first process deploys and records it; the next launches without asking the host', async () => {
    const first = await open();
    await first.createServer({
      name: 'h1',
      host: h.hosts.h1.address,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
    onHost(h, 'rm -rf ~/.cronium', h.user);
    const a = await commandsDuring(async () => {
      expect((await runTrue(first)).e.status).toBe('succeeded');
    });
    await first.close();
    expect(a[0]).toBe('sh -s'); // the deploy
    const record = JSON.parse(readFileSync(join(dir.path, 'runners.json'), 'utf8')) as Record<
      string,
      { hash: string; at: number }
    >;
    expect(Object.values(record)).toHaveLength(1);

    const second = await open();
    const b = await commandsDuring(async () => {
      const { e, log } = await runTrue(second);
      expect(e.status).toBe('succeeded');
      expect(log).toBe('once\n');
    });
    await second.close();
    expect(b.filter((c) => c === 'sh -s')).toEqual([]);
    expect(b[0]).toMatch(/runner\.sh/);
  });

  it('a runner removed meanwhile is deployed again and the script runs once', async () => {
    onHost(h, 'rm -rf ~/.cronium ~/ran.txt', h.user);
    const third = await open();
    const c = await commandsDuring(async () => {
      const { e } = await runTrue(third, 'echo ran >> ~/ran.txt');
      expect(e.status).toBe('succeeded');
    });
    await third.close();
    expect(
      c.slice(0, 3).map((x) => (x === 'sh -s' ? 'deploy' : /runner\.sh/.test(x) ? 'launch' : x)),
    ).toEqual(['launch', 'deploy', 'launch']);
    expect(onHost(h, 'cat ~/ran.txt', h.user)).toBe('ran\n');
  });
});

describe('DeployRecord', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('trusts a matching hash within the age, nothing else', async () => {
    const file = join(dir.path, 'a.json');
    const t = 1_000_000;
    await new DeployRecord(file).mark('s1', 'h1', t);
    const record = new DeployRecord(file);
    expect(await record.fresh('s1', 'h1', t + 1000)).toBe(true);
    expect(await record.fresh('s1', 'other', t + 1000)).toBe(false);
    expect(await record.fresh('s2', 'h1', t + 1000)).toBe(false);
    expect(await record.fresh('s1', 'h1', t + DEPLOY_RECORD_MAX_AGE_MS)).toBe(false);
    // A clock set back is no reason to trust it either.
    expect(await record.fresh('s1', 'h1', t - 1)).toBe(false);
  });

  it('keeps other servers, drops entries past their age, and reads a bad file as empty', async () => {
    const file = join(dir.path, 'b.json');
    const t = 5_000_000_000;
    await new DeployRecord(file).mark('old', 'h', t - DEPLOY_RECORD_MAX_AGE_MS - 1);
    await new DeployRecord(file).mark('s1', 'h', t);
    await new DeployRecord(file).mark('s2', 'h', t);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object).sort()).toEqual(['s1', 's2']);
    writeFileSync(file, '{"s1": {"hash": 1}, "s2": null');
    expect(await new DeployRecord(file).fresh('s1', 'h', t)).toBe(false);
    writeFileSync(file, '[1]');
    expect(await new DeployRecord(file).fresh('s1', 'h', t)).toBe(false);
  });

  it('never throws when the directory cannot be written', async () => {
    const blocked = join(dir.path, 'blocked');
    mkdirSync(blocked);
    writeFileSync(join(blocked, 'x'), '');
    const record = new DeployRecord(join(blocked, 'x', 'runners.json'));
    await expect(record.mark('s1', 'h')).resolves.toBeUndefined();
    expect(await record.fresh('s1', 'h')).toBe(true); // this process still remembers
  });
});

describe('the first authentication request', () => {
  const first = (auth: SshAuth): unknown => {
    let step: unknown;
    const sequence = new AuthSequence({ label: 's', host: 'h', port: 22, username: 'u', auth }, () => {});
    sequence.next(null, null, ((s: unknown) => (step = s)) as never);
    return step;
  };

  it('offers a key at once (no "none" round trip), and asks "none" before a password', () => {
    expect(first({ type: 'key', privateKey: Buffer.from('k') })).toBe('publickey');
    expect(first({ type: 'agent', agentSocket: '/tmp/agent' })).toBe('agent');
    expect(first({ type: 'password', password: 'p' })).toBe('none');
  });

  it('after a refused key, no second try of it and no password guess', () => {
    const steps: unknown[] = [];
    const sequence = new AuthSequence(
      { label: 's', host: 'h', port: 22, username: 'u', auth: { type: 'key', privateKey: Buffer.from('k') } },
      () => {},
    );
    const next = ((s: unknown) => steps.push(s)) as never;
    sequence.next(null, null, next);
    sequence.next(['publickey', 'password', 'keyboard-interactive'], false, next);
    expect(steps).toEqual(['publickey', false]);
  });
});
