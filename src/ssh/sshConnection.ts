/**
 * The one wrapper around ssh2: promises and AbortSignal instead of callbacks, timeouts and keepalive always
 * set, Nagle off, and ssh2's error levels turned into the project's error kinds — each failure reported once.
 */
import type { Duplex } from 'node:stream';

import ssh2, {
  type AnyAuthMethod,
  type AuthenticationType,
  type Client,
  type ClientChannel,
  type ConnectConfig,
  type NextAuthHandler,
  type Prompt,
} from 'ssh2';

import { abortError, throwIfAborted } from '../core/abort.ts';
import { CroniumError, type ErrorKind } from '../core/errors.ts';
import type { HostKeyVerifier } from './hostKeys.ts';

export type SshAuth =
  | { type: 'key'; privateKey: Buffer; passphrase?: string }
  | { type: 'password'; password: string }
  | { type: 'agent'; agentSocket: string };

export interface SshTarget {
  /** Used in messages: the saved server's name. */
  label: string;
  host: string;
  port: number;
  username: string;
  auth: SshAuth;
}

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

/**
 * Limits for starting a command. `signal` aborts (its reason, when a CroniumError, is the error raised;
 * else `cancelled`); `timeoutMs` is a limit in milliseconds (error kind `timed_out`).
 */
export interface ExecOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ExecResult {
  /** null when the channel closed without an exit status (connection lost). */
  code: number | null;
  signal: string | null;
}

export interface RemoteProcess {
  readonly channel: ClientChannel;
  onStdout(listener: (data: Buffer) => void): void;
  onStderr(listener: (data: Buffer) => void): void;
  write(data: string | Buffer): void;
  end(): void;
  /** Resolves when the exit status arrives (output may still follow until `exited`). */
  readonly exitStatus: Promise<ExecResult>;
  /** Resolves when the channel has closed: all output delivered. */
  readonly exited: Promise<ExecResult>;
}

const SOCKET_KINDS: Record<string, [ErrorKind, string]> = {
  ECONNREFUSED: ['connection_refused', 'refused the connection (nothing listens on that port?)'],
  ECONNRESET: ['connection_lost', 'closed the connection'],
  EHOSTUNREACH: ['connection_refused', 'is unreachable (no route to host)'],
  ENETUNREACH: ['connection_refused', 'is unreachable (network unreachable)'],
  ETIMEDOUT: ['connect_timeout', 'did not answer in time'],
  ENOTFOUND: ['dns', 'has a name that does not resolve'],
  EAI_AGAIN: ['dns', 'has a name that could not be resolved right now'],
};

function classify(
  err: Error & { level?: string; code?: string },
  target: SshTarget,
  hostKeyError: CroniumError | null,
): CroniumError {
  const where = `${target.label} (${target.host}:${target.port})`;
  if (hostKeyError) return hostKeyError;
  if (err instanceof CroniumError) return err;
  switch (err.level) {
    case 'client-authentication':
      return new CroniumError(
        'auth_failed',
        `Authentication as ${target.username} on ${where} failed: the server did not accept the ${describeAuth(target.auth)}.`,
        { cause: err },
      );
    case 'client-timeout':
      return new CroniumError('connect_timeout', `${where} did not complete the SSH handshake in time.`, {
        cause: err,
      });
    case 'client-dns':
      return new CroniumError('dns', `${where}: the host name does not resolve.`, { cause: err });
    case 'agent':
      return new CroniumError(
        'auth_failed',
        `The SSH agent could not be used for ${where}: ${err.message}.`,
        { cause: err },
      );
  }
  const mapped = err.code ? SOCKET_KINDS[err.code] : undefined;
  if (mapped) return new CroniumError(mapped[0], `${where} ${mapped[1]}.`, { cause: err });
  if (/passphrase|encrypted|Cannot parse privateKey/i.test(err.message)) {
    return new CroniumError(
      'auth_failed',
      `The private key for ${where} could not be used: ${err.message}.`,
      { cause: err },
    );
  }
  return new CroniumError('connection_lost', `The connection to ${where} failed: ${err.message}.`, {
    cause: err,
  });
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

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

function describeAuth(auth: SshAuth): string {
  return auth.type === 'key'
    ? 'private key'
    : auth.type === 'password'
      ? 'password'
      : 'keys in the SSH agent';
}

/**
 * A prompt the saved password answers: one that does not echo and asks for a password (PAM's "Password: ",
 * "user@host's password: ", and the usual translations). Anything else (a one-time code, a new password)
 * needs a person.
 */
function isPasswordPrompt(prompt: Prompt): boolean {
  return (
    prompt.echo !== true &&
    /pass(word|wort)|mot de passe|contrase(ñ|n)a|senha|wachtwoord|пароль|密码|パスワード/i.test(prompt.prompt)
  );
}

type AuthStep = AuthenticationType | AnyAuthMethod | false;

/**
 * Picks the authentication methods to try, as OpenSSH's client does: "none" first to learn what the server
 * offers, then the saved credential's own method, then keyboard-interactive (RFC 4256) where a saved
 * password answers the server's password prompt (servers with PasswordAuthentication no and PAM, see
 * sshd_config(5) KbdInteractiveAuthentication), and where a key that was accepted only in part
 * (AuthenticationMethods publickey,keyboard-interactive) meets the second step. A prompt the credential
 * cannot answer ends the attempt at once with an auth_failed error that quotes the prompt.
 */
class AuthSequence {
  private readonly tried = new Set<string>();
  private offered: string[] | null = null;
  private answeredPassword = false;
  private promptError: CroniumError | null = null;

  private readonly target: SshTarget;
  private readonly abort: (err: CroniumError) => void;

  constructor(target: SshTarget, abort: (err: CroniumError) => void) {
    this.target = target;
    this.abort = abort;
  }

  next(
    methodsLeft: AuthenticationType[] | null,
    partialSuccess: boolean | null,
    next: NextAuthHandler,
  ): void {
    const step = this.pick(methodsLeft, partialSuccess === true);
    if (step !== false) this.tried.add(typeof step === 'string' ? step : step.type);
    (next as (step: AuthStep) => void)(step);
  }

  private pick(methodsLeft: AuthenticationType[] | null, partialSuccess: boolean): AuthStep {
    if (!methodsLeft) return this.tried.has('none') ? false : 'none';
    this.offered = methodsLeft;
    const auth = this.target.auth;
    const primary = auth.type === 'key' ? 'publickey' : auth.type === 'password' ? 'password' : 'agent';
    const wire = primary === 'agent' ? 'publickey' : primary;
    if (!partialSuccess && methodsLeft.includes(wire) && !this.tried.has(primary)) return primary;
    const keyboardUseful = auth.type === 'password' || partialSuccess;
    if (
      keyboardUseful &&
      methodsLeft.includes('keyboard-interactive') &&
      !this.tried.has('keyboard-interactive')
    ) {
      return {
        type: 'keyboard-interactive',
        username: this.target.username,
        prompt: (_name, _instructions, _lang, prompts, finish) => this.answer(prompts, finish),
      };
    }
    return false;
  }

  private answer(prompts: Prompt[], finish: (answers: string[]) => void): void {
    const auth = this.target.auth;
    const unanswerable =
      auth.type !== 'password' || this.answeredPassword
        ? prompts[0]
        : prompts.find((p) => !isPasswordPrompt(p));
    if (unanswerable) {
      const where = `${this.target.label} (${this.target.host}:${this.target.port})`;
      const text = unanswerable.prompt.trim().replace(/\s+/g, ' ').slice(0, 200);
      this.promptError = new CroniumError(
        'auth_failed',
        `Authentication as ${this.target.username} on ${where} stopped: the server asks "${text}" (keyboard-interactive), which the saved ${describeAuth(auth)} cannot answer. ` +
          "Logging in needs a person at this prompt; use a key the server accepts on its own, or change the server's login settings.",
        { details: { prompt: text } },
      );
      this.abort(this.promptError);
      return;
    }
    this.answeredPassword = true;
    finish(prompts.map(() => (auth as { password: string }).password));
  }

  /** A more precise error than ssh2's "All configured authentication methods failed", when there is one. */
  failure(err: Error & { level?: string }): CroniumError | null {
    if (this.promptError) return this.promptError;
    if (err.level !== 'client-authentication' || !this.offered) return null;
    const auth = this.target.auth;
    const wire = auth.type === 'password' ? ['password', 'keyboard-interactive'] : ['publickey'];
    if (wire.some((m) => this.offered!.includes(m) || this.tried.has(m))) return null;
    const where = `${this.target.label} (${this.target.host}:${this.target.port})`;
    return new CroniumError(
      'auth_failed',
      `Authentication as ${this.target.username} on ${where} failed: the server does not offer ${auth.type === 'password' ? 'password login' : 'key login'} (it offers: ${this.offered.join(', ') || 'nothing'}).`,
      { cause: err },
    );
  }
}

export class SshConnection {
  private closed = false;
  private readonly closeListeners = new Set<(err: CroniumError | null) => void>();
  private readonly sessionListeners = new Set<() => void>();
  private openSessions = 0;
  private sessionLimit = Infinity;
  private overflow: ((command: string, options: ExecOptions) => Promise<RemoteProcess>) | null = null;
  private lastActive = performance.now();
  /** See ConnectOptions.sessionAnswerMs. */
  sessionAnswerMs = 10_000;

  private readonly client: Client;
  readonly target: SshTarget;

  private constructor(client: Client, target: SshTarget) {
    this.client = client;
    this.target = target;
  }

  static connect(target: SshTarget, options: ConnectOptions): Promise<SshConnection> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal, `before connecting to ${target.label}`));
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
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
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          hostKeyError = options.hostKeys.check(target.host, target.port, key, target.label);
          verify(hostKeyError === null);
        },
      } as ConnectConfig;
      // Optional: test doubles of the verifier may have check() only.
      const preferred = options.hostKeys.preferredAlgorithms?.(target.host, target.port);
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
        if ((err as { unanswered?: boolean }).unanswered === true) {
          // The connection died without a word (no FIN, no keepalive answer yet): nothing started on the
          // host, so the command goes to another connection (the pool dials one) instead of waiting out
          // the keepalive (about a minute) and failing.
          this.destroy();
          if (this.overflow) return this.overflow(command, options);
          throw err;
        }
        if ((err as { refusedSession?: boolean }).refusedSession !== true) throw err;
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
    const { signal, timeoutMs } = options;
    return new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | null = null;
      const finish = (err: CroniumError | null, proc?: RemoteProcess) => {
        if (settled) return false;
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(proc!);
        return true;
      };
      const onAbort = () => finish(abortError(signal!, `while starting a command on ${this.target.label}`));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            finish(
              new CroniumError(
                'timed_out',
                `${this.target.label} did not start a command within ${formatMs(timeoutMs)}.`,
              ),
            ),
          timeoutMs,
        );
      }
      const unanswered = setTimeout(() => {
        const error = new CroniumError(
          'connection_lost',
          `${this.target.label} did not answer a request for a new session within ${formatMs(this.sessionAnswerMs)}: the connection is dead.`,
        );
        (error as { unanswered?: boolean }).unanswered = true;
        finish(error);
      }, this.sessionAnswerMs);
      unanswered.unref();
      // Counted from the request on: sshd may refuse one session because another is still being opened.
      this.openSessions++;
      this.client.exec(command, (err, channel) => {
        clearTimeout(unanswered);
        if (err) {
          this.openSessions--;
          const error = new CroniumError(
            'connection_lost',
            `${this.target.label} refused a new session: ${err.message}.`,
            { cause: err },
          );
          (error as { refusedSession?: boolean }).refusedSession = /Channel open failure/i.test(err.message);
          finish(error);
          return;
        }
        this.lastActive = performance.now();
        let exit: ExecResult = { code: null, signal: null };
        let statusArrived: (result: ExecResult) => void = () => {};
        const exitStatus = new Promise<ExecResult>((resolve) => (statusArrived = resolve));
        const exited = new Promise<ExecResult>((done) => {
          channel.on('exit', (code: number | null, signalName?: string) => {
            exit = { code: typeof code === 'number' ? code : null, signal: signalName ?? null };
            statusArrived(exit);
          });
          channel.on('close', () => {
            this.openSessions--;
            this.lastActive = performance.now();
            statusArrived(exit);
            done(exit);
            for (const listener of this.sessionListeners) listener();
          });
        });
        const proc: RemoteProcess = {
          channel,
          onStdout: (listener) => channel.on('data', listener),
          onStderr: (listener) => channel.stderr.on('data', listener),
          write: (data) => {
            if (channel.writable) channel.write(data);
          },
          end: () => channel.end(),
          exitStatus,
          exited,
        };
        // Given up on while the server answered: the command gets no input and its channel closes.
        if (!finish(null, proc)) channel.close();
      });
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
  async run(
    command: string,
    stdin?: string | Buffer,
    options: ExecOptions = {},
  ): Promise<{ code: number | null; stdout: string; stdoutBytes: Buffer; stderr: string }> {
    const { signal, timeoutMs } = options;
    const started = performance.now();
    const proc = await this.exec(command, options);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.onStdout((d) => out.push(d));
    proc.onStderr((d) => err.push(d));
    if (stdin !== undefined) proc.write(stdin);
    proc.end();
    let stop: CroniumError | null = null;
    let stopped: (err: CroniumError) => void = () => {};
    const stopping = new Promise<never>((_resolve, reject) => (stopped = reject));
    let timer: NodeJS.Timeout | null = null;
    const kill = (error: CroniumError) => {
      if (stop) return;
      stop = error;
      try {
        // Honoured by OpenSSH only for its own user (sshd runs as root): closing the channel is what counts.
        proc.channel.signal('KILL');
      } catch {
        /* the channel is gone already */
      }
      proc.channel.close();
      stopped(error);
    };
    const onAbort = () => kill(abortError(signal!, `while running a command on ${this.target.label}`));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    if (timeoutMs !== undefined) {
      const left = Math.max(0, timeoutMs - (performance.now() - started));
      timer = setTimeout(
        () =>
          kill(
            new CroniumError(
              'timed_out',
              `A command on ${this.target.label} did not finish within ${formatMs(timeoutMs)}.`,
            ),
          ),
        left,
      );
    }
    let code: number | null;
    try {
      // sshd keeps a session's channel until its process exits: do not wait for that after a stop.
      ({ code } = await Promise.race([proc.exited, stopping]));
    } finally {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    const stdoutBytes = Buffer.concat(out);
    return {
      code,
      stdout: stdoutBytes.toString('utf8'),
      stdoutBytes,
      stderr: Buffer.concat(err).toString('utf8'),
    };
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

  get raw(): Client {
    return this.client;
  }
}
