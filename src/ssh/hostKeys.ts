import { createHash } from 'node:crypto';

import { CroniumError } from '../core/errors.ts';
import type { KnownHostRepo } from '../store/knownHostRepo.ts';

/** OpenSSH's fingerprint format: "SHA256:" + unpadded base64 of the key blob's SHA-256. */
export function fingerprintOf(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type is the first string in the SSH wire-format key blob ("ssh-ed25519", ...). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('ascii') || 'unknown';
}

/** The host key types ssh2 can ask a server for by name (its serverHostKey algorithms, RSA aside). */
const SIGNATURE_TYPES = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'ssh-dss',
]);

/**
 * Trust on first use. 'accept-new' records an unknown key (the CLI's default, like OpenSSH's
 * StrictHostKeyChecking=accept-new); 'ask' refuses it with host_key_unknown so a UI can show the
 * fingerprint and call trust(). A changed key is always refused, with both fingerprints.
 */
export type UnknownKeyPolicy = 'accept-new' | 'ask';

export class HostKeyVerifier {
  private readonly knownHosts: KnownHostRepo;
  private readonly unknownPolicy: UnknownKeyPolicy;

  constructor(knownHosts: KnownHostRepo, unknownPolicy: UnknownKeyPolicy) {
    this.knownHosts = knownHosts;
    this.unknownPolicy = unknownPolicy;
  }

  /**
   * The host key algorithms to ask `host:port` for first: those of the key type trusted for it (a key
   * imported from known_hosts may be of any type the server has), as OpenSSH orders HostKeyAlgorithms by
   * the known keys. Undefined when no key is trusted yet (ssh2's own order applies).
   */
  async preferredAlgorithms(host: string, port: number): Promise<string[] | undefined> {
    const known = await this.knownHosts.get(host, port);
    if (!known || !SIGNATURE_TYPES.has(known.keyType)) return undefined;
    return known.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [known.keyType];
  }

  /** Returns null when the key is trusted, or the error that refuses it. */
  async check(host: string, port: number, keyBlob: Buffer, label: string): Promise<CroniumError | null> {
    const fingerprint = fingerprintOf(keyBlob);
    const keyType = keyTypeOf(keyBlob);
    const known = await this.knownHosts.get(host, port);
    if (!known) {
      if (this.unknownPolicy === 'accept-new') {
        await this.knownHosts.trust(host, port, keyType, fingerprint);
        return null;
      }
      return new CroniumError(
        'host_key_unknown',
        `The host key of ${label} (${host}:${port}) is not known yet: ${keyType} ${fingerprint}. Check it and trust it to connect.`,
        { details: { host, port: String(port), keyType, fingerprint } },
      );
    }
    if (known.fingerprint === fingerprint) return null;
    return new CroniumError(
      'host_key_mismatch',
      `The host key of ${label} (${host}:${port}) has changed: it was ${known.keyType} ${known.fingerprint}, the server now offers ${keyType} ${fingerprint}. ` +
        'This may be a reinstalled server or an attack; the connection was refused. Re-trust the key only if you know why it changed.',
      {
        details: {
          host,
          port: String(port),
          keyType,
          fingerprint,
          expectedFingerprint: known.fingerprint,
          expectedKeyType: known.keyType,
        },
      },
    );
  }
}
