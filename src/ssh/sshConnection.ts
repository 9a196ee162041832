/**
 * The one wrapper around ssh2: promises and AbortSignal instead of callbacks, timeouts and keepalive always
 * set, Nagle off, and ssh2's error levels turned into the project's error kinds — each failure reported once.
 */
import type { Duplex } from 'node:stream';

import ssh2, { type Client, type ClientChannel, type ConnectConfig } from 'ssh2';

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

function describeAuth(auth: SshAuth): string {
  return auth.type === 'key'
    ? 'private key'
    : auth.type === 'password'
      ? 'password'
      : 'keys in the SSH agent';
}

export class SshConnection {
  private closed = false;
  private readonly closeListeners = new Set<(err: CroniumError | null) => void>();

  private readonly client: Client;
  readonly target: SshTarget;

  private constructor(client: Client, target: SshTarget) {
    this.client = client;
    this.target = target;
  }

  static connect(target: SshTarget, options: ConnectOptions): Promise<SshConnection> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new CroniumError('cancelled', 'Cancelled before connecting.'));
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
      const onAbort = () =>
        fail(new CroniumError('cancelled', `Cancelled while connecting to ${target.label}.`));
      signal?.addEventListener('abort', onAbort, { once: true });

      client.on('ready', () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        connection = new SshConnection(client, target);
        resolve(connection);
      });
      // ssh2 may emit a second error after a timeout ("Connection lost before handshake"): report once.
      client.on('error', (err) => {
        if (!settled) fail(classify(err, target, hostKeyError));
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
      if (target.auth.type === 'key') {
        config.privateKey = target.auth.privateKey;
        if (target.auth.passphrase) config.passphrase = target.auth.passphrase;
      } else if (target.auth.type === 'password') {
        config.password = target.auth.password;
        config.tryKeyboard = false;
      } else {
        config.agent = target.auth.agentSocket;
      }

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

  /** Starts a command. Streams are delivered through listeners so large outputs never pile up in memory. */
  exec(command: string): Promise<RemoteProcess> {
    if (this.closed)
      return Promise.reject(
        new CroniumError('connection_lost', `The connection to ${this.target.label} is closed.`),
      );
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, channel) => {
        if (err) {
          reject(
            new CroniumError(
              'connection_lost',
              `${this.target.label} refused a new session: ${err.message}.`,
              { cause: err },
            ),
          );
          return;
        }
        let exit: ExecResult = { code: null, signal: null };
        let statusArrived: (result: ExecResult) => void = () => {};
        const exitStatus = new Promise<ExecResult>((resolve) => (statusArrived = resolve));
        const exited = new Promise<ExecResult>((done) => {
          channel.on('exit', (code: number | null, signalName?: string) => {
            exit = { code: typeof code === 'number' ? code : null, signal: signalName ?? null };
            statusArrived(exit);
          });
          channel.on('close', () => {
            statusArrived(exit);
            done(exit);
          });
        });
        resolve({
          channel,
          onStdout: (listener) => channel.on('data', listener),
          onStderr: (listener) => channel.stderr.on('data', listener),
          write: (data) => {
            if (channel.writable) channel.write(data);
          },
          end: () => channel.end(),
          exitStatus,
          exited,
        });
      });
    });
  }

  /** Runs a short command and collects its output (for probes, not for jobs). */
  async run(
    command: string,
    stdin?: string | Buffer,
  ): Promise<{ code: number | null; stdout: string; stdoutBytes: Buffer; stderr: string }> {
    const proc = await this.exec(command);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.onStdout((d) => out.push(d));
    proc.onStderr((d) => err.push(d));
    if (stdin !== undefined) proc.write(stdin);
    proc.end();
    const { code } = await proc.exited;
    const stdoutBytes = Buffer.concat(out);
    return {
      code,
      stdout: stdoutBytes.toString('utf8'),
      stdoutBytes,
      stderr: Buffer.concat(err).toString('utf8'),
    };
  }

  close(): void {
    this.client.end();
    this.markClosed(null);
  }

  get raw(): Client {
    return this.client;
  }
}
