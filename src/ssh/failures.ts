/** ssh2's errors (their `level`, or the socket's `code`) turned into the project's error kinds and sentences. */
import { CroniumError, type ErrorKind } from '../core/errors.ts';
import { describeAuth } from './auth.ts';
import { where, type SshTarget } from './target.ts';

const SOCKET_KINDS: Record<string, [ErrorKind, string]> = {
  ECONNREFUSED: ['connection_refused', 'refused the connection (nothing listens on that port?)'],
  ECONNRESET: ['connection_lost', 'closed the connection'],
  EHOSTUNREACH: ['connection_refused', 'is unreachable (no route to host)'],
  ENETUNREACH: ['connection_refused', 'is unreachable (network unreachable)'],
  ETIMEDOUT: ['connect_timeout', 'did not answer in time'],
  ENOTFOUND: ['dns', 'has a name that does not resolve'],
  EAI_AGAIN: ['dns', 'has a name that could not be resolved right now'],
};

/**
 * The CroniumError for an ssh2 or socket error on a connection to `target`; a host key refusal seen in
 * the handshake, when there was one, wins (ssh2 reports it only as a failed handshake).
 */
export function classify(
  err: Error & { level?: string; code?: string },
  target: SshTarget,
  hostKeyError: CroniumError | null,
): CroniumError {
  const at = where(target);
  if (hostKeyError) return hostKeyError;
  if (err instanceof CroniumError) return err;
  switch (err.level) {
    case 'client-authentication':
      return new CroniumError(
        'auth_failed',
        `Authentication as ${target.username} on ${at} failed: the server did not accept the ${describeAuth(target.auth)}.`,
        { cause: err },
      );
    case 'client-timeout':
      return new CroniumError('connect_timeout', `${at} did not complete the SSH handshake in time.`, {
        cause: err,
      });
    case 'client-dns':
      return new CroniumError('dns', `${at}: the host name does not resolve.`, { cause: err });
    case 'agent':
      return new CroniumError('auth_failed', `The SSH agent could not be used for ${at}: ${err.message}.`, {
        cause: err,
      });
  }
  const mapped = err.code ? SOCKET_KINDS[err.code] : undefined;
  if (mapped) return new CroniumError(mapped[0], `${at} ${mapped[1]}.`, { cause: err });
  if (/passphrase|encrypted|Cannot parse privateKey/i.test(err.message)) {
    return new CroniumError('auth_failed', `The private key for ${at} could not be used: ${err.message}.`, {
      cause: err,
    });
  }
  return new CroniumError('connection_lost', `The connection to ${at} failed: ${err.message}.`, {
    cause: err,
  });
}
