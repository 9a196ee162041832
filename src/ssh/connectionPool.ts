import { abortError, raceSignal, throwIfAborted } from '../core/abort.ts';
import { CroniumError } from '../core/errors.ts';
import type { HostKeyVerifier } from './hostKeys.ts';
import { SshConnection, type ExecOptions, type RemoteProcess, type SshTarget } from './sshConnection.ts';

export interface PoolTarget {
  target: SshTarget;
  jumpServerId: string | null;
}

export interface PoolOptions {
  hostKeys: HostKeyVerifier;
  /** Resolves a saved server into connection details (secrets decrypted just in time). */
  resolve: (serverId: string) => Promise<PoolTarget>;
  /** Milliseconds an unused connection stays open (60 000). */
  idleMs?: number;
  readyTimeoutMs?: number;
  /**
   * Executions sharing one connection. An execution uses up to two channels at once, and OpenSSH's default
   * MaxSessions is 10, so five per connection stays under it; more executions open another connection.
   * A connection whose server refused a session holds at most half its learned limit (at least one).
   */
  leasesPerConnection?: number;
  /**
   * A connection unused for this many milliseconds is checked (a keepalive round trip) before it is
   * leased again, so a connection the server has silently dropped is replaced before anything starts on
   * the host (default 0: every reuse is checked — one round trip — since a connection can die the moment
   * after its last use, and a request on a dead one (a session, a forward) would wait out the keepalive).
   */
  checkIdleAfterMs?: number;
  /** Milliseconds the server has to answer that check before the connection is dropped (5 000). */
  checkTimeoutMs?: number;
  /** Milliseconds a server has to answer a request for a new session (see ConnectOptions; 10 000). */
  sessionAnswerMs?: number;
}

export interface Lease {
  readonly connection: SshConnection;
  /** True when this lease opened the connection (so its connect time is this execution's). */
  readonly fresh: boolean;
  release(): void;
}

interface Entry {
  serverId: string;
  connection: SshConnection;
  leases: number;
  idleTimer: NodeJS.Timeout | null;
  releaseJump: (() => void) | null;
  /** Closed as soon as its last lease ends, and never leased again. */
  retire?: boolean;
  /** The liveness check in progress (shared by everyone leasing the connection meanwhile). */
  check: Promise<boolean> | null;
}

/** A connection being opened, shared by every acquire() that waits for it. */
interface Pending {
  promise: Promise<Entry>;
  /** Leases this connection is promised to (for its capacity). */
  claims: number;
  /** Callers still waiting: the dial is aborted only when the last one gives up. */
  waiters: number;
  controller: AbortController;
}

/**
 * Keeps SSH connections per server, reuses them across executions and closes them when idle. Sessions a
 * connection cannot hold (the server's MaxSessions) go to another connection to the same server.
 */
export class ConnectionPool {
  private readonly entries = new Map<string, Entry[]>();
  private readonly pending = new Map<string, Pending[]>();
  /** The smallest session limit learned per server: new connections to it start with it. */
  private readonly sessionLimits = new Map<string, number>();
  private readonly idleMs: number;
  private readonly perConnection: number;
  private readonly checkIdleAfterMs: number;
  private readonly checkTimeoutMs: number;
  private closedAll = false;

  private readonly options: PoolOptions;

  constructor(options: PoolOptions) {
    this.options = options;
    this.idleMs = options.idleMs ?? 60_000;
    this.perConnection = options.leasesPerConnection ?? 5;
    this.checkIdleAfterMs = options.checkIdleAfterMs ?? 0;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 5_000;
  }

  /**
   * A lease on an open, answering connection to the server `serverId` (a saved server's id): a warm one
   * when there is one with room, else a new one, shared with concurrent callers that also wait for it.
   * A warm connection unused for `checkIdleAfterMs` is checked first and replaced when it does not answer.
   * `signal` aborts this caller's wait only (a shared dial stops when every caller waiting for it has given
   * up); its reason, when a CroniumError, is the error raised (an execution's deadline gives `timed_out`),
   * else `cancelled`. Other errors (CroniumError): those of SshConnection.connect (`auth_failed`,
   * `connection_refused`, `connect_timeout`, `dns`, `host_key_unknown`, `host_key_mismatch`,
   * `connection_lost`), `invalid_input` for a server that is its own jump server, `cancelled` after
   * closeAll(). Call release() on the lease when done with it.
   */
  async acquire(serverId: string, signal?: AbortSignal): Promise<Lease> {
    for (;;) {
      if (this.closedAll) throw new CroniumError('cancelled', 'The connection pool is shut down.');
      throwIfAborted(signal, 'before connecting');
      const open = (this.entries.get(serverId) ?? []).find(
        (e) => e.connection.isOpen && !e.retire && e.leases < this.capacity(e),
      );
      if (open) {
        const lease = await this.checked(open, signal);
        if (lease) return lease;
        continue;
      }

      // Share a connection that is being opened rather than dialing the same server many times at once.
      const pendings = this.pending.get(serverId) ?? [];
      const shared = pendings.find((p) => p.claims < this.perConnection && !p.controller.signal.aborted);
      if (shared) {
        const entry = await this.wait(shared, signal);
        if (entry.connection.isOpen && !entry.retire) return this.lease(entry, false);
        continue;
      }

      const controller = new AbortController();
      const pending: Pending = {
        promise: this.open(serverId, controller.signal),
        claims: 0,
        waiters: 0,
        controller,
      };
      this.pending.set(serverId, [...pendings, pending]);
      const forget = () =>
        this.pending.set(
          serverId,
          (this.pending.get(serverId) ?? []).filter((p) => p !== pending),
        );
      pending.promise.then(forget, forget);
      const entry = await this.wait(pending, signal);
      return this.lease(entry, true);
    }
  }

  /** Waits for a shared dial; giving up withdraws this caller, and the last one to give up stops the dial. */
  private async wait(pending: Pending, signal: AbortSignal | undefined): Promise<Entry> {
    pending.claims++;
    pending.waiters++;
    try {
      return await raceSignal(pending.promise, signal, 'while connecting');
    } catch (err) {
      pending.claims--;
      if (signal?.aborted && --pending.waiters === 0)
        pending.controller.abort(abortError(signal, 'while connecting'));
      throw err;
    }
  }

  /** Leases a warm connection, after checking that it still answers when it has been unused for a while. */
  private async checked(entry: Entry, signal: AbortSignal | undefined): Promise<Lease | null> {
    const stale =
      entry.check !== null ||
      (entry.leases === 0 && performance.now() - entry.connection.lastActiveAt >= this.checkIdleAfterMs);
    const lease = this.lease(entry, false);
    if (!stale) return lease;
    entry.check ??= entry.connection.ping(this.checkTimeoutMs).finally(() => (entry.check = null));
    let alive: boolean;
    try {
      alive = await raceSignal(entry.check, signal, 'while connecting');
    } catch (err) {
      lease.release();
      throw err;
    }
    if (alive) return lease;
    // Nothing has started on it: drop it and connect afresh.
    entry.retire = true;
    lease.release();
    entry.connection.destroy();
    return null;
  }

  /** Leases per connection: the configured number, or half the server's learned session limit. */
  private capacity(entry: Entry): number {
    const limit = entry.connection.maxSessions;
    return Number.isFinite(limit)
      ? Math.min(this.perConnection, Math.max(1, Math.floor(limit / 2)))
      : this.perConnection;
  }

  private async open(serverId: string, signal: AbortSignal): Promise<Entry> {
    const { target, jumpServerId } = await this.options.resolve(serverId);
    let jumpLease: Lease | null = null;
    if (jumpServerId) {
      if (jumpServerId === serverId)
        throw new CroniumError('invalid_input', `${target.label} cannot be its own jump server.`);
      try {
        jumpLease = await this.acquire(jumpServerId, signal);
      } catch (err) {
        // The jump server's own words (its name, address, why), and which server it was the jump for.
        if (!(err instanceof CroniumError) || err.kind === 'cancelled') throw err;
        throw new CroniumError(
          err.kind,
          `${err.message.replace(/\.$/, '')} (the jump server for ${target.label}).`,
          {
            fields: err.fields,
            details: err.details,
            cause: err,
          },
        );
      }
    }
    let connection: SshConnection;
    try {
      connection = await SshConnection.connect(target, {
        hostKeys: this.options.hostKeys,
        readyTimeoutMs: this.options.readyTimeoutMs,
        sessionAnswerMs: this.options.sessionAnswerMs,
        signal,
        via: jumpLease?.connection,
      });
    } catch (err) {
      jumpLease?.release();
      throw err;
    }
    const entry: Entry = {
      serverId,
      connection,
      leases: 0,
      idleTimer: null,
      releaseJump: jumpLease ? () => jumpLease.release() : null,
      check: null,
    };
    if (this.closedAll) {
      connection.close();
      jumpLease?.release();
      throw new CroniumError('cancelled', 'The connection pool is shut down.');
    }
    this.entries.set(serverId, [...(this.entries.get(serverId) ?? []), entry]);
    connection.onClose(() => this.drop(serverId, entry));
    const learned = this.sessionLimits.get(serverId);
    if (learned !== undefined) connection.limitSessions(learned);
    connection.setSessionOverflow((command, options) => this.overflow(entry, command, options));
    // Idle until leased: the callers that waited for it may all have given up.
    this.idle(entry);
    return entry;
  }

  /**
   * Opens a session the connection of `from` could not hold (its server's MaxSessions reached) on another
   * connection to the same server with room, or a new one; that connection is held until the session ends.
   */
  private async overflow(from: Entry, command: string, options: ExecOptions): Promise<RemoteProcess> {
    const limit = Math.min(from.connection.maxSessions, this.sessionLimits.get(from.serverId) ?? Infinity);
    this.sessionLimits.set(from.serverId, limit);
    throwIfAborted(options.signal, 'before starting a command');
    const other = (this.entries.get(from.serverId) ?? []).find(
      (e) =>
        e !== from &&
        e.connection.isOpen &&
        !e.retire &&
        e.check === null &&
        e.connection.sessions < e.connection.maxSessions,
    );
    let lease: Lease;
    if (other) lease = this.lease(other, false);
    else {
      // A dial of its own, stopped by this caller's signal (nobody else waits for it).
      const controller = new AbortController();
      const onAbort = () => controller.abort(options.signal!.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        lease = this.lease(await this.open(from.serverId, controller.signal), true);
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
    }
    try {
      // A refusal there overflows again, from that connection; one that holds no session at all is an error.
      const proc = await lease.connection.exec(command, options);
      void proc.exited.then(() => lease.release());
      return proc;
    } catch (err) {
      lease.release();
      throw err;
    }
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
        else if (entry.leases === 0 && entry.connection.isOpen) this.idle(entry);
      },
    };
  }

  private idle(entry: Entry): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => entry.connection.close(), this.idleMs);
    entry.idleTimer.unref();
  }

  private drop(serverId: string, entry: Entry): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.releaseJump?.();
    entry.releaseJump = null;
    entry.connection.setSessionOverflow(null);
    this.entries.set(
      serverId,
      (this.entries.get(serverId) ?? []).filter((e) => e !== entry),
    );
  }

  /**
   * How many pooled connections are open now, over all servers (jump connections count too: each is a
   * pooled connection of its own), and how many of those are leased. Read-only, for monitoring.
   */
  openConnections(): { open: number; leased: number } {
    let open = 0;
    let leased = 0;
    for (const list of this.entries.values())
      for (const entry of list) {
        if (!entry.connection.isOpen) continue;
        open++;
        if (entry.leases > 0) leased++;
      }
    return { open, leased };
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
    for (const list of this.pending.values())
      for (const pending of list)
        pending.controller.abort(new CroniumError('cancelled', 'The connection pool is shut down.'));
    for (const list of this.entries.values()) for (const entry of list) entry.connection.close();
    this.entries.clear();
  }
}
