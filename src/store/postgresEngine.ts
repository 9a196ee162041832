/**
 * The shared engine for team mode: a PostgreSQL server (13 or newer) through node-postgres (`pg`), behind
 * the same `SqlDatabase` seam as the SQLite file (see sql.ts for the portable SQL the repositories write).
 * What it adds for workers and live following: LISTEN/NOTIFY (`listen`, `notify`).
 */
import pg from 'pg';

import { CroniumError } from '../core/errors.ts';
import { log } from '../core/logger.ts';
import { migrateSql } from './migrate.ts';
import { checkServerVersion, clientConfig, connectionError, type PostgresTarget } from './postgresConnect.ts';
import { numberPlaceholders, toParam } from './postgresTypes.ts';
import type { Sql, SqlDatabase, SqlRunResult, SqlValue } from './sql.ts';

export {
  checkServerVersion,
  clientConfig,
  connectionError,
  MIN_SERVER_VERSION_NUM,
  type PostgresTarget,
} from './postgresConnect.ts';
export { numberPlaceholders } from './postgresTypes.ts';

/**
 * The largest NOTIFY payload PostgreSQL accepts, in bytes: its limit is "shorter than 8000 bytes" in the
 * default build (NOTIFY_PAYLOAD_MAX_LENGTH, see the NOTIFY reference page). Callers with more to say send a
 * reference (a row's id) and let listeners read the row.
 */
export const NOTIFY_MAX_BYTES = 7999;

/** Something that runs a query: the pool, or the one client of a transaction. */
type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

async function query(on: Queryable, sql: string, params: readonly SqlValue[] = []): Promise<pg.QueryResult> {
  const { text } = numberPlaceholders(sql);
  return on.query({ text, values: params.map(toParam) });
}

/** Statements on one queryable (the pool, or a transaction's client). */
function statements(on: Queryable, transaction: Sql['transaction']): Sql {
  return {
    engine: 'postgres',
    all: async <T>(sql: string, params?: readonly SqlValue[]) => (await query(on, sql, params)).rows as T[],
    get: async <T>(sql: string, params?: readonly SqlValue[]) =>
      (await query(on, sql, params)).rows[0] as T | undefined,
    run: async (sql: string, params?: readonly SqlValue[]): Promise<SqlRunResult> => ({
      changes: (await query(on, sql, params)).rowCount ?? 0,
    }),
    exec: async (sql: string) => {
      // Without values pg uses the simple protocol, which takes several statements at once.
      await on.query(sql);
    },
    transaction,
  };
}

/** Options of a store on PostgreSQL. */
export interface PostgresOptions {
  /** Environment for PGPASSWORD and PGPASSFILE (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Connections in the pool (default 10). */
  max?: number;
}

/**
 * A store on a PostgreSQL server: a pool of connections for statements and transactions (a transaction
 * holds one pooled connection from BEGIN to COMMIT/ROLLBACK), and one dedicated connection for LISTEN.
 */
export class PostgresDatabase implements SqlDatabase {
  readonly engine = 'postgres' as const;
  /** The URL without its password. */
  readonly location: string;
  readonly target: PostgresTarget;
  private readonly pool: pg.Pool;
  private readonly config: pg.ClientConfig;
  private readonly outer: Sql;
  private closed = false;
  /** LISTEN handlers by channel, and the connection that listens (null until the first listen). */
  private readonly handlers = new Map<string, Set<ListenHandler>>();
  private listener: Promise<pg.Client> | null = null;
  private reconnectDelay = 100;

  /**
   * Makes the pool (connecting lazily: nothing is connected until the first statement; see connectPostgres).
   * Throws invalid_input when `url` is not a postgres:// or postgresql:// URL.
   */
  constructor(url: string, options: PostgresOptions = {}) {
    const { config, target, location } = clientConfig(url, options.env ?? process.env);
    this.location = location;
    this.target = target;
    this.config = config;
    this.pool = new pg.Pool({ ...config, max: options.max ?? 10 });
    // An idle connection that breaks (server restart) is dropped by the pool; without a listener the
    // 'error' event would end the process.
    this.pool.on('error', (err) =>
      log().warn(`PostgreSQL connection lost (${this.location}): ${err.message}`),
    );
    this.outer = statements(this.pool, (fn) => this.transaction(fn));
  }

  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.outer.all<T>(sql, params);
  }

  get<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.outer.get<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<SqlRunResult> {
    return this.outer.run(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.outer.exec(sql);
  }

  /** The server's version as it reports it (`SHOW server_version`, e.g. "15.4 (Debian 15.4-1)"). */
  async version(): Promise<string> {
    return (await this.get<{ server_version: string }>('SHOW server_version'))?.server_version ?? '';
  }

  /** BEGIN … COMMIT on one pooled connection; fn's error rolls back and is rethrown. Nested: the same one. */
  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection whose BEGIN or ROLLBACK failed is in an unknown state: destroyed, not reused.
    let broken: Error | undefined;
    try {
      await client.query('BEGIN').catch((err: Error) => {
        broken = err;
        throw err;
      });
      const tx: Sql = statements(client, (inner) => inner(tx));
      try {
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  /**
   * Calls onPayload with every NOTIFY payload on `channel` (a PostgreSQL identifier, ≤ 63 bytes) until the
   * returned function is called. One dedicated connection listens for all channels; when it drops, it is
   * reconnected (backing off up to 5 s) and listens again. Notifications sent while it was down are lost:
   * `onResumed` is then called so the caller can re-read the state it follows.
   */
  async listen(
    channel: string,
    onPayload: (payload: string) => void,
    onResumed?: () => void,
  ): Promise<() => Promise<void>> {
    if (this.closed) throw new CroniumError('internal', 'The PostgreSQL store is closed.');
    checkChannel(channel);
    const handler: ListenHandler = { onPayload, onResumed };
    let set = this.handlers.get(channel);
    const first = !set;
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    try {
      const client = await this.listening();
      if (first) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      // Not listening after all: forget the handler, so no reconnect is attempted for it.
      set.delete(handler);
      if (set.size === 0) this.handlers.delete(channel);
      throw err;
    }
    return async () => {
      const handlers = this.handlers.get(channel);
      if (!handlers?.delete(handler) || handlers.size > 0) return;
      this.handlers.delete(channel);
      const current = await this.listener?.catch(() => null);
      await current?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
    };
  }

  /**
   * Sends `payload` to the listeners of `channel` (pg_notify, delivered when the statement's transaction
   * commits). Throws invalid_input when the payload is over NOTIFY_MAX_BYTES (UTF-8): send a row's id
   * instead and let listeners read the row.
   */
  async notify(channel: string, payload: string): Promise<void> {
    checkChannel(channel);
    const bytes = Buffer.byteLength(payload, 'utf8');
    if (bytes > NOTIFY_MAX_BYTES)
      throw new CroniumError(
        'invalid_input',
        `A notification on "${channel}" carries ${bytes} bytes; PostgreSQL takes at most ${NOTIFY_MAX_BYTES}. Send the id of a row instead and let listeners read it.`,
      );
    await this.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    const listener = await this.listener?.catch(() => null);
    this.listener = null;
    await listener?.end().catch(() => {});
    await this.pool.end();
  }

  /** The listening connection, connecting (and re-listening on every channel) when there is none. */
  private listening(): Promise<pg.Client> {
    this.listener ??= this.connectListener().catch((err: unknown) => {
      this.listener = null;
      throw err;
    });
    return this.listener;
  }

  private async connectListener(): Promise<pg.Client> {
    const client = new pg.Client(this.config);
    client.on('notification', (message) => {
      for (const h of this.handlers.get(message.channel) ?? []) h.onPayload(message.payload ?? '');
    });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.closed) return;
      if (err) log().warn(`PostgreSQL listener lost (${this.location}): ${err.message}`);
      this.listener = null;
      if (this.handlers.size > 0) this.resume();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    this.reconnectDelay = 100;
    return client;
  }

  /** Reconnects the listener after a drop, backing off, and tells handlers to re-read what they follow. */
  private resume(): void {
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, 5000);
    setTimeout(() => {
      if (this.closed || this.handlers.size === 0 || this.listener) return;
      this.listening().then(
        () => {
          for (const set of this.handlers.values()) for (const h of set) h.onResumed?.();
        },
        () => this.resume(),
      );
    }, delay).unref();
  }
}

interface ListenHandler {
  onPayload: (payload: string) => void;
  onResumed?: () => void;
}

/** A channel is an identifier: NAMEDATALEN − 1 = 63 bytes at most, and not empty. */
function checkChannel(channel: string): void {
  const bytes = Buffer.byteLength(channel, 'utf8');
  if (bytes === 0 || bytes > 63 || channel.includes('\0'))
    throw new CroniumError('invalid_input', `"${channel}" is not a notification channel (1 to 63 bytes).`);
}

/**
 * Connects to `url` and checks the server (PostgreSQL 13 or newer), without migrating. Throws a
 * CroniumError whose sentence names host, port and database (connection_refused, dns, connect_timeout,
 * auth_failed, not_found, connection_lost), or invalid_input for a bad URL or an old server.
 */
export async function connectPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresDatabase> {
  const db = new PostgresDatabase(url, options);
  try {
    const row = await db.get<{ server_version_num: string }>('SHOW server_version_num');
    checkServerVersion(Number(row?.server_version_num), db.target);
    return db;
  } catch (err) {
    await db.close().catch(() => {});
    throw connectionError(err, db.target);
  }
}

/** connectPostgres, then the pending migrations (migrateSql): the store as every process opens it. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresDatabase> {
  const db = await connectPostgres(url, options);
  try {
    await migrateSql(db);
    return db;
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
