/**
 * The one wrapper around ssh2: promises and AbortSignal instead of callbacks, timeouts and keepalive always
 * set, Nagle off, and ssh2's error levels turned into the project's error kinds — each failure reported once.
 * Its parts: logging in (auth.ts), error kinds (failures.ts), session channels (channel.ts), remote port
 * forwarding (forwarding.ts).
 */
import type { Duplex } from 'node:stream';

import type { Client, ConnectConfig } from 'ssh2';
// ssh2's client alone, not its index (see ssh2Parts.d.ts).
import SshClient from 'ssh2/lib/client.js';

import { abortError, throwIfAborted } from '../core/abort.ts';
import { CroniumError } from '../core/errors.ts';
import { AuthSequence } from './auth.ts';
import { openChannel, runToEnd, type CommandResult, type OpenFailure } from './channel.ts';
import { classify } from './failures.ts';
import { keyObjectsForGcm } from './gcmKeys.ts';
import { RemoteForwards, type ForwardedStreamHandler } from './forwarding.ts';
import type { HostKeyVerifier } from './hostKeys.ts';
import type { ExecOptions, RemoteProcess, SshTarget } from './target.ts';

export type { CommandResult } from './channel.ts';
export type { ForwardedStreamHandler } from './forwarding.ts';
export type { ExecOptions, ExecResult, RemoteProcess, SshAuth, SshTarget } from './target.ts';

export interface ConnectOptions {
  hostKeys: HostKeyVerifier;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  signal?: AbortSignal;
  /** Hop through this open connection (jump server) instead of dialing directly. */
  via?: SshConnection;
  /**
   * How long (ms) a server may take to answer a request for a new session before the connection is taken
   * for dead (10 s): a live sshd answers in milliseconds, and nothing has started on the host yet.
   */
  sessionAnswerMs?: number;
}

/** Waits `ms` milliseconds, or less when the signal fires. */
function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class SshConnection {
  private closed = false;
  private readonly closeListeners = new Set<(err: CroniumError | null) => void>();
  private readonly sessionListeners = new Set<() => void>();
  private openSessions = 0;
  private sessionLimit = Infinity;
  private overflow: ((command: string, options: ExecOptions) => Promise<RemoteProcess>) | null = null;
  private lastActive = performance.now();
  private forwards: RemoteForwards | null = null;
  /** See ConnectOptions.sessionAnswerMs. */
  sessionAnswerMs = 10_000;

  private readonly client: Client;
  readonly target: SshTarget;

  private constructor(client: Client, target: SshTarget) {
    this.client = client;
    this.target = target;
  }

  static async connect(target: SshTarget, options: ConnectOptions): Promise<SshConnection> {
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal, `before connecting to ${target.label}`);
    // Optional: test doubles of the verifier may have check() only. Read before connecting (it reads the store).
    const preferred = await options.hostKeys.preferredAlgorithms?.(target.host, target.port);
    if (signal?.aborted) throw abortError(signal, `before connecting to ${target.label}`);
    return new Promise((resolve, reject) => {
      const client = new SshClient();
      let hostKeyError: CroniumError | null = null;
      let settled = false;
      let connection: SshConnection | undefined;

      const fail = (err: CroniumError) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        client.end();
        client.destroy();
        reject(err);
      };
      const onAbort = () => fail(abortError(signal!, `while connecting to ${target.label}`));
      signal?.addEventListener('abort', onAbort, { once: true });
      const auth = new AuthSequence(target, (err) => fail(err));

      client.on('ready', () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        connection = new SshConnection(client, target);
        if (options.sessionAnswerMs !== undefined) connection.sessionAnswerMs = options.sessionAnswerMs;
        resolve(connection);
      });
      // ssh2 may emit a second error after a timeout ("Connection lost before handshake"): report once.
      client.on('error', (err) => {
        if (!settled) fail(auth.failure(err) ?? classify(err, target, hostKeyError));
        else connection?.markClosed(classify(err, target, null));
      });
      client.on('close', () => {
        if (!settled)
          fail(
            new CroniumError(
              'connection_lost',
              `${target.label} (${target.host}:${target.port}) closed the connection during the handshake.`,
            ),
          );
        else connection?.markClosed(null);
      });

      const config: ConnectConfig = {
        host: target.host,
        port: target.port,
        username: target.username,
        readyTimeout: options.readyTimeoutMs ?? 20_000,
        keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: 3,
        // ssh2's two-argument verifier answers later: the check reads (and may write) the store.
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          options.hostKeys.check(target.host, target.port, key, target.label).then(
            (refused) => {
              hostKeyError = refused;
              verify(refused === null);
            },
            (err: unknown) => {
              hostKeyError = new CroniumError(
                'internal',
                `The host key of ${target.label} could not be checked: ${(err as Error).message}`,
              );
              verify(false);
            },
          );
        },
      } as ConnectConfig;
      // "remove" first: ssh2's "prepend" skips names already listed, which would keep their place.
      if (preferred)
        config.algorithms = { serverHostKey: { remove: preferred, prepend: preferred } as never };
      if (target.auth.type === 'key') {
        config.privateKey = target.auth.privateKey;
        if (target.auth.passphrase) config.passphrase = target.auth.passphrase;
      } else if (target.auth.type === 'password') {
        config.password = target.auth.password;
      } else {
        config.agent = target.auth.agentSocket;
      }
      config.authHandler = (methodsLeft, partialSuccess, next) =>
        auth.next(methodsLeft, partialSuccess, next);

      const start = (sock?: Duplex) => {
        try {
          client.connect(sock ? { ...config, sock } : config);
          keyObjectsForGcm((client as unknown as { _protocol?: unknown })._protocol);
          client.setNoDelay(true);
        } catch (err) {
          fail(classify(err as Error, target, hostKeyError));
        }
      };
      if (options.via) {
        options.via.client.forwardOut('127.0.0.1', 0, target.host, target.port, (err, stream) => {
          // Given up on (cancel, deadline) while the jump server was reaching the host: connect no further.
          if (settled) {
            stream?.close();
            return;
          }
          if (err) {
            fail(
              new CroniumError(
                'connection_refused',
                `The jump server ${options.via!.target.label} could not reach ${target.label} (${target.host}:${target.port}): ${err.message}.`,
                { cause: err },
              ),
            );
            return;
          }
          start(stream);
        });
      } else {
        start();
      }
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  onClose(listener: (err: CroniumError | null) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private markClosed(err: CroniumError | null): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.closeListeners) listener(err);
    this.closeListeners.clear();
  }

  /** Session channels open on this connection now. */
  get sessions(): number {
    return this.openSessions;
  }

  /**
   * How many sessions this connection may hold at once: unknown (Infinity) until the server refuses one,
   * then the number it had open (sshd_config(5) MaxSessions, 10 by default, may be lower).
   */
  get maxSessions(): number {
    return this.sessionLimit;
  }

  /** Sets the session limit learned from another connection to the same server (see maxSessions). */
  limitSessions(limit: number): void {
    if (limit >= 1) this.sessionLimit = Math.min(this.sessionLimit, limit);
  }

  /**
   * Where a session goes when this connection has reached its session limit: set by the connection pool,
   * which opens it on another connection to the same server. Without it, a refused session is an error.
   */
  setSessionOverflow(
    overflow: ((command: string, options: ExecOptions) => Promise<RemoteProcess>) | null,
  ): void {
    this.overflow = overflow;
  }

  /**
   * Starts `command` in a new session channel. Streams are delivered through listeners so large outputs
   * never pile up in memory. `options.signal` and `options.timeoutMs` (milliseconds) limit only the start:
   * opening the channel and the server's answer to the exec request; once the process runs, stopping it is
   * the caller's (the runner's control channel, or closing the channel). Errors (CroniumError):
   * `connection_lost` when the connection is closed or the server refuses a session and no other
   * connection can take it; `timed_out` after `timeoutMs`; the signal's reason (`cancelled` by default)
   * when it fires. A session refused while others are open teaches the connection its session limit and,
   * when the pool has set an overflow, is opened on another connection instead: nothing is lost to a limit.
   */
  async exec(command: string, options: ExecOptions = {}): Promise<RemoteProcess> {
    if (this.closed)
      throw new CroniumError('connection_lost', `The connection to ${this.target.label} is closed.`);
    throwIfAborted(options.signal, `before starting a command on ${this.target.label}`);
    if (this.overflow && this.openSessions >= this.sessionLimit) return this.overflow(command, options);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.openSession(command, options);
      } catch (err) {
        const failure = err as OpenFailure;
        if (failure.unanswered === true) {
          // The connection died without a word (no FIN, no keepalive answer yet): nothing started on the
          // host, so the command goes to another connection (the pool dials one) instead of waiting out
          // the keepalive (about a minute) and failing.
          this.destroy();
          if (this.overflow) return this.overflow(command, options);
          throw err;
        }
        if (failure.refusedSession !== true) throw err;
        if (this.openSessions > 0) {
          this.sessionLimit = Math.min(this.sessionLimit, this.openSessions);
          if (this.overflow) return this.overflow(command, options);
          throw err;
        }
        // Refused with none open here: sshd frees a closed session's slot a moment after our close reaches
        // it, so a session opened right after another closed may be refused. Try again shortly, twice.
        if (attempt >= 2) throw err;
        await delay(50 * 4 ** attempt, options.signal);
        throwIfAborted(options.signal, `before starting a command on ${this.target.label}`);
      }
    }
  }

  private openSession(command: string, options: ExecOptions): Promise<RemoteProcess> {
    return openChannel(this.client, this.target.label, command, options, this.sessionAnswerMs, {
      requested: () => this.openSessions++,
      refused: () => this.openSessions--,
      opened: () => (this.lastActive = performance.now()),
      closed: () => {
        this.openSessions--;
        this.lastActive = performance.now();
        for (const listener of this.sessionListeners) listener();
      },
    });
  }

  /** Called whenever a session channel on this connection closes (a slot may be free). */
  onSessionClosed(listener: () => void): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  /**
   * Runs a short command and collects its output (for probes, deploys and collects, not for jobs).
   * `stdin` is written and closed. Here `options.signal` and `options.timeoutMs` (milliseconds) cover the
   * whole command: when either fires, the command is sent KILL (an OpenSSH "signal" request) and its
   * channel closed, and the call rejects with the signal's reason (`cancelled` by default) or `timed_out`.
   * Other errors are exec()'s.
   */
  async run(command: string, stdin?: string | Buffer, options: ExecOptions = {}): Promise<CommandResult> {
    const started = performance.now();
    const proc = await this.exec(command, options);
    return runToEnd(proc, this.target.label, stdin, options, started);
  }

  /**
   * Remote port forwarding (`ssh -R`): the server listens on `port` of its 127.0.0.1 (0: a free port it
   * picks) and each connection to it reaches `onStream`. Resolves with the port bound on the host.
   * @throws CroniumError tunnel_refused when the server refuses (AllowTcpForwarding no, the port taken);
   * connection_lost when this connection is closed.
   */
  forwardIn(port: number, onStream: ForwardedStreamHandler): Promise<number> {
    if (this.closed)
      return Promise.reject(
        new CroniumError('connection_lost', `The connection to ${this.target.label} is closed.`),
      );
    this.forwards ??= new RemoteForwards(this.client, this.target.label);
    return this.forwards.forwardIn(port, onStream);
  }

  /** Ends a forward made by forwardIn: new connections to `port` are refused, the server stops listening. */
  unforwardIn(port: number): void {
    this.forwards?.unforwardIn(port, !this.closed);
  }

  /**
   * Checks that the server still answers on this connection: a keepalive@openssh.com global request, the
   * one ssh2's keepalive and OpenSSH's ServerAliveInterval send, answered within `timeoutMs` milliseconds.
   * Resolves true or false, never rejects. A connection whose server has gone silent (its sshd process
   * stopped, a firewall dropped the flow) otherwise looks open until keepalive gives up.
   */
  ping(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    // ssh2 has no public call for a bare global request: this is what its own keepalive does (client.js).
    const internals = this.client as unknown as {
      _protocol?: { ping?: () => void };
      _callbacks?: ((failed: boolean) => void)[];
    };
    if (typeof internals._protocol?.ping !== 'function' || !Array.isArray(internals._callbacks))
      return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      // Any answer, success or failure, shows the server is there.
      internals._callbacks!.push(() => {
        clearTimeout(timer);
        this.lastActive = performance.now();
        resolve(true);
      });
      try {
        internals._protocol!.ping!();
      } catch {
        clearTimeout(timer);
        resolve(false);
      }
    });
  }

  /** performance.now() of the last sign of life: login, a session opening or closing, a ping's answer. */
  get lastActiveAt(): number {
    return this.lastActive;
  }

  /** Ends the connection politely (SSH disconnect). */
  close(): void {
    this.client.end();
    this.markClosed(null);
  }

  /** Drops the connection without a word to the server (for one that no longer answers). */
  destroy(): void {
    this.client.destroy();
    this.markClosed(null);
  }
}
