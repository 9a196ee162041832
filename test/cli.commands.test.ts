/**
 * Issue 14 part 2 and issue 11 part 7: each command with its own options, extra arguments refused,
 * --version, server/job edit, server list --tag, relative paths through the installed `bin`, -v, the log
 * file, and the runtime port note once per process (real hosts).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { main } from '../src/cli/main.ts';
import { configureFileLogger, log, setLogger } from '../src/core/logger.ts';
import type { CliResult } from './support/cli.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

// A test user of this file's own (its home and processes are nobody else's).
const h = ownHosts('clicmd');
afterAll(async () => h.removeUser());

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const bin = resolve('bin/cronium');

/** The CLI's own main, in process, on `dir`. */
async function cli(dir: string, args: string[], stdin = ''): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        write(String(chunk));
        done();
      },
    });
  const code = await main(['--data-dir', dir, ...args], {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    readStdin: () => stdin,
    env: { CRONIUM_RUNTIME_PORT: '0' },
  });
  return { code, stdout, stderr };
}

/** A real process: `command` with `args` in `cwd`. */
function spawned(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<CliResult>((done) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('each command takes only its own options and arguments', () => {
  const dir = tempDir();
  afterAll(async () => dir.remove());

  it('refuses another command’s option, an unknown one and extra arguments, writing nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['history', '--host', 'x'], /Unknown option '--host'/],
      [['history', '--agent'], /Unknown option '--agent'/],
      [['var', 'set', 'k', 'hello', 'world'], /Too many arguments for 'set'/],
      [['var', 'get', 'k', 'extra'], /Too many arguments for 'get'/],
      [['server', 'list', 'extra'], /Too many arguments for 'list'/],
      [['server', 'add', 'x', '--lang', 'bash'], /Unknown option '--lang'/],
      [['job', 'list', '--host', 'h'], /Unknown option '--host'/],
      [['run', 'j', '--secret'], /Unknown option '--secret'/],
      [['doctor', 'now'], /Too many arguments/],
      [['show'], /Missing required argument 'executionId'/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(dir.path, args);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    const vars = await cli(dir.path, ['--json', 'var', 'list']);
    expect(JSON.parse(vars.stdout)).toEqual([]);
    // The same value quoted as one argument is stored whole.
    expect((await cli(dir.path, ['var', 'set', 'k', 'hello world'])).code).toBe(0);
    expect((await cli(dir.path, ['var', 'get', 'k'])).stdout).toBe('hello world\n');
  });

  it('takes the global options before or after the command', async () => {
    const before = await cli(dir.path, ['--json', 'server', 'list']);
    const after = await cli(dir.path, ['server', 'list', '--json']);
    expect(JSON.parse(before.stdout)).toEqual([]);
    expect(after.stdout).toBe(before.stdout);
  });

  it('prints the version of package.json with --version, and help with --help, exit 0', async () => {
    expect(await cli(dir.path, ['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const help = await cli(dir.path, ['--help']);
    expect(help.code).toBe(0);
    for (const command of ['server', 'job', 'run', 'history', 'show', 'var', 'serve', 'doctor'])
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    const runHelp = await cli(dir.path, ['run', '--help']);
    expect(runHelp.stdout).toMatch(/--on <servers>/);
    expect(runHelp.stdout).not.toMatch(/--host/);
  });

  it('edits only the fields given: server edit and job edit', async () => {
    const h = { key: join(dir.path, 'id_test') };
    writeFileSync(h.key, 'not really a key\n');
    for (const [name, address] of [
      ['web', '10.0.0.1'],
      ['db', '10.0.0.2'],
    ])
      await cli(dir.path, [
        'server',
        'add',
        name!,
        '--host',
        address!,
        '--user',
        'deploy',
        '--agent',
        '--tag',
        'prod',
      ]);
    const before = JSON.parse((await cli(dir.path, ['--json', 'server', 'show', 'db'])).stdout);
    const edited = await cli(dir.path, [
      'server',
      'edit',
      'db',
      '--port',
      '2222',
      '--jump',
      'web',
      '--tag',
      'db',
    ]);
    expect(edited).toMatchObject({ code: 0, stdout: 'Saved server db (deploy@10.0.0.2:2222).\n' });
    const after = JSON.parse((await cli(dir.path, ['--json', 'server', 'show', 'db'])).stdout);
    const web = JSON.parse((await cli(dir.path, ['--json', 'server', 'show', 'web'])).stdout);
    expect(after).toEqual({
      ...before,
      port: 2222,
      jumpServerId: web.id,
      tags: ['db'],
      updatedAt: after.updatedAt,
    });
    // --no-jump clears the jump server, a rename keeps the id.
    await cli(dir.path, ['server', 'edit', 'db', '--no-jump', '--name', 'db1']);
    const renamed = JSON.parse((await cli(dir.path, ['--json', 'server', 'show', 'db1'])).stdout);
    expect(renamed).toMatchObject({ id: before.id, jumpServerId: null, port: 2222 });
    expect((await cli(dir.path, ['server', 'edit', 'nope', '--port', '1'])).stderr).toMatch(
      /No server named "nope"/,
    );

    await cli(dir.path, [
      'job',
      'add',
      'deploy',
      '--lang',
      'bash',
      '--script',
      'echo hi',
      '--env',
      'A=1',
      '--on',
      'web',
    ]);
    const job = JSON.parse((await cli(dir.path, ['--json', 'job', 'show', 'deploy'])).stdout);
    expect(job.defaultServerIds).toEqual([web.id]);
    const jobEdit = await cli(dir.path, ['job', 'edit', 'deploy', '--timeout', '60', '--helpers', 'bundled']);
    expect(jobEdit).toMatchObject({ code: 0, stdout: 'Saved job deploy (bash, timeout 60s).\n' });
    const jobAfter = JSON.parse((await cli(dir.path, ['--json', 'job', 'show', 'deploy'])).stdout);
    expect(jobAfter).toEqual({
      ...job,
      timeoutSec: 60,
      helperMode: 'bundled',
      updatedAt: jobAfter.updatedAt,
    });
    // A bad value changes nothing, and the message names the option as typed.
    const bad = await cli(dir.path, ['job', 'edit', 'deploy', '--on', 'ghost']);
    expect(bad).toMatchObject({ code: 2, stderr: 'cronium: No server named "ghost".\n' });
    const timeout = await cli(dir.path, ['job', 'edit', 'deploy', '--timeout', '-5']);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toMatch(/--timeout/);
    expect(timeout.stderr).not.toMatch(/timeoutSec/);
    expect(JSON.parse((await cli(dir.path, ['--json', 'job', 'show', 'deploy'])).stdout)).toEqual(jobAfter);
  });

  it('lists servers by tag (server list --tag, repeatable: any of the tags)', async () => {
    await cli(dir.path, [
      'server',
      'add',
      'cache',
      '--host',
      '10.0.0.3',
      '--user',
      'u',
      '--agent',
      '--tag',
      'redis',
    ]);
    const names = async (...tags: string[]) =>
      (
        JSON.parse(
          (await cli(dir.path, ['--json', 'server', 'list', ...tags.flatMap((t) => ['--tag', t])])).stdout,
        ) as { name: string }[]
      ).map((s) => s.name);
    expect(await names('prod')).toEqual(['web']);
    expect(await names('redis', 'db')).toEqual(['cache', 'db1']);
    expect(await names('none')).toEqual([]);
    expect((await names()).length).toBe(3);
    expect((await cli(dir.path, ['server', 'list', '--tag', 'none'])).stdout).toBe(
      'No servers tagged none.\n',
    );
  });

  it('-v writes debug lines on stderr; without it, nothing', async () => {
    const quiet = await cli(dir.path, ['server', 'list']);
    expect(quiet.stderr).toBe('');
    const verbose = await cli(dir.path, ['-v', 'server', 'list']);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toContain(`cronium: debug: data directory ${dir.path}\n`);
    expect(verbose.stdout).toBe(quiet.stdout);
  });
});

describe('the installed command (bin/cronium)', () => {
  const dir = tempDir();
  const elsewhere = tempDir('cronium-cwd-');
  afterAll(async () => {
    dir.remove();
    elsewhere.remove();
  });

  it('runs from another directory and resolves --file and --key against it', async () => {
    writeFileSync(join(elsewhere.path, 'hello.sh'), 'echo "from a relative file"\n');
    copyFileSync(h.keyPath, join(elsewhere.path, 'id_key'));
    const env = { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: '0' };
    const v = await spawned(bin, ['--version'], { cwd: elsewhere.path, env });
    expect(v).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const job = await spawned(bin, ['job', 'add', 'rel', '--lang', 'bash', '--file', 'hello.sh'], {
      cwd: elsewhere.path,
      env,
    });
    expect(job).toMatchObject({ code: 0, stderr: '' });
    const server = await spawned(
      bin,
      ['server', 'add', 'rel', '--host', '10.0.0.9', '--user', 'u', '--key', './id_key'],
      { cwd: elsewhere.path, env },
    );
    expect(server).toMatchObject({ code: 0, stderr: '' });
    const shownJob = JSON.parse((await spawned(bin, ['--json', 'job', 'show', 'rel'], { env })).stdout);
    expect(shownJob.script).toBe('echo "from a relative file"\n');
    const shownServer = JSON.parse((await spawned(bin, ['--json', 'server', 'show', 'rel'], { env })).stdout);
    expect(shownServer.keyPath).toBe(join(elsewhere.path, 'id_key'));
    // A missing relative file is named as typed, and nothing is saved.
    const missing = await spawned(bin, ['job', 'add', 'gone', '--lang', 'bash', '--file', 'nope.sh'], {
      cwd: elsewhere.path,
      env,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`Cannot read nope.sh: ENOENT`);
  });

  it('npm run cronium takes relative paths from the directory npm was started in (INIT_CWD)', async () => {
    writeFileSync(join(elsewhere.path, 'via-npm.sh'), 'echo "through npm"\n');
    const env = { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: '0' };
    const r = await spawned(
      'npm',
      [
        '--prefix',
        process.cwd(),
        'run',
        '-s',
        'cronium',
        '--',
        'job',
        'add',
        'npm',
        '--lang',
        'bash',
        '--file',
        'via-npm.sh',
      ],
      { cwd: elsewhere.path, env },
    );
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const shown = JSON.parse((await spawned(bin, ['--json', 'job', 'show', 'npm'], { env })).stdout);
    expect(shown.script).toBe('echo "through npm"\n');
  });
});

describe('the log file (desktop app and browser mode)', () => {
  const dir = tempDir();
  afterAll(async () => {
    setLogger(pino({ level: 'silent' }));
    dir.remove();
  });

  it('writes JSON lines to <data dir>/logs, rotates past its size, and never writes a secret', async () => {
    const logger = await configureFileLogger({ dataDir: dir.path, level: 'debug', size: '1k', keep: 2 });
    expect(log()).toBe(logger);
    log().info({ server: 'web', password: 'hunter2-secret', auth: { passphrase: 'pp-secret' } }, 'connected');
    for (let i = 0; i < 40; i++)
      log().debug({ i }, 'a line long enough to fill a kilobyte in a few dozen lines');
    await new Promise<void>((done) => logger.flush(() => done()));
    // pino-roll checks the size as it writes: wait until it has rolled to a second file.
    await expect.poll(() => readdirSync(join(dir.path, 'logs')).length, { timeout: 5000 }).toBeGreaterThan(1);
    const files = readdirSync(join(dir.path, 'logs')).filter((f) => /^cronium\.\d+\.log$/.test(f));
    expect(files.length).toBeGreaterThan(1);
    const text = files.map((f) => readFileSync(join(dir.path, 'logs', f), 'utf8')).join('');
    const first = JSON.parse(text.split('\n').find((l) => l.includes('"connected"'))!);
    expect(first).toMatchObject({ level: 30, msg: 'connected', server: 'web', password: '[Redacted]' });
    expect(first.auth.passphrase).toBe('[Redacted]');
    expect(typeof first.time).toBe('number');
    expect(text).not.toContain('hunter2-secret');
    expect(text).not.toContain('pp-secret');
  });
});

describe('the runtime port note (real hosts)', () => {
  const dir = tempDir();
  let taken: NetServer;
  let port = 0;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((done) => taken.close(() => done()));
    dir.remove();
  });

  it('is said once per process on stderr, not in every execution’s log', async () => {
    const env = { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: String(port) };
    const run = (args: string[]) => spawned(process.execPath, ['src/cli/main.ts', ...args], { env });
    for (const name of ['h1', 'h2'] as const)
      expect(
        (
          await run([
            'server',
            'add',
            name,
            '--host',
            h.hosts[name].address,
            '--user',
            h.user,
            '--key',
            h.keyPath,
          ])
        ).code,
      ).toBe(0);
    await run(['job', 'add', 'hi', '--lang', 'bash', '--script', 'cronium.output "\\"$(hostname)\\""']);
    const r = await run(['run', 'hi', '--on', 'h1,h2', '--helpers', 'api']);
    expect(r.stderr).toMatch(/run succeeded \(2\/2 succeeded\)/);
    expect(r.code).toBe(0);
    const note = `runtime port ${port} is taken`;
    expect(r.stderr.split(note).length - 1).toBe(1);
    const history = JSON.parse((await run(['--json', 'history', '--job', 'hi'])).stdout) as { id: string }[];
    expect(history).toHaveLength(2);
    for (const e of history) {
      const shown = await run(['show', e.id]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).not.toContain('is taken');
    }
  });
});
