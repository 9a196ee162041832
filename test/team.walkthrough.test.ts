/**
 * The README's "Team mode in five steps", followed literally with two machines: A (a member's laptop) and
 * B (an always-on machine with a worker), each its own HOME (so its own default data directory and
 * ~/.pgpass), the CLI through bin/cronium, sharing only the PostgreSQL URL and the team key file.
 * A's laptop store (a server) is copied into the shared one; a job, a secret variable and a schedule are
 * made on A; the schedule fires on B while no process of A runs; A's history shows the run, started by
 * B's worker with trigger schedule, and the job on B read the secret A set.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Execution } from '../src/core/domain.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';
import { postgresBinDir, startPostgres, type TestPostgres } from './support/postgres.ts';
import { onHost } from './support/sshHosts.ts';

const h = ownHosts('walk');
afterAll(() => h.removeUser());

const ROLE = 'teamwalk';
const DATABASE = 'teamwalk';
const PASSWORD = 'walk-pw-1';
const SECRET = `tok-${Date.now().toString(36)}-secret`;

let pg: TestPostgres;
let url: string;
const homeA = tempDir('cronium-home-a-');
const homeB = tempDir('cronium-home-b-');
let worker: ChildProcess | null = null;

/** A machine's environment: its HOME, nothing of this process's Cronium settings, and `extra`. */
function machine(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, CRONIUM_RUNTIME_PORT: '0', ...extra };
  for (const k of [
    'CRONIUM_DATA_DIR',
    'XDG_CONFIG_HOME',
    'CRONIUM_DATABASE_URL',
    'CRONIUM_TEAM_KEY',
    'CRONIUM_TEAM_KEY_FILE',
    'PGPASSWORD',
    'PGPASSFILE',
  ])
    if (!(k in extra)) delete env[k];
  // This machine has no desktop keychain: its own (laptop) store keeps its data key in a file.
  env.CRONIUM_SECRET_STORE = 'key-file';
  return env;
}

/** The team's settings of step 1 and 2 on a machine: the URL (password in ~/.pgpass) and the key file. */
const team = (home: string) =>
  machine(home, { CRONIUM_DATABASE_URL: url, CRONIUM_TEAM_KEY_FILE: join(home, 'team.key') });

/** `bin/cronium ARGS` as the machine runs it. */
function cronium(
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bin/cronium', args, {
      env,
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<string> {
  const r = await cronium(args, env, stdin);
  if (r.code !== 0) throw new Error(`cronium ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  pg = await startPostgres();
  // Step 1: a role with a password and a database it owns (as `createuser`/`createdb` would, here as the
  // throwaway server's superuser), and each machine's ~/.pgpass.
  const bin = postgresBinDir();
  const as = ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'cronium'];
  execFileSync(join(bin, 'createuser'), [...as, ROLE]);
  execFileSync(join(bin, 'psql'), [
    ...as,
    '-d',
    'postgres',
    '-c',
    `ALTER ROLE ${ROLE} PASSWORD '${PASSWORD}'`,
  ]);
  execFileSync(join(bin, 'createdb'), [...as, '--owner', ROLE, DATABASE]);
  url = `postgres://${ROLE}@127.0.0.1:${pg.port}/${DATABASE}`;
  for (const home of [homeA.path, homeB.path])
    writeFileSync(join(home, '.pgpass'), `127.0.0.1:${pg.port}:${DATABASE}:${ROLE}:${PASSWORD}\n`, {
      mode: 0o600,
    });
}, 60_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker!.once('exit', r));
    worker.kill('SIGKILL');
    await exited;
  }
  pg?.stop();
  homeA.remove();
  homeB.remove();
}, 30_000);

describe('Team mode in five steps (README), two machines', () => {
  it('a schedule made on A fires on B with A closed; A sees it in history; B read A’s secret', async () => {
    const laptopA = machine(homeA.path);
    // A, before team mode: a laptop with its own store and a server in it.
    await ok(
      ['server', 'add', 'web1', '--host', h.hosts.h1.address, '--user', h.user, '--key', h.keyPath],
      laptopA,
    );
    expect(existsSync(join(homeA.path, '.config', 'Cronium', 'cronium.db'))).toBe(true);

    // Step 2: the team key, made once on A, its file handed to B.
    const made = await cronium(['team-key', 'new'], laptopA);
    expect(made.code).toBe(0);
    expect(made.stderr).toContain('CRONIUM_TEAM_KEY_FILE');
    writeFileSync(join(homeA.path, 'team.key'), made.stdout, { mode: 0o600 });
    copyFileSync(join(homeA.path, 'team.key'), join(homeB.path, 'team.key'));
    const a = team(homeA.path);
    const b = team(homeB.path);

    // Step 3: the schema, and A's laptop store copied in.
    expect(await ok(['db', 'migrate'], a)).toMatch(/^Applied migrations 1, .* \(schema version \d+\)\.$/m);
    expect(await ok(['db', 'copy', '--to', url], a)).toMatch(/servers/);

    // Step 4, machine A: a secret variable, a job that reads it, a schedule — then nothing of A runs.
    // As the README: the secret from stdin, never on the command line.
    await ok(['var', 'set', 'api-token', '-', '--secret'], a, SECRET);
    await ok(
      [
        'job',
        'add',
        'report',
        '--lang',
        'bash',
        '--script',
        'cronium_getVariable api-token > ~/walk-token.txt\necho "report ran"\n',
        '--on',
        'web1',
      ],
      a,
    );
    await ok(['schedule', 'add', 'every-second', '--job', 'report', '--cron', '* * * * * *'], a);
    expect(JSON.parse(await ok(['history', '--json'], a))).toEqual([]);

    // Step 5, machine B: the worker (as its systemd unit starts it).
    worker = spawn('bin/cronium', ['worker', '--name', 'rack-b', '--concurrency', '8'], {
      env: b,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let workerOut = '';
    worker.stdout!.on('data', (d) => (workerOut += d));
    worker.stderr!.on('data', (d) => (workerOut += d));

    // A's history (a new CLI process each time: nothing of A stays running) shows the scheduled run.
    let done: Execution | undefined;
    const end = Date.now() + 60_000;
    while (!done) {
      if (Date.now() > end || worker.exitCode !== null)
        throw new Error(`no scheduled run ended in A's history; worker: ${workerOut}`);
      const items = JSON.parse(await ok(['history', '--json', '--job', 'report'], a)) as Execution[];
      done = items.find((e) => e.status === 'succeeded');
      if (!done) await new Promise((r) => setTimeout(r, 250));
    }
    await ok(['schedule', 'pause', 'every-second'], a);
    const exited = new Promise<number | null>((r) => worker!.once('exit', (code) => r(code)));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);

    expect(done.startedBy).toBe(`worker rack-b@${hostname().split('.')[0]}`);
    expect(done.serverName).toBe('web1');
    const shown = await ok(['show', done.id], a);
    expect(shown).toMatch(/trigger:\s+schedule \(every-second\)/);
    expect(shown).toContain(`started by: worker rack-b@`);
    // The job on B read the secret A set (sealed with the team key in the shared store).
    expect(onHost(h, 'cat ~/walk-token.txt').trim()).toBe(SECRET);
    expect(await ok(['history', '--json'], a)).not.toContain(SECRET);
    // B kept nothing but its own files (log files): no store of its own.
    expect(existsSync(join(homeB.path, '.config', 'Cronium', 'cronium.db'))).toBe(false);
    const bDir = join(homeB.path, '.config', 'Cronium');
    if (existsSync(bDir)) expect(readdirSync(bDir).filter((f) => f.startsWith('cronium.db'))).toEqual([]);
  }, 180_000);
});
