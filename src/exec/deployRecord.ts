/**
 * Which runner version each server was last found to have, kept in the data directory (runners.json), so
 * that a new process (each `cronium run`) launches the script at once instead of first asking the host
 * whether its runner is there: one exec round trip less per connection. Only a hint: when the runner is
 * gone after all, the launch says so (its "no_runner" control line) and the executor deploys and retries
 * (ScriptPhase). A record older than a day is not trusted, so the full check — which also sweeps work
 * directories left by lost connections (see ensureDeployed) — still runs about daily on every host used.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';

import type { RemoteBundle } from '../remote/assets.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import { ensureDeployed, isDeployed, markDeployed, markStale } from './deploy.ts';

/** How long (ms) a server's record is trusted without asking the host again: a day. */
export const DEPLOY_RECORD_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** One server's entry: the runner's bundle hash and when (epoch ms) the host was last found to have it. */
interface Entry {
  hash: string;
  at: number;
}

export class DeployRecord {
  private readonly file: string;
  private readonly maxAgeMs: number;
  /** The file as read once by this process (and kept up to date by mark()). */
  private entries: Promise<Record<string, Entry>> | null = null;

  /** `file`: the JSON file (created on first mark); `maxAgeMs`: see DEPLOY_RECORD_MAX_AGE_MS. */
  constructor(file: string, maxAgeMs = DEPLOY_RECORD_MAX_AGE_MS) {
    this.file = file;
    this.maxAgeMs = maxAgeMs;
  }

  /** Whether `serverId` was found to have the runner `hash` within the last maxAgeMs. Never throws. */
  async fresh(serverId: string, hash: string, now = Date.now()): Promise<boolean> {
    const entry = (await this.read())[serverId];
    return entry?.hash === hash && now - entry.at >= 0 && now - entry.at < this.maxAgeMs;
  }

  /**
   * Records that `serverId` has the runner `hash` now. The file is replaced whole (written beside it, then
   * renamed), so a concurrent reader never sees half of it; concurrent writers may lose each other's
   * entry, which costs only a check next time. Entries past their age are dropped. Never throws: a data
   * directory that cannot be written just means no hint.
   */
  async mark(serverId: string, hash: string, now = Date.now()): Promise<void> {
    try {
      // Re-read: another process may have recorded other servers meanwhile.
      this.entries = null;
      const entries = { ...(await this.read()) };
      for (const [id, e] of Object.entries(entries)) if (now - e.at >= this.maxAgeMs) delete entries[id];
      entries[serverId] = { hash, at: now };
      this.entries = Promise.resolve(entries);
      const temp = `${this.file}.${process.pid}.tmp`;
      await writeFile(temp, JSON.stringify(entries), { mode: 0o600 });
      await rename(temp, this.file);
    } catch {
      /* no hint this time */
    }
  }

  /** Forgets `serverId`'s entry in this process (its runner was found missing). */
  forget(serverId: string): void {
    void this.read().then((entries) => delete entries[serverId]);
  }

  private read(): Promise<Record<string, Entry>> {
    // A missing or unreadable file, or one that is not what mark() writes, counts as empty.
    this.entries ??= readFile(this.file, 'utf8').then(parseEntries, () => ({}));
    return this.entries;
  }
}

function parseEntries(text: string): Record<string, Entry> {
  const entries: Record<string, Entry> = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return entries;
    for (const [id, e] of Object.entries(parsed as Record<string, Partial<Entry> | null>))
      if (typeof e?.hash === 'string' && typeof e.at === 'number') entries[id] = { hash: e.hash, at: e.at };
  } catch {
    /* not JSON */
  }
  return entries;
}

/**
 * Makes sure the host behind `connection` has this runner, asking it only when neither this connection
 * nor the record (when given) already knows: see ensureDeployed. `recheck`: the launch found the runner
 * missing, so whatever was known is dropped and the host is asked (and deployed to) again.
 * @throws what ensureDeployed throws.
 */
export async function ensureRunner(
  connection: SshConnection,
  bundle: RemoteBundle,
  serverId: string,
  record: DeployRecord | undefined,
  signal?: AbortSignal,
  { recheck = false } = {},
): Promise<void> {
  if (recheck) {
    markStale(connection, bundle);
    record?.forget(serverId);
  } else if (isDeployed(connection, bundle)) return;
  else if (record && (await record.fresh(serverId, bundle.hash))) return markDeployed(connection, bundle);
  await ensureDeployed(connection, bundle, signal);
  await record?.mark(serverId, bundle.hash);
}
