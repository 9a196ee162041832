/**
 * Issue 13 item 3: the team key for shared secrets (src/secrets/teamKey.ts). Secrets set with a team key
 * are read back by another process given the same key, from the environment or a file; a wrong key, a
 * file others can read, both variables at once and a shared store without a key are refused with a
 * sentence saying what to do; `cronium doctor` says which key seals secrets and from where; a local store
 * switches over with `cronium team-key adopt`; the key never shows in any output, log or file.
 */
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { composeCore } from '../src/service/compose.ts';
import { CroniumService } from '../src/service/service.ts';
import { runCli, type CliResult } from './support/cli.ts';
import { tempDir } from './support/fixtures.ts';

const dirs: { remove: () => void }[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));

/** A fresh data directory; no OS keychain in these processes (DBUS unset), so the data key is a file. */
function dataDir(): string {
  const dir = tempDir('cronium-teamkey-');
  dirs.push(dir);
  return dir.path;
}

/** Every output of the CLI runs of a test, to check that no key ever shows in one. */
let outputs: string[] = [];
afterEach(() => {
  outputs = [];
});

async function cli(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const r = await runCli(['--data-dir', dir, ...args], {
    CRONIUM_TEAM_KEY: undefined,
    CRONIUM_TEAM_KEY_FILE: undefined,
    DBUS_SESSION_BUS_ADDRESS: undefined,
    ...env,
  });
  outputs.push(r.stdout, r.stderr);
  return r;
}

async function newKey(): Promise<string> {
  const r = await runCli(['team-key', 'new']);
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

/** Every file under dir, as text (the store, logs, key files). */
function allFiles(dir: string): string {
  let text = '';
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile()) text += readFileSync(path).toString('latin1');
  }
  return text;
}

function expectNoKey(key: string, dir: string): void {
  for (const o of outputs) expect(o).not.toContain(key);
  expect(allFiles(dir)).not.toContain(key);
}

describe('cronium team-key new', () => {
  it('prints a fresh key (base64 of 32 bytes) alone on stdout, and how to hand it out on stderr', async () => {
    const a = await runCli(['team-key', 'new']);
    const b = await runCli(['team-key', 'new']);
    for (const r of [a, b]) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
      expect(Buffer.from(r.stdout.trim(), 'base64')).toHaveLength(32);
      expect(r.stderr).toContain('CRONIUM_TEAM_KEY_FILE');
      expect(r.stderr).toContain('chmod 600');
      expect(r.stderr).not.toContain(r.stdout.trim());
    }
    expect(a.stdout).not.toBe(b.stdout);
  });
});

describe('secrets sealed with a team key', () => {
  it('are read back by another process with the same key, from the environment or a file', async () => {
    const dir = dataDir();
    const key = await newKey();
    expect(
      (await cli(dir, ['var', 'set', 'db_password', 'hunter2', '--secret'], { CRONIUM_TEAM_KEY: key })).code,
    ).toBe(0);
    const viaEnv = await cli(dir, ['var', 'get', 'db_password'], { CRONIUM_TEAM_KEY: key });
    expect(viaEnv).toMatchObject({ code: 0, stdout: 'hunter2\n' });
    // The same key in a file of mode 600.
    const file = join(dataDir(), 'team.key');
    writeFileSync(file, key + '\n', { mode: 0o600 });
    const viaFile = await cli(dir, ['var', 'get', 'db_password'], { CRONIUM_TEAM_KEY_FILE: file });
    expect(viaFile).toMatchObject({ code: 0, stdout: 'hunter2\n' });
    // Sealed at rest, with the check value recorded; no data key was made for it.
    const db = new DatabaseSync(join(dir, 'cronium.db'));
    const stored = db.prepare("SELECT value FROM variables WHERE key = 'db_password'").get() as {
      value: string;
    };
    const check = db.prepare("SELECT value FROM settings WHERE key = 'secrets.team_key_check'").get();
    db.close();
    expect(stored.value).toMatch(/^v1:/);
    expect(stored.value).not.toContain('hunter2');
    expect(check).toBeDefined();
    expect(readdirSync(dir)).not.toContain('secret.key');
    // Without the key: a sentence saying which key is missing and where to put it.
    const none = await cli(dir, ['var', 'get', 'db_password']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain(
      "This store's secrets are sealed with a team key, and none was given: set CRONIUM_TEAM_KEY (or CRONIUM_TEAM_KEY_FILE)",
    );
    expectNoKey(key, dir);
  });

  it('refuses a wrong key with the sentence, and never seals with it', async () => {
    const dir = dataDir();
    const key = await newKey();
    const wrong = await newKey();
    await cli(dir, ['var', 'set', 'token', 'abc', '--secret'], { CRONIUM_TEAM_KEY: key });
    for (const args of [
      ['var', 'get', 'token'],
      ['var', 'set', 'other', 'xyz', '--secret'],
    ]) {
      const r = await cli(dir, args, { CRONIUM_TEAM_KEY: wrong });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        "The team key in CRONIUM_TEAM_KEY is not the one this store's secrets are sealed with. Ask whoever handed out the team key for the current one",
      );
    }
    // Nothing was written with the wrong key: the refused variable does not exist.
    expect((await cli(dir, ['--json', 'var', 'list'], { CRONIUM_TEAM_KEY: key })).stdout).not.toContain(
      'other',
    );
    expect((await cli(dir, ['var', 'get', 'token'], { CRONIUM_TEAM_KEY: key })).stdout).toBe('abc\n');
    expectNoKey(key, dir);
    expectNoKey(wrong, dir);
  });

  it('refuses a key file others can read or write, like ssh with a private key; and a key that is not one', async () => {
    const dir = dataDir();
    const key = await newKey();
    const file = join(dataDir(), 'team.key');
    writeFileSync(file, key + '\n');
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      chmodSync(file, mode);
      const r = await cli(dir, ['var', 'set', 'x', '1', '--secret'], { CRONIUM_TEAM_KEY_FILE: file });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        `The team key file ${file} is accessible by others (mode ${mode.toString(8)}); like ssh with a private key, Cronium refuses it. Run: chmod 600 ${file}`,
      );
    }
    // A device or a directory is no key file: said so, with no chmod advice (harmful for /dev/null).
    for (const notAFile of ['/dev/null', dir]) {
      const r = await cli(dir, ['var', 'set', 'x', '1', '--secret'], { CRONIUM_TEAM_KEY_FILE: notAFile });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        `The team key file ${notAFile} (CRONIUM_TEAM_KEY_FILE) is not a regular file`,
      );
      expect(r.stderr).not.toContain('chmod');
    }
    chmodSync(file, 0o400);
    expect((await cli(dir, ['var', 'set', 'x', '1', '--secret'], { CRONIUM_TEAM_KEY_FILE: file })).code).toBe(
      0,
    );
    const short = await cli(dir, ['var', 'get', 'x'], { CRONIUM_TEAM_KEY: key.slice(0, 20) });
    expect(short.stderr).toContain('CRONIUM_TEAM_KEY does not hold a team key (base64 of 32 bytes');
    const both = await cli(dir, ['var', 'get', 'x'], { CRONIUM_TEAM_KEY: key, CRONIUM_TEAM_KEY_FILE: file });
    expect(both.stderr).toContain(
      'Both CRONIUM_TEAM_KEY and CRONIUM_TEAM_KEY_FILE are set: set only one of them.',
    );
    expectNoKey(key, dir);
  });

  it('cronium doctor says which key seals secrets and from where, never the key', async () => {
    const dir = dataDir();
    const key = await newKey();
    const env = await cli(dir, ['-v', 'doctor'], { CRONIUM_TEAM_KEY: key });
    expect(env.code).toBe(0);
    expect(env.stdout).toContain(
      'secret store    team-key (CRONIUM_TEAM_KEY): secrets are sealed with the team key from the environment (CRONIUM_TEAM_KEY)\n',
    );
    const file = join(dataDir(), 'team.key');
    writeFileSync(file, key, { mode: 0o600 });
    const fromFile = await cli(dir, ['--json', 'doctor'], { CRONIUM_TEAM_KEY_FILE: file });
    expect(JSON.parse(fromFile.stdout).secretStore).toEqual({
      kind: 'team-key',
      location: file,
      reason: `secrets are sealed with the team key in the file ${file} (CRONIUM_TEAM_KEY_FILE)`,
    });
    const wrong = await cli(dir, ['doctor'], { CRONIUM_TEAM_KEY: await newKey() });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(
      'secret store    unusable: The team key in CRONIUM_TEAM_KEY is not the one',
    );
    expectNoKey(key, dir);
  });

  it('a local store with data-key secrets is refused until `team-key adopt` re-seals them all at once', async () => {
    const dir = dataDir();
    expect((await cli(dir, ['var', 'set', 'a', 'one', '--secret'])).code).toBe(0);
    expect((await cli(dir, ['var', 'set', 'b', '{"n":2}', '--secret'])).code).toBe(0);
    const key = await newKey();
    const refused = await cli(dir, ['var', 'get', 'a'], { CRONIUM_TEAM_KEY: key });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /This data directory holds \d+ secrets sealed with its own data key, not a team key\. To seal them with the team key, run `cronium team-key adopt`/,
    );
    const noKey = await cli(dir, ['team-key', 'adopt']);
    expect(noKey.stderr).toContain('No team key was given: set CRONIUM_TEAM_KEY or CRONIUM_TEAM_KEY_FILE');
    const adopted = await cli(dir, ['--json', 'team-key', 'adopt'], { CRONIUM_TEAM_KEY: key });
    expect(adopted.code).toBe(0);
    expect(JSON.parse(adopted.stdout).resealed).toBeGreaterThanOrEqual(2);
    expect((await cli(dir, ['var', 'get', 'a'], { CRONIUM_TEAM_KEY: key })).stdout).toBe('one\n');
    expect((await cli(dir, ['var', 'get', 'b'], { CRONIUM_TEAM_KEY: key })).stdout).toBe('{"n":2}\n');
    // From now on the store asks for the team key, even where the data key is at hand.
    expect((await cli(dir, ['var', 'get', 'a'])).stderr).toContain(
      'sealed with a team key, and none was given',
    );
    const again = await cli(dir, ['team-key', 'adopt'], { CRONIUM_TEAM_KEY: key });
    expect(again.stderr).toContain('already sealed with this team key');
    expectNoKey(key, dir);
  });
});

describe('a shared store', () => {
  it('without a team key is an error at start; with one, it seals with the team key', async () => {
    const dir = dataDir();
    await expect(composeCore({ dataDir: dir, keychain: null, sharedStore: true, env: {} })).rejects.toThrow(
      /This store is shared, so its secrets are sealed with the team key, and none was given: set CRONIUM_TEAM_KEY/,
    );
    const key = (await newKey()).trim();
    const service = new CroniumService(
      await composeCore({ dataDir: dir, keychain: null, sharedStore: true, env: { CRONIUM_TEAM_KEY: key } }),
    );
    try {
      await service.setVariable({ key: 's', value: 'v', secret: true });
      expect(await service.secretStoreInfo()).toMatchObject({
        kind: 'team-key',
        location: 'CRONIUM_TEAM_KEY',
      });
      expect(await service.getVariableValue('s')).toBe('v');
    } finally {
      await service.close();
    }
    expect(readdirSync(dir)).not.toContain('secret.key');
  });
});
