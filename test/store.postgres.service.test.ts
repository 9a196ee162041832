/**
 * The whole service on a PostgreSQL store (issue 13): a throwaway server per file (test/support/postgres.ts),
 * real jobs on real hosts, and the CLI on the same store through CRONIUM_DATABASE_URL. A shared store
 * seals its secrets with the team key, never with one person's data key.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openV1 } from '../src/secrets/secretStore.ts';
import { CroniumService } from '../src/service/service.ts';
import { PostgresDatabase } from '../src/store/postgresEngine.ts';
import { runCli } from './support/cli.ts';
import { ownHosts, runJob, tempDir } from './support/fixtures.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

const h = ownHosts('pgsvc');
const teamKey = randomBytes(32);
const TEAM_ENV = { CRONIUM_TEAM_KEY: teamKey.toString('base64') };
let server: TestPostgres;
let url: string;
let service: CroniumService;
let db: PostgresDatabase;
const dirs: { remove: () => void }[] = [];

function dataDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir.path;
}

/** The CLI on the shared store, from a data directory of its own (another machine, as far as it knows). */
function cli(args: string[], env: NodeJS.ProcessEnv = TEAM_ENV) {
  return runCli(args, {
    CRONIUM_DATA_DIR: dataDir(),
    CRONIUM_DATABASE_URL: url,
    CRONIUM_SECRET_STORE: 'key-file',
    CRONIUM_RUNTIME_PORT: '0',
    CRONIUM_TEAM_KEY: undefined,
    ...env,
  });
}

beforeAll(async () => {
  server = await startPostgres();
  url = server.createDatabase('service');
  db = new PostgresDatabase(url);
  service = await CroniumService.open({
    dataDir: dataDir(),
    databaseUrl: url,
    env: TEAM_ENV,
    keychain: null,
    unknownHostKeys: 'accept-new',
    killGraceSec: 1,
    runtimePort: 0,
    readyTimeoutMs: 5000,
  });
  for (const host of [h.hosts.h1, h.hosts.h2])
    await service.createServer({
      name: host.name,
      host: host.address,
      port: host.port,
      username: h.user,
      auth: { type: 'key', keyPath: h.encryptedKeyPath, passphrase: h.passphrase },
    });
});

afterAll(async () => {
  await service?.close();
  await db?.close();
  server?.stop();
  h.removeUser();
  dirs.forEach((d) => d.remove());
});

describe('the service on PostgreSQL', () => {
  it('refuses to open a shared store without the team key, and says how to give one', async () => {
    await expect(
      CroniumService.open({ dataDir: dataDir(), databaseUrl: url, env: {}, keychain: null }),
    ).rejects.toThrow(
      /shared, so its secrets are sealed with the team key, and none was given: set CRONIUM_TEAM_KEY/,
    );
  });

  it('keeps servers, jobs and secrets in the database, sealed with the team key; no SQLite file', async () => {
    const info = await service.appInfo();
    expect(existsSync(join(info.dataDir, 'cronium.db'))).toBe(false);
    expect((await service.doctor()).database).toMatchObject({
      engine: 'postgres',
      version: expect.stringMatching(/^\d+(\.\d+)?/),
    });
    const rows = await db.all<{ name: string; secret: string }>(
      'SELECT name, secret FROM servers ORDER BY name',
    );
    expect(rows.map((r) => r.name)).toEqual(['h1', 'h2']);
    // The passphrase is stored sealed with the team key (openV1 with the key gives it back).
    for (const r of rows) {
      expect(r.secret).toMatch(/^v1:/);
      expect(r.secret).not.toContain(h.passphrase);
      expect(openV1(teamKey, r.secret.slice(3), 'the team key')).toBe(h.passphrase);
    }
    await service.setVariable({ key: 'db-password', value: 'S3cret-pg', secret: true });
    const stored = await db.get<{ value: string; secret: number }>(
      "SELECT value, secret FROM variables WHERE key = 'db-password'",
    );
    expect(stored!.value).not.toContain('S3cret-pg');
    expect(openV1(teamKey, stored!.value.slice(3), 'the team key')).toBe(JSON.stringify('S3cret-pg'));
    expect(await service.getVariableValue('db-password')).toBe('S3cret-pg');
  });

  it('runs a job on two hosts: statuses, logs (secrets masked), variables and history come from the database', async () => {
    const r = await runJob(
      service,
      {
        name: 'pg-run',
        language: 'bash',
        script: 'echo "hello from $(hostname) token=$TOKEN"\necho "to stderr" >&2\n',
        env: [{ key: 'TOKEN', value: 'tok-3f9a1c', secret: true }],
      },
      ['h1', 'h2'],
    );
    expect(r.run.status).toBe('succeeded');
    for (const e of r.executions) {
      expect(e).toMatchObject({ status: 'succeeded', exitCode: 0 });
      expect(r.text(e.serverName, 'stdout')).toMatch(/^hello from \S+ token=\*+\n$/);
      expect(r.text(e.serverName, 'stderr')).toBe('to stderr\n');
    }
    // The log chunks really are rows of the PostgreSQL store, and none holds the secret.
    const chunks = await db.all<{ text: string }>(
      'SELECT text FROM log_chunks WHERE execution_id IN (?, ?)',
      [r.executions[0]!.id, r.executions[1]!.id],
    );
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    expect(chunks.map((c) => c.text).join('')).not.toContain('tok-3f9a1c');
    const page = await service.queryHistory({ text: 'pg-run', limit: 10 });
    expect(page.items.map((e) => e.id).sort()).toEqual(r.executions.map((e) => e.id).sort());
  });
});

describe('the CLI on PostgreSQL (CRONIUM_DATABASE_URL)', () => {
  it('sees the servers, jobs, variables and history the service wrote, from another data directory', async () => {
    const servers = await cli(['server', 'list', '--json']);
    expect(servers.code, servers.stderr).toBe(0);
    expect((JSON.parse(servers.stdout) as { name: string }[]).map((s) => s.name)).toEqual(['h1', 'h2']);
    const variable = await cli(['var', 'get', 'db-password']);
    expect(variable.code, variable.stderr).toBe(0);
    expect(variable.stdout.trim()).toBe('S3cret-pg');
    const history = await cli(['history', '--job', 'pg-run', '--json']);
    expect(history.code, history.stderr).toBe(0);
    expect((JSON.parse(history.stdout) as { status: string }[]).map((e) => e.status)).toEqual([
      'succeeded',
      'succeeded',
    ]);
  });

  it('runs a job with its own streams and exit code, recorded in the shared store', async () => {
    await service.createJob({
      name: 'pg-cli',
      language: 'bash',
      script: 'echo "cli on $(hostname)"\nexit 3\n',
    });
    const run = await cli(['run', 'pg-cli', '--on', 'h1']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toMatch(/^cli on \S+\n$/);
    const page = await service.queryHistory({ text: 'pg-cli', limit: 10 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ status: 'failed', exitCode: 3, serverName: 'h1' });
    const log = await service.readLog(page.items[0]!.id);
    expect(log.map((c) => c.text).join('')).toContain('cli on ');
  });

  it('refuses without the team key, and with a wrong one, writing nothing', async () => {
    const before = (await service.listVariables()).length;
    const none = await cli(['var', 'set', 'x', '1'], {});
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/team key/);
    const wrong = await cli(['var', 'set', 'y', '1', '--secret'], {
      CRONIUM_TEAM_KEY: randomBytes(32).toString('base64'),
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/not the one this store's secrets are sealed with/);
    expect(await service.listVariables()).toHaveLength(before);
  });

  it('with a wrong team key refuses at start: commands that touch no secret, and a worker, write nothing', async () => {
    const wrongKey = { CRONIUM_TEAM_KEY: randomBytes(32).toString('base64') };
    const serversBefore = (await service.listServers()).length;
    const jobsBefore = (await service.listJobs()).length;
    const variablesBefore = (await service.listVariables()).length;
    for (const args of [
      ['var', 'set', 'plain', '1'],
      ['job', 'add', 'never', '--lang', 'bash', '--script', 'true'],
      ['server', 'add', 'never', '--host', '127.0.0.1', '--user', 'x', '--key', '/dev/null'],
      ['worker', '--name', 'wrong-key'],
    ]) {
      const res = await cli(args, wrongKey);
      expect(res.code, args.join(' ')).not.toBe(0);
      expect(res.stderr + res.stdout).toMatch(/not the one this store's secrets are sealed with/);
    }
    expect(await service.listServers()).toHaveLength(serversBefore);
    expect(await service.listJobs()).toHaveLength(jobsBefore);
    expect(await service.listVariables()).toHaveLength(variablesBefore);
    expect(await db.all(`SELECT name FROM workers`)).toEqual([]);
  });
});
