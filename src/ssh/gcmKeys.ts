/**
 * ssh2's AES-GCM cipher (the one OpenSSH and ssh2 agree on first when both have AES instructions) makes a
 * new Node cipher for every packet, from the key as a Buffer. Each time Node turns that Buffer into a key
 * object first, and in the bench's 100 MB profile that conversion was most of the cost of the per-packet
 * set-up (about a tenth of the CLI's time, for one packet per 32 KB). Given a KeyObject made once, Node
 * skips it (measured here: the set-up ~8× cheaper). ssh2 has no option for this, so the key of each AES-GCM
 * cipher ssh2 installs on a connection is swapped for a KeyObject of the same bytes as it is installed
 * (after the first key exchange and every re-key). Nothing changes on the wire; when ssh2's internals do
 * not look as expected (another cipher, another ssh2 version), nothing is touched.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';

/** The fields of ssh2's AESGCMCipherNative / AESGCMDecipherNative holding their key (ssh2 1.x). */
const KEY_FIELDS = ['_decipherKey', '_encKey'] as const;

/** Swaps the Buffer key of an AES-GCM (de)cipher for a KeyObject; leaves anything else alone. */
function withKeyObject(cipher: unknown): void {
  if (!cipher || typeof cipher !== 'object') return;
  const c = cipher as Record<string, unknown>;
  const gcm = /-gcm$/.test(String(c._decipherSSLName ?? c._encSSLName ?? ''));
  if (!gcm) return;
  for (const field of KEY_FIELDS) {
    const key = c[field];
    if (Buffer.isBuffer(key)) c[field] = createSecretKey(key) satisfies KeyObject;
  }
}

/**
 * Watches `protocol` (an ssh2 Client's `_protocol`, right after `connect()` made it) so that every cipher
 * and decipher ssh2 installs on it gets its key as a KeyObject (see above). A no-op when the object is
 * not what ssh2 1.x makes.
 */
export function keyObjectsForGcm(protocol: unknown): void {
  if (!protocol || typeof protocol !== 'object') return;
  for (const name of ['_decipher', '_cipher']) {
    const own = Object.getOwnPropertyDescriptor(protocol, name);
    if (!own || !('value' in own) || !own.writable) return;
  }
  for (const name of ['_decipher', '_cipher']) {
    let current: unknown = (protocol as Record<string, unknown>)[name];
    withKeyObject(current);
    Object.defineProperty(protocol, name, {
      configurable: true,
      enumerable: true,
      get: () => current,
      set: (value: unknown) => {
        withKeyObject(value);
        current = value;
      },
    });
  }
}
