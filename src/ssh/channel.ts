/**
 * Session channels (RFC 4254 section 6): opening one for a command with a start limit, the RemoteProcess
 * that streams it, and running a short command to its end with a limit on the whole of it.
 */
import type { Client } from 'ssh2';

import { abortError } from '../core/abort.ts';
import { CroniumError } from '../core/errors.ts';
import { formatMs, type ExecOptions, type ExecResult, type RemoteProcess } from './target.ts';

/** What a connection learns from its channels: counted from the request on, and each close. */
export interface SessionCounter {
  /** A session is being asked for (sshd may refuse one because another is still being opened). */
  requested(): void;
  /** The server refused it (or never answered). */
  refused(): void;
  /** The server opened it: a sign of life. */
  opened(): void;
  /** Its channel closed: a slot may be free. */
  closed(): void;
}

/** Marks on a connection_lost error that tell SshConnection.exec what it may do next. */
export interface OpenFailure {
  /** The server never answered the request: the connection is dead, nothing started on the host. */
  unanswered?: boolean;
  /** The server refused the channel ("Channel open failure"): a session limit, maybe. */
  refusedSession?: boolean;
}

/**
 * Opens a session channel on `client` and starts `command` in it. `options` limit only the start (see
 * SshConnection.exec); `answerMs` is how long the server may take to answer at all before the connection
 * is taken for dead. Rejects with CroniumError `connection_lost` (marked as OpenFailure), `timed_out`, or
 * the signal's reason.
 */
export function openChannel(
  client: Client,
  label: string,
  command: string,
  options: ExecOptions,
  answerMs: number,
  sessions: SessionCounter,
): Promise<RemoteProcess> {
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
    const onAbort = () => finish(abortError(signal!, `while starting a command on ${label}`));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () =>
          finish(
            new CroniumError('timed_out', `${label} did not start a command within ${formatMs(timeoutMs)}.`),
          ),
        timeoutMs,
      );
    }
    const unanswered = setTimeout(() => {
      const error: CroniumError & OpenFailure = new CroniumError(
        'connection_lost',
        `${label} did not answer a request for a new session within ${formatMs(answerMs)}: the connection is dead.`,
      );
      error.unanswered = true;
      finish(error);
    }, answerMs);
    unanswered.unref();
    sessions.requested();
    client.exec(command, (err, channel) => {
      clearTimeout(unanswered);
      if (err) {
        sessions.refused();
        const error: CroniumError & OpenFailure = new CroniumError(
          'connection_lost',
          `${label} refused a new session: ${err.message}.`,
          { cause: err },
        );
        error.refusedSession = /Channel open failure/i.test(err.message);
        finish(error);
        return;
      }
      sessions.opened();
      let exit: ExecResult = { code: null, signal: null };
      let statusArrived: (result: ExecResult) => void = () => {};
      const exitStatus = new Promise<ExecResult>((resolve) => (statusArrived = resolve));
      const exited = new Promise<ExecResult>((done) => {
        channel.on('exit', (code: number | null, signalName?: string) => {
          exit = { code: typeof code === 'number' ? code : null, signal: signalName ?? null };
          statusArrived(exit);
        });
        channel.on('close', () => {
          sessions.closed();
          statusArrived(exit);
          done(exit);
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

/** A short command's whole result (see SshConnection.run). */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

/**
 * Feeds `stdin` to a started process, collects its output and waits for its end. `options.signal` and
 * `options.timeoutMs` (milliseconds, counted from `startedAt`, a performance.now()) cover the whole command:
 * when either fires, the process is sent KILL and its channel closed, and the call rejects with the
 * signal's reason (`cancelled` by default) or `timed_out`.
 */
export async function runToEnd(
  proc: RemoteProcess,
  label: string,
  stdin: string | Buffer | undefined,
  options: ExecOptions,
  startedAt: number,
): Promise<CommandResult> {
  const { signal, timeoutMs } = options;
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
  const onAbort = () => kill(abortError(signal!, `while running a command on ${label}`));
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  if (timeoutMs !== undefined) {
    const left = Math.max(0, timeoutMs - (performance.now() - startedAt));
    timer = setTimeout(
      () =>
        kill(
          new CroniumError(
            'timed_out',
            `A command on ${label} did not finish within ${formatMs(timeoutMs)}.`,
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
