/**
 * Issue 9, case 2: one secret store for the desktop app, the CLI and browser mode. The keychain path runs
 * for real (gnome-keyring's Secret Service in a private D-Bus session); the desktop app's old "ss1:"
 * values are migrated with a fake safeStorage; no process hangs when a secret cannot be read.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { afterAll, describe, expect, it } from 'vitest';

import { SafeStorageSecretStore, type SafeStorageLike } from '../electron/safeStorageSecretStore.ts';
import type { Keychain } from '../src/secrets/keychain.ts';
import { DataKeySecretStore, KeyFileSecretStore } from '../src/secrets/secretStore.ts';
import { CroniumService } from '../src/service/service.ts';
import { openStore } from '../src/store/openStore.ts';
import { tempDir } from './support/fixtures.ts';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const root = tempDir('cronium-secrets-');
afterAll(async () => root.remove());
let n = 0;

/** A fresh data dir and HOME (gnome-keyring keeps its keyring files under HOME). */
function place(): { data: string; home: string } {
  const base = join(root.path, String(n++));
  mkdirSync(join(base, 'home'), { recursive: true });
  return { data: join(base, 'data'), home: join(base, 'home') };
}

/** Runs a shell command line (the CLI is `$CRONIUM`), optionally inside a D-Bus session with gnome-keyring. */
function sh(
  p: { data: string; home: string },
  script: string,
  { keyring = false, stdin = '', timeoutMs = 20_000 } = {},
): Promise<Result> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: p.home,
    CRONIUM_DATA_DIR: p.data,
    CRONIUM_RUNTIME_PORT: '0',
    CRONIUM: `${process.execPath} ${join(process.cwd(), 'src/cli/main.ts')}`,
  };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  delete env.CRONIUM_SECRET_STORE;
  const argv = keyring
    ? [
        'dbus-run-session',
        '--',
        'sh',
        '-c',
        `echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; ${script}`,
      ]
    : ['sh', '-c', script];
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(stdin);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

const fakeSafeStorage: SafeStorageLike = {
  isEncryptionAvailable: () => true,
  encryptString: (plain) => Buffer.from(`fake-os-seal:${plain}`),
  decryptString: (sealed) => {
    const text = sealed.toString();
    if (!text.startsWith('fake-os-seal:')) throw new Error('not sealed by this fake');
    return text.slice('fake-os-seal:'.length);
  },
};

describe('the data key in the OS keychain (real Secret Service: gnome-keyring under dbus-run-session)', () => {
  it('stores the key in the keychain (no secret.key), and a second process in the session reads the secrets back', async () => {
    const p = place();
    const r = await sh(
      p,
      `$CRONIUM var set dbpass S3cret-x --secret && $CRONIUM var get dbpass && $CRONIUM doctor --json && ls "$CRONIUM_DATA_DIR"`,
      { keyring: true },
    );
    expect(r.stderr).not.toMatch(/cronium:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('S3cret-x');
    const doctor = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'), r.stdout.lastIndexOf('}') + 1)) as {
      secretStore: { kind: string; location: string };
    };
    expect(doctor.secretStore).toMatchObject({ kind: 'keychain', location: 'Secret Service' });
    expect(r.stdout).not.toContain('secret.key');
    expect(existsSync(join(p.data, 'secret.key'))).toBe(false);
    // The keyring lives on disk under HOME: a later session (another login) still opens the store.
    const again = await sh(p, '$CRONIUM var get dbpass', { keyring: true });
    expect(again.stdout.trim()).toBe('S3cret-x');
  });

  it('without a Secret Service falls back to secret.key (0600) and says so', async () => {
    const p = place();
    const r = await sh(p, '$CRONIUM var set k v4lue-1 --secret && $CRONIUM doctor');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /secret store\s+key-file \(.*secret\.key\): no OS keychain \(the Secret Service cannot be used/,
    );
    expect(statSync(join(p.data, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('moves a v1 store from its key file into the keychain and keeps every secret working', async () => {
    const p = place();
    // Made headless: the key file.
    const made = await sh(p, '$CRONIUM var set old 0ld-secret --secret');
    expect(made.code).toBe(0);
    expect(existsSync(join(p.data, 'secret.key'))).toBe(true);
    const moved = await sh(p, '$CRONIUM var get old && $CRONIUM doctor --json && $CRONIUM var get old', {
      keyring: true,
    });
    expect(moved.code).toBe(0);
    expect(moved.stdout.match(/0ld-secret/g)).toHaveLength(2);
    expect(moved.stdout).toContain('"kind": "keychain"');
    expect(existsSync(join(p.data, 'secret.key'))).toBe(false);
    // Headless again: the key is no longer on disk, and the CLI says where it is instead of inventing one.
    const headless = await sh(p, '$CRONIUM var get old');
    expect(headless.code).not.toBe(0);
    expect(headless.stderr).toMatch(/not here: the Secret Service cannot be used.*no secret\.key/);
    expect(existsSync(join(p.data, 'secret.key'))).toBe(false);
  });
});

describe('the desktop app’s old safeStorage values ("ss1:")', () => {
  async function seedLegacyStore(data: string): Promise<void> {
    // A store as the old desktop app left it: every sealed value in ss1, with a key file beside.
    const legacy = new SafeStorageSecretStore(fakeSafeStorage, null);
    const service = await CroniumService.open({ dataDir: data, keychain: null, runtimePort: 0 });
    void service.close();
    const db = new DatabaseSync(join(data, 'cronium.db'));
    const now = Date.now();
    db.prepare(
      "INSERT INTO servers (id, name, host, port, username, auth_type, secret, created_at, updated_at) VALUES ('s1', 'db', '192.0.2.1', 22, 'u', 'password', ?, ?, ?)",
    ).run(await legacy.encrypt('pw-0f-server'), now, now);
    db.prepare(
      "INSERT INTO jobs (id, name, language, script, env, created_at, updated_at) VALUES ('j1', 'j', 'bash', 'true', ?, ?, ?)",
    ).run(
      JSON.stringify([
        { key: 'PLAIN', value: 'open', secret: false },
        { key: 'TOKEN', value: await legacy.encrypt('t0ken-env'), secret: true },
      ]),
      now,
      now,
    );
    db.prepare(
      "INSERT INTO variables (key, value, secret, updated_at, updated_by) VALUES ('dbpass', ?, 1, ?, 'user')",
    ).run(await legacy.encrypt(JSON.stringify('S3cret-x')), now);
    db.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES ('runtime.jwt_key', ?)").run(
      await legacy.encrypt(Buffer.alloc(32, 7).toString('base64')),
    );
    db.close();
  }

  it('the CLI refuses them with what to do, exits non-zero at once (no hang), and leaves them as they were', async () => {
    const p = place();
    await seedLegacyStore(p.data);
    for (const command of ['$CRONIUM var get dbpass', '$CRONIUM run j --on db', '$CRONIUM doctor']) {
      const r = await sh(p, command, { timeoutMs: 15_000 });
      if (command.includes('doctor')) {
        expect(r.code).toBe(0); // the key itself is fine; only the ss1 values need the desktop app
        continue;
      }
      expect(r.code, `${command}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain('Open Cronium Desktop once on this data directory');
      expect(r.ms).toBeLessThan(10_000);
    }
    const db = new DatabaseSync(join(p.data, 'cronium.db'));
    const { value } = db.prepare("SELECT value FROM variables WHERE key = 'dbpass'").get() as {
      value: string;
    };
    db.close();
    expect(value.startsWith('ss1:')).toBe(true);
  });

  it('the desktop app (safeStorage at hand) re-seals every one at start; then the CLI reads them all', async () => {
    const p = place();
    await seedLegacyStore(p.data);
    const app = await CroniumService.open({
      dataDir: p.data,
      keychain: null,
      runtimePort: 0,
      legacyDecrypt: (sealed) => new SafeStorageSecretStore(fakeSafeStorage, null).openLegacy(sealed),
    });
    expect(await app.resealLegacySecrets()).toBe(4);
    expect(await app.resealLegacySecrets()).toBe(0);
    await app.close();

    const db = await openStore({ dataDir: p.data });
    const sealed = [
      (await db.get<{ secret: string }>("SELECT secret FROM servers WHERE id = 's1'"))!.secret,
      (
        JSON.parse((await db.get<{ env: string }>("SELECT env FROM jobs WHERE id = 'j1'"))!.env) as {
          value: string;
          secret: boolean;
        }[]
      )[1]!.value,
      (await db.get<{ value: string }>("SELECT value FROM variables WHERE key = 'dbpass'"))!.value,
      (await db.get<{ value: string }>("SELECT value FROM settings WHERE key = 'runtime.jwt_key'"))!.value,
    ];
    await db.close();
    const keyFile = new KeyFileSecretStore(p.data);
    expect(sealed.map((s) => s.slice(0, 3))).toEqual(['v1:', 'v1:', 'v1:', 'v1:']);
    expect(await Promise.all(sealed.map((s) => keyFile.decrypt(s)))).toEqual([
      'pw-0f-server',
      't0ken-env',
      '"S3cret-x"',
      Buffer.alloc(32, 7).toString('base64'),
    ]);
    const r = await sh(p, '$CRONIUM var get dbpass');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('S3cret-x');
  });
});

describe('the data key rules (fake keychain)', () => {
  function memoryKeychain(fail = false): Keychain & { entries: Map<string, string> } {
    const entries = new Map<string, string>();
    return {
      name: 'Test Keychain',
      entries,
      get: (a) => {
        if (fail) throw new Error('locked');
        return entries.get(a) ?? null;
      },
      set: (a, v) => {
        if (fail) throw new Error('locked');
        entries.set(a, v);
      },
    };
  }

  it('refuses a keychain key that is not the one the store was sealed with, instead of using it', async () => {
    const dir = tempDir();
    const db = await openStore({ dataDir: dir.path });
    try {
      const keychain = memoryKeychain();
      const first = new DataKeySecretStore({ dataDir: dir.path, db, keychain });
      const sealed = await first.encrypt('x1-secret');
      expect((await first.info()).kind).toBe('keychain');
      expect(existsSync(join(dir.path, 'secret.key'))).toBe(false);
      // Another keychain (another user's, a reset one) with another key under the same entry.
      const other = memoryKeychain();
      const [account] = [...keychain.entries.keys()];
      other.set(account!, Buffer.alloc(32, 1).toString('base64'));
      const wrong = new DataKeySecretStore({ dataDir: dir.path, db, keychain: other });
      await expect(wrong.decrypt(sealed)).rejects.toThrow(
        /not the one this data directory's secrets were sealed with/,
      );
      // An empty keychain and no key file: a clear refusal, not a new key.
      const empty = new DataKeySecretStore({ dataDir: dir.path, db, keychain: memoryKeychain() });
      await expect(empty.decrypt(sealed)).rejects.toThrow(/holds no data key for this data directory/);
      expect(existsSync(join(dir.path, 'secret.key'))).toBe(false);
      // A locked keychain: the key file is used for a store without secrets yet, and the reason is given.
      const dir2 = tempDir();
      const db2 = await openStore({ dataDir: dir2.path });
      const locked = new DataKeySecretStore({ dataDir: dir2.path, db: db2, keychain: memoryKeychain(true) });
      expect(await locked.decrypt(await locked.encrypt('y2-secret'))).toBe('y2-secret');
      expect(await locked.info()).toMatchObject({
        kind: 'key-file',
        reason: expect.stringContaining('locked'),
      });
      await db2.close();
      dir2.remove();
    } finally {
      await db.close();
      dir.remove();
    }
  });
});

describe('no process hangs with nothing left to do', () => {
  const child = (code: string, timeoutMs = 15_000) =>
    new Promise<{ code: number | null; ms: number; stderr: string }>((resolve) => {
      const started = performance.now();
      // A file, not -e: a worker thread inherits the parent's flags, and --input-type would stop it.
      const file = join(root.path, `child-${n++}.mjs`);
      writeFileSync(file, code.replaceAll("'./src/", `'${process.cwd()}/src/`));
      const proc = spawn(process.execPath, [file], {
        cwd: process.cwd(),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      proc.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      proc.on('close', (c) => {
        clearTimeout(timer);
        resolve({ code: c, ms: performance.now() - started, stderr });
      });
    });

  it('a log writer that wrote and flushed lets the process end by itself', async () => {
    const dir = tempDir();
    // Just the table the writer fills (the real schema's foreign keys would want an execution row).
    const db = new DatabaseSync(join(dir.path, 'cronium.db'));
    db.exec('CREATE TABLE log_chunks (execution_id, seq, stream, ts, text, packed)');
    db.close();
    const r = await child(`
      import { LogWriter } from './src/store/logWriter.ts';
      const w = new LogWriter(${JSON.stringify(join(dir.path, 'cronium.db'))});
      w.write([{ executionId: 'e', seq: 0, stream: 'stdout', ts: 1, text: 'hi' }]);
      await w.flush();
    `);
    dir.remove();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a log writer whose thread failed (unopenable database) neither hangs nor stays running', async () => {
    const r = await child(`
      import { LogWriter } from './src/store/logWriter.ts';
      const w = new LogWriter('/nonexistent-dir/x/cronium.db');
      w.write([{ executionId: 'e', seq: 0, stream: 'stdout', ts: 1, text: 'hi' }]);
      await w.flush().then(() => process.exit(3), () => process.exit(4));
    `);
    expect(r.code).toBe(4);
  });

  it('a service that was never closed does not keep the process alive', async () => {
    const dir = tempDir();
    const r = await child(`
      import { CroniumService } from './src/service/service.ts';
      const s = await CroniumService.open({ dataDir: ${JSON.stringify(dir.path)}, keychain: null, runtimePort: 0 });
      await s.listServers();
    `);
    dir.remove();
    expect(r.code).toBe(0);
  });
});
