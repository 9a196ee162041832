/**
 * `cronium db copy --to postgres://…` and `cronium db migrate` against a real PostgreSQL (a throwaway server
 * for this file): a local store seeded through the service on real sshd hosts (runs with logs, a password
 * server behind a jump host, secret variables, a secret job environment entry, a webhook, a tool, a
 * schedule) is copied, then every table is read back on PostgreSQL and compared row for row with the SQLite
 * file; sealed values differ but open with the team key to the same plain text.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KeyFileSecretStore, openV1 } from '../src/secrets/secretStore.ts';
import { TEAM_KEY_CHECK, TeamKeySecretStore } from '../src/secrets/teamKey.ts';
import { CroniumService } from '../src/service/service.ts';
import { COPIED_TABLES, MACHINE_LOCAL_SETTINGS } from '../src/store/dbCopy.ts';
import { unpackLogText } from '../src/store/logPacking.ts';
import { SCHEMA_VERSION } from '../src/store/migrate.ts';
import { clientConfig, PostgresDatabase } from '../src/store/postgresEngine.ts';
import type { Sql } from '../src/store/sql.ts';
import { SqliteDatabase } from '../src/store/sqliteEngine.ts';
import { runCli } from './support/cli.ts';
import { ownHosts, runJob, tempDir } from './support/fixtures.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

const h = ownHosts('dbcopy');
const data = tempDir();
const teamKey = randomBytes(32);
const env = {
  CRONIUM_DATA_DIR: data.path,
  CRONIUM_SECRET_STORE: 'key-file',
  CRONIUM_TEAM_KEY: teamKey.toString('base64'),
  CRONIUM_DATABASE_URL: undefined,
};
let server: TestPostgres;
const BIG = 'packed output line\n'.repeat(1000);

beforeAll(async () => {
  server = await startPostgres();
  const service = await CroniumService.open({
    dataDir: data.path,
    unknownHostKeys: 'accept-new',
    killGraceSec: 1,
    runtimePort: 0,
    readyTimeoutMs: 5000,
    keychain: null,
  });
  try {
    const { h1, h2 } = h.hosts;
    const jump = await service.createServer({
      name: 'jump-h1',
      host: h1.address,
      port: h1.port,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
    await service.createServer({
      name: 'Web-PW',
      host: h2.address,
      port: h2.port,
      username: h.user,
      auth: { type: 'password', password: h.password },
    });
    await service.createServer({
      name: 'behind',
      host: h.behindH1.address,
      port: h.behindH1.port,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
      jumpServerId: jump.id,
    });
    await service.setVariable({ key: 'api_token', value: 'tok-✓-123', secret: true });
    await service.setVariable({ key: 'threshold', value: { warn: 80, crit: [90, 95] } });
    await service.createTool({
      type: 'slack',
      name: 'team-slack',
      webhookUrl: 'https://hooks.slack.com/services/T0/B0/xyz',
    });
    const { run } = await runJob(
      service,
      {
        name: 'report',
        language: 'bash',
        script:
          'echo "hello from $(hostname)"; echo warn >&2; printf "bin\\0ary\\n"; printf "%s" "$BIG"; echo "$TOKEN" | wc -c',
        env: [
          { key: 'TOKEN', value: 'env-secret-value', secret: true },
          { key: 'BIG', value: BIG },
        ],
      },
      ['Web-PW', 'jump-h1', 'behind'],
    );
    expect(run.status).toBe('succeeded');
    const job = await service.getJob('report');
    await service.updateJob('report', {
      name: job.name,
      language: job.language,
      script: job.script,
      env: [
        { key: 'TOKEN', value: 'env-secret-value', secret: true },
        { key: 'BIG', value: BIG },
      ],
      webhook: { url: 'https://hooks.example.com/notify?token=hook-secret', notify: 'always' },
    });
    await service.createSchedule({ name: 'nightly', jobId: job.id, cron: '0 3 * * *', targets: ['Web-PW'] });
  } finally {
    await service.close();
  }
}, 120_000);

afterAll(() => {
  server?.stop();
  data.remove();
  h.removeUser();
});

/** The columns holding sealed values, per table, and how to reach the sealed text in a row. */
function opened(
  table: string,
  row: Record<string, unknown>,
  open: (sealed: string) => string,
): Record<string, unknown> {
  const out = { ...row };
  if (table === 'servers' && typeof out.secret === 'string') out.secret = open(out.secret);
  if (table === 'tools') out.secret = open(String(out.secret));
  if (table === 'variables' && out.secret === 1) out.value = open(String(out.value));
  if (table === 'jobs') {
    const env = JSON.parse(String(out.env)) as { secret: boolean; value: string }[];
    out.env = env.map((e) => (e.secret ? { ...e, value: open(e.value) } : e));
    if (typeof out.webhook === 'string') {
      const webhook = JSON.parse(out.webhook) as { url: string };
      out.webhook = { ...webhook, url: open(webhook.url) };
    }
  }
  if (table === 'log_chunks') {
    out.text = out.packed ? unpackLogText(out.packed as Uint8Array) : out.text;
    delete out.packed;
  }
  return out;
}

async function rows(db: Sql, table: string, key: readonly string[]): Promise<Record<string, unknown>[]> {
  const all = await db.all(`SELECT * FROM ${table} ORDER BY ${key.join(', ')}`);
  // The target's team key check is its own (asserted apart, in expectSameStore).
  return table === 'settings'
    ? all.filter(
        (r) => !(MACHINE_LOCAL_SETTINGS as readonly unknown[]).includes(r.key) && r.key !== TEAM_KEY_CHECK,
      )
    : all;
}

/** Every copied table of the target equals the source's, secrets compared by their plain text. */
async function expectSameStore(url: string): Promise<Record<string, number>> {
  const source = new SqliteDatabase(join(data.path, 'cronium.db'));
  const target = new PostgresDatabase(url);
  const sourceKey = new KeyFileSecretStore(data.path);
  const counts: Record<string, number> = {};
  try {
    for (const { table, key } of COPIED_TABLES) {
      const from = await rows(source, table, key);
      const to = await rows(target, table, key);
      counts[table] = from.length;
      // The source's data key opens values asynchronously: open every sealed value first.
      const plain = new Map<string, string>();
      for (const r of from) opened(table, r, (s) => (plain.set(s, ''), s));
      for (const sealed of plain.keys()) plain.set(sealed, await sourceKey.decrypt(sealed));
      expect(to.map((r) => opened(table, r, (s) => openV1(teamKey, s.slice(3), 'the team key')))).toEqual(
        from.map((r) => opened(table, r, (s) => plain.get(s)!)),
      );
    }
    // Sealed again, not copied as they were: the source's ciphertexts open only with its own key.
    const pw = await target.get<{ secret: string }>("SELECT secret FROM servers WHERE name = 'Web-PW'");
    expect(openV1(teamKey, pw!.secret.slice(3), 'team key')).toBe(h.password);
    const sourcePw = await source.get<{ secret: string }>("SELECT secret FROM servers WHERE name = 'Web-PW'");
    expect(pw!.secret).not.toBe(sourcePw!.secret);
    // Of the secrets' and runtime's settings only the team key's check is there: sealed with the team key.
    expect(
      await target.all("SELECT key FROM settings WHERE key LIKE 'secrets.%' OR key LIKE 'runtime.%'"),
    ).toEqual([{ key: TEAM_KEY_CHECK }]);
    expect(
      await new TeamKeySecretStore({
        db: target,
        teamKey: { key: teamKey, source: 'environment', location: 'CRONIUM_TEAM_KEY' },
      }).decrypt(pw!.secret),
    ).toBe(h.password);
  } finally {
    await source.close();
    await target.close();
  }
  return counts;
}

describe('cronium db copy', () => {
  it('copies every table into PostgreSQL, row for row, secrets re-sealed with the team key', async () => {
    const url = server.createDatabase('team');
    const res = await runCli(['db', 'copy', '--to', url.replace('cronium@', 'cronium:not-printed@')], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).not.toContain('not-printed');
    expect(res.stdout).toContain(`to ${url} (schema version ${SCHEMA_VERSION})`);
    const counts = await expectSameStore(url);
    // What the seed made is there (not merely two empty tables agreeing).
    expect(counts).toMatchObject({
      servers: 3,
      jobs: 1,
      schedules: 1,
      tools: 1,
      runs: 1,
      executions: 3,
      variables: 2,
    });
    // Each host's log holds at least a stdout and a stderr chunk; how many more depends on how the two
    // streams interleaved as they were read (consecutive pieces of one stream share a chunk).
    expect(counts.log_chunks).toBeGreaterThanOrEqual(6);
    for (const [table, n] of Object.entries(counts))
      expect(res.stdout).toMatch(new RegExp(`^  ${table} +${n}$`, 'm'));
    expect(res.stdout).toMatch(/(\d+) secrets re-sealed with the team key/);
    const target = new PostgresDatabase(url);
    try {
      // The NUL line of the log survived through the packed column; the jump host link too.
      const texts = await target.all<{ text: string; packed: Uint8Array | null }>(
        'SELECT text, packed FROM log_chunks',
      );
      expect(texts.some((r) => r.packed && unpackLogText(r.packed).includes('bin\0ary'))).toBe(true);
      expect(
        await target.get(
          "SELECT s.name FROM servers s JOIN servers j ON j.id = s.jump_server_id WHERE j.name = 'jump-h1'",
        ),
      ).toEqual({
        name: 'behind',
      });
      expect(await target.get("SELECT id FROM servers WHERE lower(name) = lower('web-pw')")).toBeDefined();
    } finally {
      await target.close();
    }

    // Again into the same database: refused, nothing changed; with --force: replaced, still one copy.
    const again = await runCli(['db', 'copy', '--to', url], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds 3 servers, 1 jobs and 1 runs.*--force/);
    const forced = await runCli(['db', 'copy', '--to', url, '--force'], env);
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/--force: \d+ rows the target held were replaced/);
    await expectSameStore(url);
  });

  it('writes nothing when a secret cannot be re-sealed (no team key), and says what to set', async () => {
    const url = server.createDatabase('nokey');
    const res = await runCli(['db', 'copy', '--to', url, '--json'], { ...env, CRONIUM_TEAM_KEY: undefined });
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stderr)).toMatchObject({
      error: { kind: 'invalid_input', message: expect.stringMatching(/CRONIUM_TEAM_KEY/) },
    });
    // Refused before the target was touched: not even the schema was made.
    const target = new PostgresDatabase(url);
    try {
      expect(
        await target.get(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'`),
      ).toEqual({ n: 0 });
    } finally {
      await target.close();
    }
  });

  it('the copy opens for another member: their commands read its secrets with the same team key', async () => {
    const url = server.createDatabase('member');
    expect((await runCli(['db', 'copy', '--to', url], env)).code).toBe(0);
    const member = tempDir();
    try {
      const memberEnv = { ...env, CRONIUM_DATA_DIR: member.path, CRONIUM_DATABASE_URL: url };
      // The password server's secret opens on the other machine: it logs in.
      const test = await runCli(['server', 'test', 'Web-PW'], memberEnv);
      expect(test.stderr).toBe('');
      expect(test.code).toBe(0);
      const vars = JSON.parse((await runCli(['--json', 'var', 'list'], memberEnv)).stdout) as unknown[];
      expect(vars.length).toBe(2);
      // A wrong key is refused by the check, before the copy writes anything.
      const wrong = await runCli(['db', 'copy', '--to', url, '--force'], {
        ...env,
        CRONIUM_TEAM_KEY: randomBytes(32).toString('base64'),
      });
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/is not the one this store's secrets are sealed with/);
    } finally {
      member.remove();
    }
  });

  it('copies a store that seals with a team key (given as a file), reading its secrets with that key', async () => {
    const teamData = tempDir();
    try {
      const keyFile = join(teamData.path, 'team.key');
      writeFileSync(keyFile, teamKey.toString('base64'), { mode: 0o600 });
      chmodSync(keyFile, 0o600);
      const teamEnv = {
        ...env,
        CRONIUM_DATA_DIR: teamData.path,
        CRONIUM_TEAM_KEY: undefined,
        CRONIUM_TEAM_KEY_FILE: keyFile,
      };
      const service = await CroniumService.open({
        dataDir: teamData.path,
        unknownHostKeys: 'accept-new',
        runtimePort: 0,
        keychain: null,
        env: teamEnv,
      });
      try {
        await service.createServer({
          name: 'pw',
          host: h.hosts.h2.address,
          username: h.user,
          auth: { type: 'password', password: h.password },
        });
      } finally {
        await service.close();
      }
      const url = server.createDatabase('teamkeyed');
      const res = await runCli(['db', 'copy', '--to', url], teamEnv);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/1 secret re-sealed with the team key/);
      const target = new PostgresDatabase(url);
      try {
        const row = await target.get<{ secret: string }>("SELECT secret FROM servers WHERE name = 'pw'");
        expect(openV1(teamKey, row!.secret.slice(3), 'the team key')).toBe(h.password);
      } finally {
        await target.close();
      }
    } finally {
      teamData.remove();
    }
  });

  it('names the PostgreSQL it cannot reach, without the password', async () => {
    const res = await runCli(['db', 'copy', '--to', 'postgres://cronium:s3cret-pw@127.0.0.1:1/team'], env);
    expect(res.code).toBe(255);
    expect(res.stderr).toMatch(/Cannot connect to PostgreSQL at 127\.0\.0\.1:1 \(database "team"/);
    expect(res.stderr).not.toContain('s3cret-pw');
  });
});

describe('cronium db migrate', () => {
  it('applies the pending migrations to --database-url or CRONIUM_DATABASE_URL, then says it is up to date', async () => {
    const url = server.createDatabase('migrated');
    const first = await runCli(['db', 'migrate', '--database-url', url], env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(
      `Applied migrations ${Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1).join(', ')} to ${url} (schema version ${SCHEMA_VERSION}).\n`,
    );
    const second = await runCli(['db', 'migrate', '--json'], { ...env, CRONIUM_DATABASE_URL: url });
    expect(JSON.parse(second.stdout)).toEqual({
      location: url,
      engine: 'postgres',
      applied: [],
      version: SCHEMA_VERSION,
    });
    const local = await runCli(['db', 'migrate'], env);
    expect(local.stdout).toBe(
      `${join(data.path, 'cronium.db')} is up to date (schema version ${SCHEMA_VERSION}).\n`,
    );
  });

  it('keeps other commands off the local store while a database URL is given: they use PostgreSQL', async () => {
    const local = await runCli(['server', 'list', '--json'], env);
    expect((JSON.parse(local.stdout) as unknown[]).length).toBeGreaterThan(0);
    const url = server.createDatabase('othercmds');
    const res = await runCli(['server', 'list', '--json'], { ...env, CRONIUM_DATABASE_URL: url });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([]);
  });
});

describe('the password of a database URL', () => {
  const password = async (url: string, e: NodeJS.ProcessEnv) => {
    const p = clientConfig(url, e).config.password;
    return typeof p === 'function' ? p() : p;
  };
  it('comes from the URL, else PGPASSWORD, else the password file (PGPASSFILE or ~/.pgpass, 0600)', async () => {
    const file = join(data.path, 'pgpass');
    writeFileSync(file, 'otherhost:5432:*:*:nope\n127.0.0.1:6543:team:alice:from-file\n');
    chmodSync(file, 0o600);
    const url = 'postgres://alice@127.0.0.1:6543/team';
    expect(await password('postgres://alice:from%20url@127.0.0.1:6543/team', { PGPASSWORD: 'env' })).toBe(
      'from url',
    );
    expect(await password(url, { PGPASSWORD: 'from-env', PGPASSFILE: file })).toBe('from-env');
    expect(await password(url, { PGPASSFILE: file })).toBe('from-file');
    // A file others can read is ignored, as libpq does.
    chmodSync(file, 0o644);
    expect(await password(url, { PGPASSFILE: file })).toBe('');
    expect(clientConfig('postgres://alice:pw@127.0.0.1:6543/team', {}).location).toBe(url);
  });
});
