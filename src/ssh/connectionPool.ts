import { CroniumError } from '../core/errors.ts';
import type { HostKeyVerifier } from './hostKeys.ts';
import { SshConnection, type SshTarget } from './sshConnection.ts';

export interface PoolTarget {
  target: SshTarget;
  jumpServerId: string | null;
}

export interface PoolOptions {
  hostKeys: HostKeyVerifier;
  /** Resolves a saved server into connection details (secrets decrypted just in time). */
  resolve: (serverId: string) => PoolTarget;
  idleMs?: number;
  readyTimeoutMs?: number;
  /**
   * Executions sharing one connection. An execution uses up to two channels at once, and OpenSSH's default
   * MaxSessions is 10, so five per connection stays under it; more executions open another connection.
   */
  leasesPerConnection?: number;
}

export interface Lease {
  readonly connection: SshConnection;
  /** True when this lease opened the connection (so its connect time is this execution's). */
  readonly fresh: boolean;
  release(): void;
}

interface Entry {
  connection: SshConnection;
  leases: number;
  idleTimer: NodeJS.Timeout | null;
  releaseJump: (() => void) | null;
  /** Closed as soon as its last lease ends, and never leased again. */
  retire?: boolean;
}

interface Pending {
  promise: Promise<Entry>;
  claims: number;
}

/** Keeps SSH connections per server, reuses them across executions and closes them when idle. */
export class ConnectionPool {
  private readonly entries = new Map<string, Entry[]>();
  private readonly pending = new Map<string, Pending[]>();
  private readonly idleMs: number;
  private readonly perConnection: number;
  private closedAll = false;

  private readonly options: PoolOptions;

  constructor(options: PoolOptions) {
    this.options = options;
    this.idleMs = options.idleMs ?? 60_000;
    this.perConnection = options.leasesPerConnection ?? 5;
  }

  async acquire(serverId: string, signal?: AbortSignal): Promise<Lease> {
    if (this.closedAll) throw new CroniumError('cancelled', 'The connection pool is shut down.');
    const open = (this.entries.get(serverId) ?? []).find(
      (e) => e.connection.isOpen && !e.retire && e.leases < this.perConnection,
    );
    if (open) return this.lease(open, false);

    // Share a connection that is being opened rather than dialing the same server many times at once.
    const pendings = this.pending.get(serverId) ?? [];
    const shared = pendings.find((p) => p.claims < this.perConnection);
    if (shared) {
      shared.claims++;
      const entry = await shared.promise;
      if (entry.connection.isOpen) return this.lease(entry, false);
      return this.acquire(serverId, signal);
    }

    const pending: Pending = { promise: this.open(serverId, signal), claims: 1 };
    this.pending.set(serverId, [...pendings, pending]);
    try {
      const entry = await pending.promise;
      return this.lease(entry, true);
    } finally {
      this.pending.set(
        serverId,
        (this.pending.get(serverId) ?? []).filter((p) => p !== pending),
      );
    }
  }

  private async open(serverId: string, signal?: AbortSignal): Promise<Entry> {
    const { target, jumpServerId } = this.options.resolve(serverId);
    let jumpLease: Lease | null = null;
    if (jumpServerId) {
      if (jumpServerId === serverId)
        throw new CroniumError('invalid_input', `${target.label} cannot be its own jump server.`);
      jumpLease = await this.acquire(jumpServerId, signal);
    }
    let connection: SshConnection;
    try {
      connection = await SshConnection.connect(target, {
        hostKeys: this.options.hostKeys,
        readyTimeoutMs: this.options.readyTimeoutMs,
        signal,
        via: jumpLease?.connection,
      });
    } catch (err) {
      jumpLease?.release();
      throw err;
    }
    const entry: Entry = {
      connection,
      leases: 0,
      idleTimer: null,
      releaseJump: jumpLease ? () => jumpLease.release() : null,
    };
    this.entries.set(serverId, [...(this.entries.get(serverId) ?? []), entry]);
    connection.onClose(() => this.drop(serverId, entry));
    return entry;
  }

  private lease(entry: Entry, fresh: boolean): Lease {
    entry.leases++;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    let released = false;
    return {
      connection: entry.connection,
      fresh,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.leases === 0 && entry.retire) entry.connection.close();
        else if (entry.leases === 0 && entry.connection.isOpen) {
          entry.idleTimer = setTimeout(() => entry.connection.close(), this.idleMs);
          entry.idleTimer.unref();
        }
      },
    };
  }

  private drop(serverId: string, entry: Entry): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.releaseJump?.();
    entry.releaseJump = null;
    this.entries.set(
      serverId,
      (this.entries.get(serverId) ?? []).filter((e) => e !== entry),
    );
  }

  /** Closes a server's idle connections now (settings changed, or the user asked); busy ones close when released. */
  closeServer(serverId: string): void {
    for (const entry of this.entries.get(serverId) ?? []) {
      if (entry.leases === 0) entry.connection.close();
      else entry.retire = true;
    }
  }

  closeAll(): void {
    this.closedAll = true;
    for (const list of this.entries.values()) for (const entry of list) entry.connection.close();
    this.entries.clear();
  }
}
