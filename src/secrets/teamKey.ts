/**
 * The team key (issue 13): in a store a team shares, secrets are sealed with one key handed to every
 * worker and member, never with one person's keychain. Given as CRONIUM_TEAM_KEY (base64 of 32 bytes) or
 * CRONIUM_TEAM_KEY_FILE (a file holding that text, readable by its owner only).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

import { CroniumError } from '../core/errors.ts';
import type { Sql } from '../store/sql.ts';
import { rewriteSealed } from './reseal.ts';
import {
  LEGACY_FORMAT,
  openV1,
  sealV1,
  splitFormat,
  type SecretStore,
  type SecretStoreInfo,
} from './secretStore.ts';

export const TEAM_KEY_ENV = 'CRONIUM_TEAM_KEY';
export const TEAM_KEY_FILE_ENV = 'CRONIUM_TEAM_KEY_FILE';
/** The settings row holding a value sealed with the team key, so a wrong key is told apart and refused. */
export const TEAM_KEY_CHECK = 'secrets.team_key_check';
const CHECK_PLAIN = 'cronium-team-key-check';

/** A team key and where it came from (for messages and `cronium doctor`; never the key itself). */
export interface TeamKey {
  key: Buffer;
  /** "environment": CRONIUM_TEAM_KEY; "file": CRONIUM_TEAM_KEY_FILE. */
  source: 'environment' | 'file';
  /** "CRONIUM_TEAM_KEY", or the file's path. */
  location: string;
}

/** A fresh team key: base64 of 32 random bytes (what `cronium team-key new` prints). */
export function newTeamKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * The team key this process was given, or null when neither variable is set (or set empty).
 * @throws CroniumError invalid_input when both are set, when the text is not base64 of 32 bytes, or when
 * the file cannot be read or is readable or writable by its group or others (mode & 077 ≠ 0: refused as
 * ssh refuses such a private key file, "UNPROTECTED PRIVATE KEY FILE"; chmod 600 fixes it). The message
 * never contains the key.
 */
export function teamKeyFromEnv(env: NodeJS.ProcessEnv = process.env): TeamKey | null {
  const text = env[TEAM_KEY_ENV]?.trim();
  const file = env[TEAM_KEY_FILE_ENV]?.trim();
  if (text && file)
    throw new CroniumError(
      'invalid_input',
      `Both ${TEAM_KEY_ENV} and ${TEAM_KEY_FILE_ENV} are set: set only one of them.`,
    );
  if (text) return { key: decodeTeamKey(text, TEAM_KEY_ENV), source: 'environment', location: TEAM_KEY_ENV };
  if (!file) return null;
  let mode: number;
  let content: string;
  try {
    const stat = statSync(file);
    // A device or a directory is no key file (and "chmod 600" would be harmful advice for /dev/null).
    if (!stat.isFile())
      throw new CroniumError(
        'invalid_input',
        `The team key file ${file} (${TEAM_KEY_FILE_ENV}) is not a regular file: give the file \`cronium team-key new\` wrote.`,
      );
    mode = stat.mode;
    content = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CroniumError) throw err;
    throw new CroniumError(
      'invalid_input',
      `The team key file ${file} (${TEAM_KEY_FILE_ENV}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
    );
  }
  if ((mode & 0o077) !== 0)
    throw new CroniumError(
      'invalid_input',
      `The team key file ${file} is accessible by others (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); like ssh with a private key, Cronium refuses it. Run: chmod 600 ${file}`,
    );
  return { key: decodeTeamKey(content, file), source: 'file', location: file };
}

function decodeTeamKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  // Buffer.from skips what is not base64: compare the round trip so a typo is not taken for a key.
  if (key.length !== 32 || key.toString('base64') !== trimmed)
    throw new CroniumError(
      'invalid_input',
      `${where} does not hold a team key (base64 of 32 bytes, as \`cronium team-key new\` prints).`,
    );
  return key;
}

export interface TeamKeyStoreOptions {
  db: Sql;
  /** The key given; null in a store whose secrets are sealed with a team key this process was not given. */
  teamKey: TeamKey | null;
}

/**
 * Seals secrets with the team key: the same "v1:" format as the data key (AES-256-GCM, sealV1), so the
 * columns and readers do not change. The first use checks the key against `secrets.team_key_check`:
 * a wrong key is refused with a sentence saying what to do and is never used to seal. In a store with no
 * check yet, the key becomes the store's team key, unless the store already holds secrets sealed with its
 * own data key: then it is refused until `cronium team-key adopt` re-seals them (adopt()).
 *
 * Errors: CroniumError 'secrets_unavailable'.
 */
export class TeamKeySecretStore implements SecretStore {
  readonly name = 'team-key';
  private readonly options: TeamKeyStoreOptions;
  private checked = false;

  constructor(options: TeamKeyStoreOptions) {
    this.options = options;
  }

  /** Which key seals secrets and from where (checking it now); never the key. */
  async info(): Promise<SecretStoreInfo> {
    const teamKey = await this.key();
    return {
      kind: 'team-key',
      location: teamKey.location,
      reason:
        teamKey.source === 'environment'
          ? `secrets are sealed with the team key from the environment (${TEAM_KEY_ENV})`
          : `secrets are sealed with the team key in the file ${teamKey.location} (${TEAM_KEY_FILE_ENV})`,
    };
  }

  async encrypt(plain: string): Promise<string> {
    return sealV1((await this.key()).key, plain);
  }

  async decrypt(sealed: string): Promise<string> {
    const [format, payload] = splitFormat(sealed);
    if (format === LEGACY_FORMAT)
      throw new CroniumError(
        'secrets_unavailable',
        'A secret was sealed by an older Cronium Desktop (format ss1) and cannot be read with the team key. Open Cronium Desktop once on this data directory without a team key, then run `cronium team-key adopt`.',
      );
    const teamKey = await this.key();
    return openV1(teamKey.key, payload, teamKey.location);
  }

  /**
   * Re-seals every secret of a store sealed with its data key (`from`) with the team key, and records
   * the team key's check, in one transaction: all of them or none. Returns how many values were re-sealed.
   * @throws CroniumError secrets_unavailable when the store already has a team key (a wrong one is refused
   * by the check) or `from` cannot open a value; nothing is written then.
   */
  async adopt(from: SecretStore): Promise<number> {
    const { db } = this.options;
    const teamKey = this.given();
    if ((await getSetting(db, TEAM_KEY_CHECK)) !== null) {
      await this.verify(teamKey);
      throw new CroniumError(
        'secrets_unavailable',
        "This store's secrets are already sealed with this team key: there is nothing to adopt.",
      );
    }
    // One transaction: the check lands with the re-sealed values, or neither does.
    // The data key is found first: inside the transaction its lookup would wait for the transaction.
    await from.encrypt('');
    const count = await db.transaction(async (tx) => {
      const rewritten = await rewriteSealed(tx, async (v) => sealV1(teamKey.key, await from.decrypt(v)));
      await tx.run('INSERT INTO settings (key, value) VALUES (?, ?)', [
        TEAM_KEY_CHECK,
        teamKeyCheckValue(teamKey.key),
      ]);
      return rewritten;
    });
    await this.verify(teamKey);
    this.checked = true;
    return count;
  }

  private given(): TeamKey {
    if (this.options.teamKey) return this.options.teamKey;
    throw new CroniumError(
      'secrets_unavailable',
      `This store's secrets are sealed with a team key, and none was given: set ${TEAM_KEY_ENV} (or ${TEAM_KEY_FILE_ENV}) to the key your team handed out.`,
    );
  }

  /** The key, checked against the store once per process (see the class comment). */
  private async key(): Promise<TeamKey> {
    const teamKey = this.given();
    if (this.checked) return teamKey;
    const { db } = this.options;
    if ((await getSetting(db, TEAM_KEY_CHECK)) === null) {
      let sealed = 0;
      await rewriteSealed(db, () => {
        sealed++;
        return null;
      });
      if (sealed > 0)
        throw new CroniumError(
          'secrets_unavailable',
          `This data directory holds ${sealed} secret${sealed === 1 ? '' : 's'} sealed with its own data key, not a team key. To seal them with the team key, run \`cronium team-key adopt\` here (once, with ${teamKey.source === 'environment' ? TEAM_KEY_ENV : TEAM_KEY_FILE_ENV} set); to keep the data key, unset ${TEAM_KEY_ENV} and ${TEAM_KEY_FILE_ENV}.`,
        );
      // A store without secrets takes the team key; of two processes at once, the first check wins.
      await db.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [
        TEAM_KEY_CHECK,
        teamKeyCheckValue(teamKey.key),
      ]);
    }
    await this.verify(teamKey);
    this.checked = true;
    return teamKey;
  }

  private async verify(teamKey: TeamKey): Promise<void> {
    const check = await getSetting(this.options.db, TEAM_KEY_CHECK);
    if (check !== null) {
      try {
        if (openV1(teamKey.key, splitFormat(check)[1], teamKey.location) === CHECK_PLAIN) return;
      } catch {
        // refused below
      }
    }
    const where = teamKey.source === 'environment' ? TEAM_KEY_ENV : `the file ${teamKey.location}`;
    throw new CroniumError(
      'secrets_unavailable',
      `The team key in ${where} is not the one this store's secrets are sealed with. Ask whoever handed out the team key for the current one and set it in ${TEAM_KEY_ENV} or ${TEAM_KEY_FILE_ENV}; nothing was sealed with the wrong key.`,
    );
  }
}

/**
 * The check value a store records under TEAM_KEY_CHECK for a team key: a known text sealed with it (v1), so
 * a wrong key is told apart before it seals anything.
 */
export function teamKeyCheckValue(key: Buffer): string {
  return sealV1(key, CHECK_PLAIN);
}

/** Whether a store's secrets are sealed with a team key (its check value is recorded). */
export async function hasTeamKey(db: Sql): Promise<boolean> {
  return (await getSetting(db, TEAM_KEY_CHECK)) !== null;
}

async function getSetting(db: Sql, key: string): Promise<string | null> {
  const row = await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
  return row?.value ?? null;
}
