/**
 * Reaching a PostgreSQL server from a URL: the client configuration (the password from the URL, PGPASSWORD
 * or the password file, as libpq looks for it), failed connections as sentences that never hold the
 * password, and the oldest server version the store runs on.
 */
import type pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import pgPass from 'pgpass';

import { CroniumError } from '../core/errors.ts';
import { TYPES } from './postgresTypes.ts';

/** The oldest PostgreSQL major this store runs on (`server_version_num` of 13.0). */
export const MIN_SERVER_VERSION_NUM = 130_000;

/** Where a URL points, for messages: host, port and database, never the password. */
export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/**
 * The pg client configuration of a URL, where it points and the URL without its password. The password is
 * the URL's own; else PGPASSWORD from `env`; else the matching line of the password file (PGPASSFILE or
 * ~/.pgpass, 0600), as libpq looks for it.
 */
export function clientConfig(
  url: string,
  env: NodeJS.ProcessEnv,
): { config: pg.ClientConfig; target: PostgresTarget; location: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new CroniumError(
      'invalid_input',
      'The database URL must look like postgres://USER@HOST:PORT/DATABASE (its password may come from PGPASSWORD or ~/.pgpass).',
      { fields: { databaseUrl: 'not a postgres:// URL' } },
    );
  const options = parseConnectionString(url);
  const target: PostgresTarget = {
    host: options.host || 'localhost',
    port: Number(options.port || 5432),
    database: options.database || options.user || 'postgres',
    user: options.user || env.PGUSER || env.USER || 'postgres',
  };
  const withoutPassword = new URL(url);
  withoutPassword.password = '';
  const fromUrl = options.password ? decodeURIComponentSafe(options.password) : undefined;
  const config: pg.ClientConfig = {
    ...(options as pg.ClientConfig),
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    types: TYPES,
    password: fromUrl ?? (async () => env.PGPASSWORD ?? (await passwordFile(target, env)) ?? ''),
  };
  return { config, target, location: withoutPassword.toString() };
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The password-file line for target (pgpass reads PGPASSFILE from process.env, so env's is passed on). */
function passwordFile(target: PostgresTarget, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const saved = process.env.PGPASSFILE;
  if (env.PGPASSFILE !== undefined) process.env.PGPASSFILE = env.PGPASSFILE;
  return new Promise<string | undefined>((resolve) =>
    pgPass({ host: target.host, port: target.port, database: target.database, user: target.user }, resolve),
  ).finally(() => {
    if (saved === undefined) delete process.env.PGPASSFILE;
    else process.env.PGPASSFILE = saved;
  });
}

/** A failed first connection as a sentence: what failed, where (host, port, database), never the password. */
export function connectionError(err: unknown, target: PostgresTarget): CroniumError {
  if (err instanceof CroniumError) return err;
  const e = err as { code?: string; message?: string };
  const where = `PostgreSQL at ${target.host}:${target.port} (database "${target.database}", user "${target.user}")`;
  const says = (e.message ?? String(err)).replace(/:\/\/[^@\s]*@/g, '://');
  switch (e.code) {
    case 'ECONNREFUSED':
      return new CroniumError('connection_refused', `Cannot connect to ${where}: connection refused.`, {
        cause: err,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CroniumError('dns', `Cannot connect to ${where}: the host name does not resolve.`, {
        cause: err,
      });
    case 'ETIMEDOUT':
      return new CroniumError('connect_timeout', `Cannot connect to ${where}: timed out.`, { cause: err });
    case '28P01':
    case '28000':
      return new CroniumError(
        'auth_failed',
        `${where} refused the login: ${says}. Give the password in the URL, PGPASSWORD or ~/.pgpass.`,
        { cause: err },
      );
    case '3D000':
      return new CroniumError('not_found', `${where}: the database does not exist (${says}).`, {
        cause: err,
      });
    default:
      return new CroniumError('connection_lost', `Cannot use ${where}: ${says}.`, { cause: err });
  }
}

/**
 * Throws when `versionNum` (`server_version_num`, e.g. 150004 for 15.4) is older than PostgreSQL 13.
 */
export function checkServerVersion(versionNum: number, target: PostgresTarget): void {
  if (versionNum >= MIN_SERVER_VERSION_NUM) return;
  const major = Math.floor(versionNum / 10_000);
  throw new CroniumError(
    'invalid_input',
    `PostgreSQL at ${target.host}:${target.port} is version ${major >= 10 ? major : (versionNum / 10_000).toFixed(1)}; Cronium needs 13 or newer.`,
  );
}
