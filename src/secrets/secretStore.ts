import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

import { CroniumError } from '../core/errors.ts';

/**
 * Encrypts secrets at rest. Ciphertexts carry a format prefix ("v1:" here, Electron's safeStorage its
 * own) so that the format can change without guessing.
 */
export interface SecretStore {
  readonly name: string;
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
}

const FORMAT = 'v1';

/** Headless secret store: AES-256-GCM with a random key kept in a 0600 file in the data directory. */
export class KeyFileSecretStore implements SecretStore {
  readonly name = 'key-file';
  private readonly key: Buffer;

  constructor(dataDir: string) {
    this.key = loadOrCreateKey(join(dataDir, 'secret.key'));
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${FORMAT}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(sealed: string): string {
    const [format, payload] = splitFormat(sealed);
    if (format !== FORMAT) {
      throw new CroniumError(
        'secrets_unavailable',
        `A secret was stored by another secret store (${format}) and cannot be read here.`,
      );
    }
    const raw = Buffer.from(payload, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new CroniumError(
        'secrets_unavailable',
        'A stored secret could not be decrypted (was secret.key replaced?).',
        { cause },
      );
    }
  }
}

export function splitFormat(sealed: string): [string, string] {
  const at = sealed.indexOf(':');
  if (at < 0) throw new CroniumError('secrets_unavailable', 'A stored secret has no format prefix.');
  return [sealed.slice(0, at), sealed.slice(at + 1)];
}

function loadOrCreateKey(path: string): Buffer {
  try {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length === 32) return key;
    throw new CroniumError(
      'secrets_unavailable',
      `${path} is not a valid key file (expected 32 bytes, base64).`,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  try {
    // 'wx': never overwrite a key another process created a moment ago.
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, key.toString('base64') + '\n');
    closeSync(fd);
    chmodSync(path, 0o600);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKey(path);
    throw err;
  }
}
