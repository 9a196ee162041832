/**
 * How a stored server's login becomes what ssh2 needs: key files read and secrets decrypted only when a
 * connection is made, and the checks a key file gets before it is saved.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';

// ssh2's key parser alone, not its index (see src/ssh/ssh2Parts.d.ts).
import keyParser from 'ssh2/lib/protocol/keyParser.js';

import { CroniumError } from '../core/errors.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { PoolTarget } from '../ssh/connectionPool.ts';
import type { SshAuth } from '../ssh/sshConnection.ts';
import type { ServerRecord } from '../store/serverRepo.ts';

/**
 * Connection details for the pool, with secrets decrypted only now.
 * @param agentSocket the SSH agent's socket for agent logins (undefined: none running).
 * @throws CroniumError auth_failed when the key file cannot be read or no agent is running.
 */
export async function poolTargetOf(
  server: ServerRecord,
  secrets: SecretStore,
  agentSocket: string | undefined,
): Promise<PoolTarget> {
  let auth: SshAuth;
  if (server.authType === 'key') {
    let privateKey: Buffer;
    try {
      privateKey = readFileSync(server.keyPath!);
    } catch (err) {
      throw new CroniumError(
        'auth_failed',
        `The key file ${server.keyPath} for ${server.name} cannot be read: ${(err as Error).message}.`,
      );
    }
    auth = {
      type: 'key',
      privateKey,
      passphrase: server.secret ? await secrets.decrypt(server.secret) : undefined,
    };
  } else if (server.authType === 'password') {
    auth = { type: 'password', password: await secrets.decrypt(server.secret!) };
  } else {
    if (!agentSocket)
      throw new CroniumError(
        'auth_failed',
        `${server.name} uses the SSH agent, but no agent is running (SSH_AUTH_SOCK is not set).`,
      );
    auth = { type: 'agent', agentSocket };
  }
  return {
    target: { label: server.name, host: server.host, port: server.port, username: server.username, auth },
    jumpServerId: server.jumpServerId,
  };
}

/** `~` and `~/…` in a key path, as a shell would expand them for the current user. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** Returns why a private key file cannot be used, or null when ssh2 can read it. */
export function checkPrivateKey(path: string, passphrase: string | undefined): string | null {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    return `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`;
  }
  const parsed = keyParser.parseKey(data, passphrase);
  if (parsed instanceof Error) {
    if (/encrypted/i.test(parsed.message) && !passphrase) return 'the key is encrypted: give its passphrase';
    if (/bad passphrase|decrypt/i.test(parsed.message)) return 'the passphrase does not open this key';
    return `not a private key ssh2 can read (${parsed.message})`;
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || !key.isPrivateKey()) return 'this is not a private key';
  return null;
}
