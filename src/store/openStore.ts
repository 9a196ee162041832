import { CroniumError } from '../core/errors.ts';
import { migrateSql } from './migrate.ts';
import type { SqlDatabase } from './sql.ts';
import { openSqlite } from './sqliteEngine.ts';

/** Where a store lives: the data directory's SQLite file, or a PostgreSQL server when a URL is given. */
export interface StoreOptions {
  /** The data directory (its `cronium.db` is the SQLite store; created 0700 if missing). */
  dataDir: string;
  /** `postgres://…` (or `postgresql://…`) puts the store on PostgreSQL instead (CRONIUM_DATABASE_URL). */
  databaseUrl?: string;
  /** Environment for PostgreSQL's PGPASSWORD and PGPASSFILE (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Opens the store and brings its schema up to date (migrateSql): the one way every process (desktop app,
 * CLI, browser mode) gets its database.
 * @throws CroniumError invalid_input for a database URL that is not postgres:// (or postgresql://); for
 *   PostgreSQL, what openPostgres throws (a sentence naming host, port and database: refused, auth
 *   failed, too old a server…); the engine's error when the file cannot be opened or a migration fails
 *   (the database is closed again).
 */
export async function openStore(options: StoreOptions): Promise<SqlDatabase> {
  if (options.databaseUrl) {
    if (/^postgres(?:ql)?:\/\//i.test(options.databaseUrl)) {
      // Loaded only for a PostgreSQL store: the local store's processes never pay for the pg driver.
      const { openPostgres } = await import('./postgresEngine.ts');
      return openPostgres(options.databaseUrl, { env: options.env });
    }
    throw new CroniumError(
      'invalid_input',
      'The database URL must start with postgres:// (leave it unset for the local SQLite file)',
    );
  }
  const db = openSqlite(options.dataDir);
  try {
    await migrateSql(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
