/**
 * What monitoring reads from the core at scrape time (HostApi.monitorStatus): the pool's and the tunnel
 * manager's live counts, the scheduler lease, and a real query of the store.
 */
import { statSync } from 'node:fs';

import type { MonitorStatus, SchedulerControl } from '../contract.ts';
import type { TunnelManager } from '../runtime/tunnelManager.ts';
import type { ConnectionPool } from '../ssh/connectionPool.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';

export interface MonitorDeps {
  pool: ConnectionPool;
  tunnels: TunnelManager;
  history: HistoryRepo;
  /**
   * The store's file (SQLite), checked to be the one opened: an open handle keeps answering from a file
   * whose data directory was removed, while every other process would find no store there. Null for a
   * store without a file of its own.
   */
  storeFile: string | null;
  /** The scheduler running in this process, if any. */
  scheduler: () => SchedulerControl | null;
  /** The runtime API's port while it listens, else null. */
  runtimePort: () => number | null;
}

/** Builds the monitorStatus function of a core; the store's file is identified now (as opened). */
export function monitor(deps: MonitorDeps): () => Promise<MonitorStatus> {
  const opened = deps.storeFile === null ? null : fileIdentity(deps.storeFile);
  return async () => ({
    sshConnections: deps.pool.openConnections(),
    openTunnels: deps.tunnels.openTunnels,
    store: await storeStatus(deps, opened),
    schedulerLeaseHeld: deps.scheduler()?.holding ?? null,
    runtimePort: deps.runtimePort(),
  });
}

async function storeStatus(deps: MonitorDeps, opened: string | null): Promise<MonitorStatus['store']> {
  const started = performance.now();
  try {
    const queuedExecutions = await deps.history.countQueued();
    if (deps.storeFile !== null) {
      const now = fileIdentity(deps.storeFile);
      if (now === null)
        return {
          reachable: false,
          error: `The database file ${deps.storeFile} is gone (its data directory removed?).`,
        };
      if (now !== opened)
        return {
          reachable: false,
          error: `The database file ${deps.storeFile} was replaced by another file.`,
        };
    }
    return {
      reachable: true,
      queuedExecutions,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
    };
  } catch (err) {
    return { reachable: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The file's device and inode, or null when there is none at `path`. */
function fileIdentity(path: string): string | null {
  try {
    const { dev, ino } = statSync(path);
    return `${dev}:${ino}`;
  } catch {
    return null;
  }
}
