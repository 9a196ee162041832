/**
 * Issue 8, case 1: whatever a server's login shell prints (a .bashrc writing to stderr and stdout, partial
 * lines, large noise, a ForceCommand wrapper's banner before or after the command) shows in the log at most:
 * it never changes the status, the results, or how many times the script runs.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ControlFilter, NoiseLines } from '../src/exec/controlFilter.ts';
import type { CroniumService } from '../src/service/service.ts';
import { hosts, runJob, serviceWithHosts } from './support/fixtures.ts';
import { createTestUser, onHost, type TestUser } from './support/sshHosts.ts';

const NONCE = 'abc123';
const MARK = `\x1ecronium:${NONCE}:`;

/** Feeds the pieces to a filter; returns the script's bytes, the noise lines, and the control messages. */
function filterPieces(pieces: string[]) {
  const noise: string[] = [];
  const control: string[] = [];
  const lines = new NoiseLines('stderr', (line) => noise.push(line));
  const filter = new ControlFilter(
    NONCE,
    (m) => control.push(m),
    (d, br) => lines.push(d, br),
  );
  let out = Buffer.concat(pieces.map((p) => filter.push(Buffer.from(p)))).toString();
  out += filter.ready ? filter.end().toString() : '';
  if (!filter.ready) lines.end();
  return { out, noise, control, ready: filter.ready };
}

describe('ControlFilter: the login shell before the runner', () => {
  it('takes what comes before "ready" as noise, on the same line too, split anywhere', () => {
    const stream = `warning: no such file\npartial${MARK}ready\n${MARK}interpreter_missing x\nscript err\n`;
    // Every way of cutting the stream in two gives the same result.
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = filterPieces([stream.slice(0, cut), stream.slice(cut)]);
      expect(r.out).toBe('script err\n');
      expect(r.noise).toEqual([
        'login shell (stderr): warning: no such file',
        'login shell (stderr): partial',
      ]);
      expect(r.control).toEqual(['interpreter_missing x']);
      expect(r.ready).toBe(true);
    }
    // And byte by byte.
    const r = filterPieces([...stream]);
    expect(r.out).toBe('script err\n');
    expect(r.noise).toHaveLength(2);
  });

  it('passes large noise on in bounded lines and keeps nothing of it in the output', async () => {
    const big = 'n'.repeat(100_000);
    const r = filterPieces([big.slice(0, 30_000), big.slice(30_000), `\n${MARK}ready\nout`]);
    expect(r.out).toBe('out');
    expect(r.noise.join('').replace(/login shell \(stderr\): /g, '')).toBe(big);
    expect(Math.max(...r.noise.map((l) => l.length))).toBeLessThan(17_000);
  });

  it('tells a missing runner from one that never spoke, and keeps the last noise for the message', () => {
    const missing = filterPieces(['bashrc noise\n', `${MARK}no_runner\n`]);
    expect(missing.control).toEqual(['no_runner']);
    expect(missing.ready).toBe(false);
    const silent = new ControlFilter(NONCE, () => {});
    silent.push(Buffer.from('x'.repeat(10_000) + 'sh: cannot open runner.sh\n'));
    const said = silent.end().toString();
    expect(said.endsWith('sh: cannot open runner.sh\n')).toBe(true);
    expect(said.length).toBeLessThanOrEqual(4096);
  });

  it('does not mistake a line with another nonce, before or after ready', () => {
    const r = filterPieces([`\x1ecronium:forged:ready\n${MARK}ready\n\x1ecronium:forged:no_runner\n`]);
    expect(r.noise).toEqual(['login shell (stderr): \x1ecronium:forged:ready']);
    expect(r.out).toBe('\x1ecronium:forged:no_runner\n');
    expect(r.control).toEqual([]);
  });
});

describe('login-shell noise on real hosts', () => {
  const h = hosts();
  let service: CroniumService;
  let close: () => Promise<void>;
  const users: TestUser[] = [];

  /** A test user on h1 with this ~/.bashrc (and optional ~/.forcecommand), saved as a server named by tag. */
  async function noisyServer(tag: string, bashrc: string, forceCommand?: string): Promise<TestUser> {
    const user = createTestUser(h, tag);
    users.push(user);
    const write = (name: string, content: string, mode = 0o644) => {
      const path = `${user.home}/${name}`;
      writeFileSync(path, content);
      chmodSync(path, mode);
      execFileSync('chown', [`${user.user}:`, path]);
    };
    write('.bashrc', bashrc);
    if (forceCommand) write('.forcecommand', forceCommand, 0o755);
    await service.createServer({
      name: tag,
      host: h.hosts.h1.address,
      port: h.hosts.h1.port,
      username: user.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
    return user;
  }

  // What people put in a .bashrc: a missing file sourced first, output on stdout, a partial line, lots.
  const BASHRC = [
    '. /nonexistent/cronium-test-profile.sh',
    'echo "bashrc: hello on stdout"',
    'head -c 20000 /dev/zero | tr "\\0" n >&2; echo >&2',
    'printf "bashrc: partial line on stderr" >&2',
    'printf "bashrc: partial line on stdout"',
    '',
  ].join('\n');

  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts());
    await noisyServer('noisy', BASHRC);
    // The harness's ForceCommand wrapper (a banner on both streams, then exec) plus the noisy .bashrc.
    await noisyServer('fcexec', BASHRC);
    // A wrapper that does not exec: it prints before and after the command and passes its exit status on.
    await noisyServer(
      'fcafter',
      BASHRC,
      '#!/bin/sh\necho "wrapper: before"\n/bin/sh -c "$SSH_ORIGINAL_COMMAND"\nrc=$?\necho "wrapper: after" >&2\nexit $rc\n',
    );
  });
  afterAll(async () => {
    await close();
    for (const user of users) user.remove();
  });

  const script = (tag: string) =>
    [
      `echo ran >> "$HOME/ran-${tag}"`,
      'echo "script out"',
      'echo "script err" >&2',
      `cronium.setVariable "noise_${tag}" 42`,
      `cronium.output '{"tag": "${tag}", "mode": "'"$CRONIUM_HELPER_MODE"'"}'`,
      'exit 3',
    ].join('\n');

  it.each([
    ['noisy', 'api'],
    ['noisy', 'auto'],
    ['noisy', 'bundled'],
    ['fcexec', 'api'],
    ['fcexec', 'auto'],
    ['fcexec', 'bundled'],
    ['fcafter', 'api'],
    ['fcafter', 'bundled'],
  ] as const)('%s in %s mode: status, results, one run, no work dir left', async (server, mode) => {
    const tag = `${server}-${mode}`;
    const user = users.find((u) => u.user.endsWith(`_${server}`))!;
    const r = await runJob(service, { language: 'bash', script: script(tag) }, [server], {
      helperMode: mode,
    });
    expect(r.exec).toMatchObject({
      status: 'failed',
      exitCode: 3,
      errorKind: 'script_failed',
      helperMode: mode === 'bundled' ? 'bundled' : 'api',
      output: { tag, mode: mode === 'bundled' ? 'bundled' : 'api' },
      variableChanges: [{ key: `noise_${tag}`, op: 'set' }],
    });
    expect(await service.getVariableValue(`noise_${tag}`)).toBe(42);
    expect(r.text(server, 'stdout')).toBe('script out\n');
    // A wrapper that speaks after the command is indistinguishable from the script: it shows, as stderr.
    expect(r.text(server, 'stderr')).toBe(
      server === 'fcafter' ? 'script err\nwrapper: after\n' : 'script err\n',
    );
    const system = r.text(server, 'system');
    expect(system).toContain('login shell (stderr): ');
    expect(system).toContain('/nonexistent/cronium-test-profile.sh');
    expect(system).toContain('login shell (stdout): bashrc: hello on stdout\n');
    // A partial line stays one line with whatever the next program printed after it.
    expect(system).toContain('login shell (stderr): bashrc: partial line on stderr');
    expect(system).toContain('login shell (stdout): bashrc: partial line on stdout');
    if (server === 'fcexec') {
      expect(system).toContain('wrapper: authorized use only\n');
      expect(system).toContain('wrapper: this session is logged\n');
    }
    expect(onHost(h, `cat ~/ran-${tag}`, user.user)).toBe('ran\n');
    expect(onHost(h, 'ls -A ~/.cronium/runs', user.user)).toBe('');
  });

  it.each(['noisy', 'fcexec', 'fcafter'])('server test on %s reads the OS, not the noise', async (server) => {
    const result = await service.testServer(server);
    expect(result.online).toBe(true);
    expect(result.os).toMatch(/^[^\n]+ \(Linux [^\n]+\)$/);
    expect(result.os).not.toMatch(/bashrc|wrapper|nnn/);
  });

  it('never starts a script twice when the runner was not heard from; says so', async () => {
    // This shell swallows everything the runner prints, so its start can never be confirmed: the script
    // did run, and must not be started again.
    const user = await noisyServer(
      'mute',
      'case $BASH_EXECUTION_STRING in *runner.sh*) exec >/dev/null 2>&1 ;; esac\necho "bashrc: hi" >&2\n',
    );
    const r = await runJob(service, { language: 'bash', script: 'echo ran >> "$HOME/ran-mute"' }, ['mute'], {
      helperMode: 'api',
    });
    expect(r.exec.status).toBe('error');
    expect(r.exec.errorKind).toBe('internal');
    expect(r.exec.errorMessage).toMatch(/start could not be confirmed on mute \(exit 0\).*not started again/);
    expect(onHost(h, 'cat ~/ran-mute', user.user)).toBe('ran\n');
    // Nothing holds this session's channel open (its output goes nowhere), so the watcher may still be
    // cleaning up when the execution ends.
    let left = '';
    for (let i = 0; i < 50; i++) {
      left = onHost(h, 'ls -A ~/.cronium/runs', user.user);
      if (!left) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(left).toBe('');
  });

  it('deploys again and retries when the runner is missing, behind the noise', async () => {
    const user = users.find((u) => u.user.endsWith('_noisy'))!;
    await runJob(service, { language: 'bash', script: 'true' }, ['noisy']);
    onHost(h, 'rm -rf ~/.cronium', user.user);
    const r = await runJob(
      service,
      { language: 'bash', script: 'echo again >> "$HOME/ran-again"; echo ok' },
      ['noisy'],
    );
    expect(r.exec.status).toBe('succeeded');
    expect(r.text('noisy', 'stdout')).toBe('ok\n');
    expect(onHost(h, 'cat ~/ran-again', user.user)).toBe('again\n');
  });
});
