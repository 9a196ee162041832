/**
 * OpenSSH known_hosts files (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"), read to import trusted host keys:
 * `[marker] hostnames keytype base64-key [comment]`, where hostnames is a comma-separated pattern list
 * (`*`, `?`, `!negation`, `[host]:port` for a port other than 22) or one hashed name `|1|salt|hash`
 * (HMAC-SHA1 of the name keyed with the salt, both base64). `@cert-authority` lines are certificate
 * authorities, not host keys, and are left out; `@revoked` keys are never trusted.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { fingerprintOf, keyTypeOf } from './hostKeys.ts';
import { matchPatternList } from './sshConfig.ts';

/** One key line. */
export interface KnownHostsEntry {
  marker: 'revoked' | 'cert-authority' | null;
  /** The hostnames field as written (a pattern list or one hashed name). */
  hosts: string;
  keyType: string;
  /** OpenSSH's SHA256 fingerprint of the key. */
  fingerprint: string;
  file: string;
  line: number;
}

/** Parses known_hosts text; lines that are not key lines (comments, blanks, garbage) are left out. */
export function parseKnownHosts(text: string, file: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'] = null;
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!.toLowerCase();
      if (m !== '@revoked' && m !== '@cert-authority') return;
      marker = m.slice(1) as KnownHostsEntry['marker'];
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) return;
    const blob = Buffer.from(key, 'base64');
    // The blob names its own type: a line whose type field and key disagree is corrupt.
    if (blob.length < 8 || keyTypeOf(blob) !== keyType) return;
    entries.push({ marker, hosts, keyType, fingerprint: fingerprintOf(blob), file, line: i + 1 });
  });
  return entries;
}

/** Reads and parses known_hosts files; a file that does not exist contributes nothing. */
export function readKnownHostsFiles(paths: string[]): { entries: KnownHostsEntry[]; notes: string[] } {
  const entries: KnownHostsEntry[] = [];
  const notes: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        notes.push(`${path} could not be read: ${(err as Error).message}.`);
      continue;
    }
    entries.push(...parseKnownHosts(text, path));
  }
  return { entries, notes };
}

/** The name a host has in known_hosts: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

/** Whether an entry's hostnames field names `name` (see knownHostsName), hashed or as patterns. */
export function entryMatches(entry: KnownHostsEntry, name: string): boolean {
  if (entry.hosts.startsWith('|1|')) {
    const [, , salt, hash] = entry.hosts.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  return matchPatternList(name, entry.hosts);
}

/**
 * The order ssh2 offers host key algorithms in (its default list): the key an import trusts is the one
 * the server will be asked for first.
 */
const KEY_PREFERENCE = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'ssh-dss',
];

/**
 * The fingerprints known_hosts marks `@revoked` for `host:port` (looked up as `lookupHost`): OpenSSH
 * refuses such a key whatever else is known (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT).
 */
export function revokedKeysFor(entries: KnownHostsEntry[], lookupHost: string, port: number): string[] {
  const name = knownHostsName(lookupHost, port);
  return entries.filter((e) => e.marker === 'revoked' && entryMatches(e, name)).map((e) => e.fingerprint);
}

/**
 * The key to trust for `host:port` (looked up as `lookupHost`, e.g. a HostKeyAlias): of the matching
 * non-revoked host keys, the type ssh2 prefers; null when none is known. Keys of several types are all
 * fine; the connection asks the server for the trusted type first (see HostKeyVerifier.preferredAlgorithms).
 */
export function hostKeyFor(
  entries: KnownHostsEntry[],
  lookupHost: string,
  port: number,
): { keyType: string; fingerprint: string; others: number } | null {
  const name = knownHostsName(lookupHost, port);
  const matching = entries.filter((e) => entryMatches(e, name));
  const revoked = new Set(matching.filter((e) => e.marker === 'revoked').map((e) => e.fingerprint));
  // Only types ssh2 can ask a server for (security keys' and certificates' entries cannot be used).
  const keys = matching.filter(
    (e) => e.marker === null && !revoked.has(e.fingerprint) && KEY_PREFERENCE.includes(e.keyType),
  );
  if (!keys.length) return null;
  const rank = (t: string) => KEY_PREFERENCE.indexOf(t);
  const best = [...keys].sort((a, b) => rank(a.keyType) - rank(b.keyType))[0]!;
  const distinct = new Set(keys.map((k) => k.fingerprint));
  return { keyType: best.keyType, fingerprint: best.fingerprint, others: distinct.size - 1 };
}
