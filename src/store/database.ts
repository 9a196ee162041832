import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { MIGRATIONS } from './migrations.ts';

export type Database = DatabaseSync;

/**
 * Opens (creating if needed) the one SQLite file in the data directory: WAL so readers never block the
 * writer, a busy timeout so the desktop app and the CLI can share it, foreign keys on.
 */
export function openDatabase(dataDir: string): Database {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(join(dataDir, 'cronium.db'), { timeout: 10_000 });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  migrate(db);
  return db;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, each in its own transaction.
 * `target` stops after that version (tests upgrade from every older schema); default: the newest.
 */
export function migrate(db: Database, target = MIGRATIONS[MIGRATIONS.length - 1]!.version): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  for (const migration of MIGRATIONS) {
    if (migration.version > target) break;
    // BEGIN IMMEDIATE takes the write lock first, so two processes starting at once cannot both migrate.
    transaction(db, () => {
      const done = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version);
      if (done) return;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    });
  }
}

/** Runs fn in one write transaction: all of it lands or none of it does. */
export function transaction<T>(db: Database, fn: () => T): T {
  if (db.isTransaction) return fn();
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
