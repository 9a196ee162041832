/** The import planner's pieces: a host's spec, its identity and name, and OpenSSH's defaults. */
import { homedir, hostname, userInfo } from 'node:os';

import type { JumpHop, SshConfigContext } from '../ssh/sshConfig.ts';

/** OpenSSH's default identity files, in the order ssh tries them (ssh_config(5) IdentityFile). */
export const DEFAULT_IDENTITIES = [
  'id_rsa',
  'id_ecdsa',
  'id_ecdsa_sk',
  'id_ed25519',
  'id_ed25519_sk',
  'id_dsa',
];

/** ProxyJump chains longer than this are refused (and a loop is one). */
export const MAX_JUMP_DEPTH = 10;

/** A host as it will be saved, before names are given to its hops. */
export interface Spec {
  source: string;
  /** The Host alias this spec is the entry of (null for a hop that is not one). */
  alias: string | null;
  host: string;
  port: number;
  username: string;
  auth: { type: 'key'; keyPath: string } | { type: 'agent' };
  jump: Spec | null;
  lookupHost: string;
  knownHostsFiles: string[];
  notes: string[];
}

/** A host the import cannot save; its message says why (shown beside the alias). */
export class Unimportable extends Error {}

/** What makes two specs the same server: login, address, auth and jump chain (one saved server each). */
export function identity(spec: Spec): string {
  const auth = spec.auth.type === 'key' ? `key:${spec.auth.keyPath}` : 'agent';
  return `${spec.username}@${spec.host}:${spec.port}/${auth}/${spec.jump ? identity(spec.jump) : ''}`;
}

/** A Host alias as a server name: characters a name may not have become "-". */
export function nameFor(text: string): string | null {
  const name = text
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return name || null;
}

/** This process's user and machine, as ssh_config's `~` and %-tokens see them. */
export function defaultContext(): SshConfigContext {
  const info = userInfo();
  return {
    home: homedir(),
    localUser: info.username,
    localHost: hostname(),
    uid: info.uid,
    env: process.env,
  };
}

/** A ProxyJump hop as written: `[user@]host[:port]`. */
export function hopText(hop: JumpHop): string {
  const host = hop.host.includes(':') ? `[${hop.host}]` : hop.host;
  return `${hop.user ? hop.user + '@' : ''}${host}${hop.port ? ':' + hop.port : ''}`;
}
