/** What a client sends to import servers from an OpenSSH config, and the plan it gets back. */
import * as z from 'zod';

/**
 * What to import from OpenSSH's files (see src/service/import.ts). Paths are absolute or relative to the
 * caller's directory (the CLI resolves them); left out: ~/.ssh/config, and the known_hosts files OpenSSH
 * would read for each host.
 */
export const importRequestSchema = z.object({
  sshConfig: z.string().min(1).max(4096).optional(),
  knownHosts: z.array(z.string().min(1).max(4096)).max(50).optional(),
  /** Host patterns (ssh_config PATTERNS, `!` negates): only aliases matching one of them. */
  only: z.array(z.string().trim().min(1).max(500)).max(100).default([]),
  /** The names to import (after a preview); left out: every importable one. Jump hops come along. */
  select: z.array(z.string().min(1).max(500)).max(10_000).optional(),
  /** Plan only: nothing is written. */
  dryRun: z.boolean().default(false),
});
export type ImportRequest = z.input<typeof importRequestSchema>;

/** One server an import creates, updates or leaves as it is. */
export interface ImportedServer {
  name: string;
  /** Where it comes from: the Host alias, or the ProxyJump hop (`user@host:port`) of another server. */
  source: string;
  action: 'create' | 'update' | 'unchanged';
  host: string;
  port: number;
  username: string;
  authType: 'key' | 'agent';
  keyPath: string | null;
  /** The name of its jump server (itself part of the import), or null. */
  jump: string | null;
  /**
   * The host key known_hosts has for it: `new` (will be trusted), `trusted` (already), `differs` (this app
   * trusts another key for host:port; left as it is). Null: known_hosts has none (asked on first connect).
   */
  hostKey: { keyType: string; fingerprint: string; status: 'new' | 'trusted' | 'differs' } | null;
  /** True for a server that is only a jump hop of others (no Host entry of its own). */
  hop: boolean;
  /** The servers that jump through this one. */
  requiredBy: string[];
  /** Chosen for import (all by default; with `select`, those named and the hops they need). */
  selected: boolean;
  /** What was decided for it and why (the key used, settings left out). */
  notes: string[];
}

/** What an import found, and (unless a dry run) did. */
export interface ImportPlan {
  /** The ssh_config file read (null: none there). */
  sshConfig: string | null;
  /** The known_hosts files read. */
  knownHosts: string[];
  servers: ImportedServer[];
  /** Hosts that cannot be imported, and why. */
  skipped: { name: string; reason: string }[];
  /** Parts of the files that were not applied (Match criteria, unreadable includes). */
  notes: string[];
  applied: boolean;
}
