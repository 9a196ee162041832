/** What a connection is made to, and the results of commands run over it (shared by the src/ssh modules). */
import type { ClientChannel } from 'ssh2';

/** The saved credential a login uses: a private key (with its passphrase), a password, or an agent's socket. */
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

/** A command running in a session channel. */
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

/** A milliseconds figure for messages: "850 ms", "2.5 s". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

/** "label (host:port)": how messages name a server. */
export function where(target: SshTarget): string {
  return `${target.label} (${target.host}:${target.port})`;
}
