/**
 * Issue 11 parts 3, 4 and 5 through the `cronium` command on real hosts: job parameters (`--param`,
 * `--set`, merged over `--input`, refused values start nothing), `cronium rerun --failed` on a fleet where
 * one host fails, and `cronium show --run` with output groups (3 identical hosts + 1 different).
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { main } from '../src/cli/main.ts';
import type { RunOverview } from '../src/core/domain.ts';
import { CroniumService } from '../src/service/service.ts';
import type { CliResult } from './support/cli.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const h = ownHosts('runscli');
afterAll(async () => h.removeUser());

const data = tempDir();
afterAll(async () => data.remove());
/** The CLI's own main, in this process (a spawned Node per call is slow on a loaded machine). */
async function cli(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        write(String(chunk));
        done();
      },
    });
  const code = await main(['--data-dir', data.path, ...args], {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    readStdin: () => '',
    env: { CRONIUM_RUNTIME_PORT: '0' },
  });
  return { code, stdout, stderr };
}
const count = (sql: string) => {
  const db = new DatabaseSync(join(data.path, 'cronium.db'));
  const n = (db.prepare(sql).get() as { n: number }).n;
  db.close();
  return n;
};

beforeAll(async () => {
  const seed = await CroniumService.open({
    dataDir: data.path,
    unknownHostKeys: 'accept-new',
    runtimePort: 0,
  });
  const add = async (name: string, host: string) =>
    await seed.createServer({ name, host, username: h.user, auth: { type: 'key', keyPath: h.keyPath } });
  await add('h1', h.hosts.h1.address);
  await add('h2', h.hosts.h2.address);
  // h3 has no python3: a Python job fails there (interpreter missing) and succeeds on h1 and h2.
  await add('h3', h.hosts.h3.address);
  // Three names for h1 and one for h2: the same script prints the same on a1..a3, else on b.
  for (const name of ['a1', 'a2', 'a3']) await add(name, h.hosts.h1.address);
  await add('b', h.hosts.h2.address);
  await seed.close();
});

describe('job parameters (--param, --set)', () => {
  it('declares typed parameters, and shows them as typed', async () => {
    const add = await cli(
      'job',
      'add',
      'deploy',
      '--lang',
      'bash',
      '--script',
      'cronium.input',
      '--param',
      'region:choice(eu|us) # where to deploy',
      '--param',
      'count:number=2',
      '--param',
      'dry:boolean=false',
      '--param',
      'note:string=',
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const show = await cli('job', 'show', 'deploy');
    expect(show.stdout).toContain('region:choice(eu|us) # where to deploy');
    expect(show.stdout).toContain('count:number=2');
    const json = JSON.parse((await cli('--json', 'job', 'show', 'deploy')).stdout) as {
      params: { name: string; type: string; default: unknown }[];
    };
    expect(json.params.map((p) => [p.name, p.type, p.default])).toEqual([
      ['region', 'choice', null],
      ['count', 'number', 2],
      ['dry', 'boolean', false],
      // "=" with nothing after it: an empty default, so the parameter is optional.
      ['note', 'string', ''],
    ]);
  });

  it.each([
    [['--set', 'count=abc', '--set', 'region=eu'], /count is a number; got "abc"/],
    [['--set', 'region=asia'], /region is one of eu, us; got "asia"/],
    [
      ['--set', 'region=eu', '--set', 'colour=red'],
      /no parameter named "colour" \(this job has region, count, dry, note\)/,
    ],
    [['--set', 'count=3'], /region is required/],
    [['--set', 'region=eu', '--set', 'dry=maybe'], /dry is true or false; got "maybe"/],
    [['--set', 'region=eu', '--input', '[1,2]'], /takes a JSON object as input/],
  ])('refuses %j with a clear error and starts nothing', async (args, message) => {
    const r = await cli('run', 'deploy', '--on', 'h1', ...args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(count('SELECT count(*) AS n FROM runs')).toBe(0);
  });

  it('refuses a malformed declaration, and a default of the wrong type', async () => {
    const bad = await cli('job', 'add', 'x', '--lang', 'bash', '--script', 'true', '--param', 'n:integer');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not name:type\[=default\]/);
    const wrong = await cli(
      'job',
      'add',
      'y',
      '--lang',
      'bash',
      '--script',
      'true',
      '--param',
      'n:number=ten',
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/n is a number; got "ten"/);
    expect(count("SELECT count(*) AS n FROM jobs WHERE name IN ('x', 'y')")).toBe(0);
  });

  it('gives the script the values, in their types, merged over --input', async () => {
    const r = await cli(
      'run',
      'deploy',
      '--on',
      'h1',
      '--input',
      '{"base":1,"count":99}',
      '--set',
      'region=us',
      '--set',
      'count=3.5',
      '--set',
      'dry=yes',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ base: 1, count: 3.5, region: 'us', dry: true, note: '' });
    // The run keeps the input and the values apart, so a re-run gives both again.
    const run = JSON.parse(
      (await cli('--json', 'show', '--run', (await lastRunId()).slice(0, 8))).stdout,
    ) as RunOverview;
    expect(run.run.input).toEqual({ base: 1, count: 99 });
    expect(run.run.params).toEqual({ region: 'us', count: 3.5, dry: true, note: '' });
  });
});

async function lastRunId(): Promise<string> {
  const db = new DatabaseSync(join(data.path, 'cronium.db'));
  const row = db.prepare('SELECT id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1').get() as {
    id: string;
  };
  db.close();
  return row.id;
}

describe('cronium rerun', () => {
  it('--failed runs again only the host that did not succeed, as attempt 2 of the same run', async () => {
    await cli(
      'job',
      'add',
      'py',
      '--lang',
      'python',
      '--script',
      'print(cronium.input())',
      '--param',
      'n:number',
    );
    const first = await cli(
      '--json',
      'run',
      'py',
      '--on',
      'h1,h2,h3',
      '--set',
      'n=7',
      '--input',
      '{"k":"v"}',
    );
    expect(first.code).toBe(1);
    const { run } = JSON.parse(first.stdout) as { run: { id: string } };
    const before = JSON.parse((await cli('--json', 'show', '--run', run.id)).stdout) as RunOverview;
    expect(before.executions.map((e) => [e.serverName, e.status])).toEqual([
      ['h1', 'succeeded'],
      ['h2', 'succeeded'],
      ['h3', 'error'],
    ]);

    const again = await cli('rerun', run.id.slice(0, 8), '--failed');
    // One host: its own exit code and output (the interpreter is still missing on h3).
    expect(again.code).toBe(127);
    expect(again.stderr).toMatch(/python3 not found on h3/);
    const rerun = JSON.parse((await cli('--json', 'show', '--run', await lastRunId())).stdout) as RunOverview;
    expect(rerun.run).toMatchObject({
      retryOf: run.id,
      attempt: 2,
      trigger: 'retry',
      input: { k: 'v' },
      params: { n: 7 },
    });
    expect(rerun.executions.map((e) => [e.serverName, e.attempt])).toEqual([['h3', 2]]);

    // Without --failed: every host again, attempt 3, linked to the re-run it repeats.
    const all = await cli('--json', 'rerun', rerun.run.id);
    const third = JSON.parse(all.stdout) as {
      run: { retryOf: string; attempt: number };
      executions: { serverName: string }[];
    };
    expect(third.run).toMatchObject({ retryOf: rerun.run.id, attempt: 2 + 1 });
    expect(third.executions.map((e) => e.serverName)).toEqual(['h3']);
    const full = await cli('--json', 'rerun', run.id);
    const fourth = JSON.parse(full.stdout) as {
      run: { attempt: number };
      executions: { serverName: string; status: string }[];
    };
    expect(fourth.executions.map((e) => [e.serverName, e.status])).toEqual([
      ['h1', 'succeeded'],
      ['h2', 'succeeded'],
      ['h3', 'error'],
    ]);
    expect(fourth.run.attempt).toBe(2);
  });

  it('says when nothing failed, and names a removed job by its name', async () => {
    await cli('job', 'add', 'ok', '--lang', 'bash', '--script', 'echo fine');
    const ok = await cli('--json', 'run', 'ok', '--on', 'h1,h2');
    const { run } = JSON.parse(ok.stdout) as { run: { id: string } };
    const nothing = await cli('rerun', run.id, '--failed');
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/Every host of run .* succeeded/);
    const runs = count('SELECT count(*) AS n FROM runs');
    expect((await cli('job', 'remove', 'ok')).code).toBe(0);
    const gone = await cli('rerun', run.id);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/The job "ok" was removed/);
    expect(gone.stderr).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}/);
    expect(count('SELECT count(*) AS n FROM runs')).toBe(runs);
    const unknown = await cli('rerun', 'ffffffff');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No run or execution ffffffff/);
  });
});

describe('cronium show --run: output groups', () => {
  it('groups 3 identical hosts and shows the different one apart', async () => {
    // Each host prints the address it was reached at: a1..a3 are h1, b is h2.
    await cli(
      'job',
      'add',
      'addr',
      '--lang',
      'bash',
      '--script',
      'echo "$SSH_CONNECTION" | cut -d" " -f3; echo same',
    );
    const r = await cli('--json', 'run', 'addr', '--on', 'a1,a2,b,a3');
    expect(r.code).toBe(0);
    const { run } = JSON.parse(r.stdout) as { run: { id: string } };
    const overview = JSON.parse(
      (await cli('--json', 'show', '--run', run.id.slice(0, 6))).stdout,
    ) as RunOverview;
    expect(overview.groups.map((g) => g.servers)).toEqual([['a1', 'a2', 'a3'], ['b']]);
    expect(overview.groups[0]!.stdoutHash).not.toBe(overview.groups[1]!.stdoutHash);
    expect(overview.executions.map((e) => [e.serverName, e.status])).toEqual([
      ['a1', 'succeeded'],
      ['a2', 'succeeded'],
      ['a3', 'succeeded'],
      ['b', 'succeeded'],
    ]);

    const text = await cli('show', '--run', run.id);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/group 1: 3 hosts: identical — a1, a2, a3/);
    expect(text.stdout).toMatch(/group 2: 1 host — b/);
    expect(text.stdout).toMatch(/^b\s+succeeded\s+0\s+\S+\s+[0-9a-f]{8}\s+group 2$/m);
  });

  it('leaves a host whose script never ran out of every group', async () => {
    await cli('job', 'add', 'py2', '--lang', 'python', '--script', 'print("x")');
    const r = await cli('--json', 'run', 'py2', '--on', 'h1,h2,h3');
    const { run } = JSON.parse(r.stdout) as { run: { id: string } };
    const overview = JSON.parse((await cli('--json', 'show', '--run', run.id)).stdout) as RunOverview;
    expect(overview.groups.map((g) => g.servers)).toEqual([['h1', 'h2']]);
    expect(overview.executions.find((e) => e.serverName === 'h3')!.stdoutHash).toBeNull();
  });
});
