import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { CroniumError } from '../core/errors.ts';
import type { Sql } from '../store/sql.ts';
import type { Keychain } from './keychain.ts';

/**
 * Encrypts secrets at rest. Ciphertexts carry a format prefix ("v1:" AES-256-GCM with the data key; "ss1:"
 * the desktop app's old Electron safeStorage format, read only to migrate it) so that the format can
 * change without guessing.
 */
export interface SecretStore {
  readonly name: string;
  /** Seals a value ("v1:…"). Async: the data key is found on first use (keychain, settings in the store). */
  encrypt(plain: string): Promise<string>;
  /** Opens a sealed value. @throws CroniumError secrets_unavailable (wrong key, unknown format). */
  decrypt(sealed: string): Promise<string>;
}

const FORMAT = 'v1';
/** The desktop app's former format: Electron safeStorage, which only the desktop app can open. */
export const LEGACY_FORMAT = 'ss1';
const KEY_FILE = 'secret.key';
const CHECK_PLAIN = 'cronium-data-key-check';

/** AES-256-GCM with a 32-byte key: "v1:" + base64(iv[12] | tag[16] | ciphertext). */
export function sealV1(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${FORMAT}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

/** Opens a "v1:" value; throws secrets_unavailable when the key does not open it. */
export function openV1(key: Buffer, payload: string, where: string): string {
  const raw = Buffer.from(payload, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new CroniumError(
      'secrets_unavailable',
      `A stored secret could not be decrypted with the data key from ${where}.`,
      { cause },
    );
  }
}

/** Headless secret store: AES-256-GCM with a random key kept in a 0600 file in the data directory. */
export class KeyFileSecretStore implements SecretStore {
  readonly name = 'key-file';
  private readonly key: Buffer;

  constructor(dataDir: string) {
    this.key = readKeyFile(join(dataDir, KEY_FILE)) ?? createKeyFile(join(dataDir, KEY_FILE));
  }

  async encrypt(plain: string): Promise<string> {
    return sealV1(this.key, plain);
  }

  async decrypt(sealed: string): Promise<string> {
    const [format, payload] = splitFormat(sealed);
    if (format !== FORMAT) throw unreadableFormat(format);
    return openV1(this.key, payload, KEY_FILE);
  }
}

export function splitFormat(sealed: string): [string, string] {
  const at = sealed.indexOf(':');
  if (at < 0) throw new CroniumError('secrets_unavailable', 'A stored secret has no format prefix.');
  return [sealed.slice(0, at), sealed.slice(at + 1)];
}

function unreadableFormat(format: string): CroniumError {
  if (format === LEGACY_FORMAT)
    return new CroniumError(
      'secrets_unavailable',
      'A secret was sealed by an older Cronium Desktop (format ss1, Electron safeStorage) and cannot be read here. Open Cronium Desktop once on this data directory: it converts such secrets to the shared secret store. Then run this again.',
    );
  return new CroniumError(
    'secrets_unavailable',
    `A secret was stored in an unknown format (${format}) and cannot be read here.`,
  );
}

/** Where the data key was found, and why there: what `cronium doctor` shows. */
export interface SecretStoreInfo {
  /**
   * "keychain": the OS keychain holds the data key; "key-file": secret.key (0600) in the data dir;
   * "team-key": the team key (CRONIUM_TEAM_KEY or CRONIUM_TEAM_KEY_FILE; src/secrets/teamKey.ts).
   */
  kind: 'keychain' | 'key-file' | 'team-key';
  /** The keychain's name ("Secret Service", "macOS Keychain", …), the key file's path, or where the team key is. */
  location: string;
  /** One sentence: why this one (e.g. why the keychain could not be used). */
  reason: string;
}

export interface DataKeyStoreOptions {
  dataDir: string;
  db: Sql;
  /** The OS keychain, or null where none is to be used (then the key file is). */
  keychain: Keychain | null;
  /** Why there is no keychain, when keychain is null (shown as the reason for the key file). */
  noKeychainReason?: string;
  /**
   * Finds the OS keychain when the data key is first needed (osKeychain: its native module is loaded only
   * then, so a command that touches no secret never pays for it); when given, it replaces `keychain` and
   * `noKeychainReason`.
   */
  findKeychain?: () => { keychain: Keychain | null; reason: string | null };
  /** Opens "ss1:" values (the desktop app passes Electron safeStorage); absent elsewhere. */
  legacyDecrypt?: (sealed: string) => string;
}

/**
 * The one secret store of a data directory, shared by the desktop app, the CLI and browser mode: values
 * are sealed "v1:" (AES-256-GCM) with one random 256-bit data key, which lives in the OS keychain where
 * there is one (entry "Cronium" / "data-key:<store id>") and otherwise in `secret.key` (mode 0600).
 *
 * The key is found on first use, not at construction, so commands that touch no secret never wait on a
 * keychain. Rules, in order: a key in the keychain is used; else an existing secret.key is moved into the
 * keychain (written, read back, then the file is removed); else a new key is made there. Where the keychain
 * cannot be reached, secret.key is used (made if the store has no secrets yet). A check value sealed with
 * the key (settings "secrets.key_check") tells a wrong or missing key apart from a damaged secret: a new
 * key is never made for a store whose secrets were sealed with another one.
 *
 * Errors: CroniumError 'secrets_unavailable' with a sentence saying what to do.
 */
export class DataKeySecretStore implements SecretStore {
  readonly name = 'data-key';
  private readonly options: DataKeyStoreOptions;
  private resolved: Promise<{ key: Buffer; info: SecretStoreInfo }> | null = null;

  constructor(options: DataKeyStoreOptions) {
    this.options = options;
  }

  /** Where the data key is (finding or making it now if needed). */
  async info(): Promise<SecretStoreInfo> {
    return (await this.resolve()).info;
  }

  async encrypt(plain: string): Promise<string> {
    return sealV1((await this.resolve()).key, plain);
  }

  async decrypt(sealed: string): Promise<string> {
    const [format, payload] = splitFormat(sealed);
    if (format === LEGACY_FORMAT && this.options.legacyDecrypt) return this.options.legacyDecrypt(sealed);
    if (format !== FORMAT) throw unreadableFormat(format);
    const { key, info } = await this.resolve();
    return openV1(key, payload, info.location);
  }

  /** The key, found once (a failure is not kept: the next call tries again, e.g. after an unlock). */
  private resolve(): Promise<{ key: Buffer; info: SecretStoreInfo }> {
    this.resolved ??= this.findKey().catch((err: unknown) => {
      this.resolved = null;
      throw err;
    });
    return this.resolved;
  }

  private async findKey(): Promise<{ key: Buffer; info: SecretStoreInfo }> {
    const { dataDir, db } = this.options;
    const found = this.options.findKeychain?.();
    const keychain = found ? found.keychain : this.options.keychain;
    const filePath = join(dataDir, KEY_FILE);
    const account = `data-key:${await storeId(db)}`;
    const check = await getSetting(db, 'secrets.key_check');
    const fileKey = readKeyFile(filePath);
    let keychainProblem =
      (found ? found.reason : this.options.noKeychainReason) ?? 'no OS keychain is configured';
    if (keychain) {
      try {
        const stored = keychain.get(account);
        if (stored) {
          const key = decodeKey(stored, `the ${keychain.name} entry ${account}`);
          verify(check, key, keychain.name);
          // A move that stopped between writing the keychain and removing the file: finish it.
          if (fileKey?.equals(key)) removeKeyFile(filePath);
          return this.chosen(key, {
            kind: 'keychain',
            location: keychain.name,
            reason: `the data key is in the ${keychain.name}`,
          });
        }
        if (fileKey || !check) {
          const key = fileKey ?? randomBytes(32);
          if (fileKey) verify(check, key, KEY_FILE);
          keychain.set(account, key.toString('base64'));
          if (keychain.get(account) !== key.toString('base64'))
            throw new Error(`the ${keychain.name} did not return the key it was given`);
          if (fileKey) removeKeyFile(filePath);
          return this.chosen(key, {
            kind: 'keychain',
            location: keychain.name,
            reason: fileKey
              ? `the data key was moved from ${KEY_FILE} into the ${keychain.name}`
              : `a new data key was stored in the ${keychain.name}`,
          });
        }
        keychainProblem = `the ${keychain.name} holds no data key for this data directory`;
      } catch (err) {
        if (err instanceof CroniumError) throw err;
        keychainProblem = `the ${keychain.name} cannot be used: ${(err as Error).message}`;
      }
    }
    if (!fileKey && check)
      throw new CroniumError(
        'secrets_unavailable',
        `This data directory's secrets are sealed with a data key that is not here: ${keychainProblem}, and there is no ${KEY_FILE}. Run Cronium where the OS keychain that holds it is unlocked (the desktop session that stored it).`,
      );
    const key = fileKey ?? createKeyFile(filePath);
    verify(check, key, KEY_FILE);
    return this.chosen(key, {
      kind: 'key-file',
      location: filePath,
      reason: `no OS keychain (${keychainProblem}), so the data key is in ${KEY_FILE} (mode 0600)`,
    });
  }

  /** Records the check value for a key in use (first use of a store, or a store from before checks). */
  private async chosen(key: Buffer, info: SecretStoreInfo) {
    const { db } = this.options;
    await db.run(
      "INSERT INTO settings (key, value) VALUES ('secrets.key_check', ?) ON CONFLICT (key) DO NOTHING",
      [sealV1(key, CHECK_PLAIN)],
    );
    // Two processes making a first key at once: only the one whose check landed may go on.
    verify(await getSetting(db, 'secrets.key_check'), key, info.location);
    return { key, info };
  }
}

function verify(check: string | null, key: Buffer, where: string): void {
  if (!check) return;
  const [, payload] = splitFormat(check);
  try {
    if (openV1(key, payload, where) === CHECK_PLAIN) return;
  } catch {
    // reported below
  }
  throw new CroniumError(
    'secrets_unavailable',
    `The data key in ${where} is not the one this data directory's secrets were sealed with.`,
  );
}

async function getSetting(db: Sql, key: string): Promise<string | null> {
  const row = await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
  return row?.value ?? null;
}

/** A random id per data directory, naming its keychain entry (stable when the folder moves). */
async function storeId(db: Sql): Promise<string> {
  await db.run(
    "INSERT INTO settings (key, value) VALUES ('secrets.store_id', ?) ON CONFLICT (key) DO NOTHING",
    [randomUUID()],
  );
  return (await getSetting(db, 'secrets.store_id'))!;
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32)
    throw new CroniumError(
      'secrets_unavailable',
      `${where} is not a valid data key (expected 32 bytes, base64).`,
    );
  return key;
}

/** Removes secret.key once its key is in the keychain (another process may have done so already). */
function removeKeyFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The key in secret.key, or null when there is no such file. */
function readKeyFile(path: string): Buffer | null {
  try {
    return decodeKey(readFileSync(path, 'utf8'), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function createKeyFile(path: string): Buffer {
  const key = randomBytes(32);
  try {
    // 'wx': never overwrite a key another process created a moment ago.
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, key.toString('base64') + '\n');
    closeSync(fd);
    chmodSync(path, 0o600);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(path)!;
    throw err;
  }
}
