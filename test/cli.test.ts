import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CliResult } from './support/cli.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

// A test user of this file's own: its home (~/.cronium) and processes are nobody else's.
const h = ownHosts('cli');
afterAll(async () => h.removeUser());

describe('cronium CLI (real processes, real hosts)', () => {
  const dir = tempDir();
  const env = { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: '0' };

  function cli(args: string[], stdin?: string): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.stdin.end(stdin ?? '');
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  function rows(table: string): number {
    const db = new DatabaseSync(join(dir.path, 'cronium.db'));
    const n = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    db.close();
    return n;
  }

  beforeAll(async () => {
    for (const name of ['h1', 'h2', 'h3'] as const) {
      const r = await cli([
        'server',
        'add',
        name,
        '--host',
        h.hosts[name].address,
        '--user',
        h.user,
        '--key',
        h.keyPath,
        '--tag',
        'test',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });
  afterAll(async () => dir.remove());

  it('adds a server with a password from stdin and tests it', async () => {
    const add = await cli(
      ['server', 'add', 'pw', '--host', h.hosts.h2.address, '--user', h.user, '--password-stdin'],
      `${h.password}\n`,
    );
    expect(add.code).toBe(0);
    const test = await cli(['server', 'test', 'pw']);
    expect(test.stdout).toMatch(/^pw: online — .*Linux.*host key SHA256:/);
    expect(test.code).toBe(0);
    const list = await cli(['server', 'list']);
    expect(list.stdout).toMatch(/^NAME\s+ADDRESS/);
    expect(list.stdout).toMatch(
      new RegExp(
        `pw\\s+${h.user}@${h.hosts.h2.address.replaceAll('.', '\\.')}:22\\s+password\\s+-\\s+online`,
      ),
    );
    const json = JSON.parse((await cli(['server', 'show', 'pw', '--json'])).stdout);
    expect(json).toMatchObject({ name: 'pw', authType: 'password', hasSecret: true });
    expect(JSON.stringify(json)).not.toContain(h.password);
  });

  it('adds a job from a file and runs it with the script’s own streams and exit code', async () => {
    const file = join(dir.path, 'job.py');
    writeFileSync(file, 'import sys\nprint("to stdout")\nprint("to stderr", file=sys.stderr)\nsys.exit(7)\n');
    expect(
      (await cli(['job', 'add', 'py', '--lang', 'python', '--file', file, '--timeout', '30'])).code,
    ).toBe(0);
    const run = await cli(['run', 'py', '--on', 'h1']);
    expect(run.stdout).toBe('to stdout\n');
    expect(run.stderr).toBe('to stderr\ncronium: failed (exit 7)\n');
    expect(run.code).toBe(7);
  });

  it('prefixes each line with the server name when running on several servers', async () => {
    await cli(['job', 'add', 'multi', '--lang', 'bash', '--script', 'echo "line one"; echo "line two"']);
    const run = await cli(['run', 'multi', '--on', 'h1,h2']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').sort();
    expect(lines).toEqual(['[h1] line one', '[h1] line two', '[h2] line one', '[h2] line two']);
    expect(run.stderr).toMatch(/run succeeded \(2\/2 succeeded\)/);
  });

  it('exits 1 for several servers when one fails, and 124 on a timeout', async () => {
    await cli(['job', 'add', 'pyhost', '--lang', 'python', '--script', 'print(1)']);
    const partial = await cli(['run', 'pyhost', '--on', 'h1,h3']);
    expect(partial.code).toBe(1);
    expect(partial.stderr).toMatch(/h3: error: python3 not found on h3/);
    expect(partial.stderr).toMatch(/run partial/);
    await cli(['job', 'add', 'slow', '--lang', 'bash', '--script', 'sleep 30', '--timeout', '1']);
    const slow = await cli(['run', 'slow', '--on', 'h2']);
    expect(slow.code).toBe(124);
    expect(slow.stderr).toMatch(/timed out after 1 s/);
  });

  it('exits 255 for connection and authentication failures', async () => {
    await cli([
      'server',
      'add',
      'badkey',
      '--host',
      h.hosts.h1.address,
      '--user',
      h.user,
      '--key',
      h.wrongKeyPath,
    ]);
    const r = await cli(['run', 'multi', '--on', 'badkey']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/auth_failed|Authentication as crtest/);
  });

  it('refuses bad input with a clear message, a non-zero exit, and writes nothing', async () => {
    const runsBefore = rows('runs');
    const jobsBefore = rows('jobs');
    const cases: [string[], RegExp][] = [
      [['run', 'no-such-job', '--on', 'h1'], /No job named "no-such-job"/],
      [['run', 'multi', '--on', 'h1,ghost'], /No server named "ghost"/],
      [['run', 'multi', '--on', 'h1', '--input', '{not json'], /--input is not valid JSON/],
      [['run', 'multi'], /Say where to run multi: --on/],
      [['job', 'add', 'x', '--lang', 'cobol', '--script', 'x'], /language is bash, python or node/],
      [['job', 'add', 'x', '--lang', 'bash'], /either --file PATH or --script TEXT/],
      [['job', 'add', 'x', '--lang', 'bash', '--script', 'x', '--timeout', 'soon'], /timeout/],
      [['server', 'add', 'y', '--host', 'h', '--user', 'u'], /Choose one way to authenticate/],
      [['--bogus'], /Unknown option '--bogus'/],
      [['frobnicate'], /Unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect(rows('runs')).toBe(runsBefore);
    expect(rows('jobs')).toBe(jobsBefore);
    const json = await cli(['run', 'nope', '--on', 'h1', '--json']);
    expect(JSON.parse(json.stderr)).toEqual({
      error: { kind: 'not_found', message: 'No job named "nope".' },
    });
  });

  it('lists history with filters and shows one execution by an id prefix', async () => {
    const all = JSON.parse((await cli(['history', '--json', '--limit', '100'])).stdout) as {
      id: string;
      serverName: string;
      jobName: string;
      status: string;
      startedAt: number;
    }[];
    expect(all.length).toBeGreaterThanOrEqual(6);
    expect(all.map((e) => e.startedAt)).toEqual([...all.map((e) => e.startedAt)].sort((a, b) => b - a));
    const onH2 = JSON.parse((await cli(['history', '--json', '--server', 'h2'])).stdout) as typeof all;
    expect(onH2.length).toBeGreaterThan(0);
    expect(onH2.every((e) => e.serverName === 'h2')).toBe(true);
    const timedOut = JSON.parse(
      (await cli(['history', '--json', '--status', 'timed_out', '--job', 'slow'])).stdout,
    ) as typeof all;
    expect(timedOut.map((e) => [e.jobName, e.status])).toEqual([['slow', 'timed_out']]);
    const text = await cli(['history', '--job', 'py', '--limit', '1']);
    expect(text.stdout).toMatch(/^EXECUTION\s+STARTED\s+JOB/);
    expect(text.stdout.trim().split('\n')).toHaveLength(2);

    const failed = all.find((e) => e.jobName === 'py')!;
    const show = await cli(['show', failed.id.slice(0, 8)]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/status:\s+failed/);
    expect(show.stdout).toMatch(/exit code:\s+7/);
    expect(show.stdout).toMatch(/phases:\s+connect \d+ms, deploy \d+ms, script \d+ms/);
    expect(show.stdout).toMatch(/--- log ---\nto stdout\nto stderr\n/);
    const shown = JSON.parse((await cli(['show', failed.id, '--json'])).stdout);
    // The script never names the helpers, so auto gives it bundled mode at once (issue 10), not a fallback.
    expect(shown).toMatchObject({ id: failed.id, exitCode: 7, helperMode: 'bundled', fallbackReason: null });
    expect(shown.log.map((c: { text: string }) => c.text).join('')).toBe('to stdout\nto stderr\n');
  });

  it('says when the helpers fell back to bundled mode, and why (live, in --json and in show)', async () => {
    await cli([
      'server',
      'add',
      'nf',
      '--host',
      h.hosts.noforward.address,
      '--user',
      h.user,
      '--key',
      h.keyPath,
    ]);
    await cli(['job', 'add', 'helpers', '--lang', 'bash', '--script', 'cronium.output "$(cronium.input)"']);
    const live = await cli(['run', 'helpers', '--on', 'nf', '--input', '{"a":1}']);
    expect(live.code).toBe(0);
    expect(live.stderr).toMatch(
      /^cronium: helpers fell back to bundled mode: the server refused remote port forwarding/,
    );
    const json = JSON.parse((await cli(['run', 'helpers', '--on', 'nf', '--input', '[2]', '--json'])).stdout);
    expect(json.executions[0]).toMatchObject({ helperMode: 'bundled', output: [2] });
    expect(json.executions[0].fallbackReason).toMatch(/refused remote port forwarding/);
    const shown = await cli(['show', json.executions[0].id]);
    expect(shown.stdout).toMatch(/helpers:\s+bundled\nfallback:\s+the server refused remote port forwarding/);
    const forced = await cli(['run', 'helpers', '--on', 'nf', '--helpers', 'api']);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/API mode is not available/);
  });

  it('manages variables, keeping JSON types', async () => {
    expect((await cli(['var', 'set', 'count', '42'])).code).toBe(0);
    expect((await cli(['var', 'set', 'name', 'plain text'])).code).toBe(0);
    expect((await cli(['var', 'set', 'obj', '{"a":[1,2]}'])).code).toBe(0);
    expect((await cli(['var', 'get', 'count'])).stdout).toBe('42\n');
    expect((await cli(['var', 'get', 'name'])).stdout).toBe('plain text\n');
    expect(JSON.parse((await cli(['var', 'get', 'obj'])).stdout)).toEqual({ a: [1, 2] });
    const list = JSON.parse((await cli(['var', 'list', '--json'])).stdout) as {
      key: string;
      value: unknown;
    }[];
    expect(list.map((v) => [v.key, v.value])).toEqual([
      ['count', 42],
      ['name', 'plain text'],
      ['obj', { a: [1, 2] }],
    ]);
    expect((await cli(['var', 'remove', 'count'])).code).toBe(0);
    const missing = await cli(['var', 'get', 'count']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/No variable "count"/);
  });
});
