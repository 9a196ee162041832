import { MIGRATIONS, type Migration } from './migrations.ts';
import type { Sql } from './sql.ts';

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** An arbitrary, fixed key for PostgreSQL's advisory lock that serializes migrations across processes. */
const MIGRATION_LOCK = 4_242_001;

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, each in its own transaction,
 * on either engine (a migration's `postgres` text on PostgreSQL, else its `sql`). `target` stops after that
 * version (tests upgrade from every older schema); default: the newest. Returns the versions applied.
 * Two processes starting at once never both apply a step: SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory
 * transaction lock. Throws the engine's error of a failing step (earlier steps stay applied).
 */
export async function migrateSql(db: Sql, target = SCHEMA_VERSION): Promise<number[]> {
  const bigint = db.engine === 'postgres' ? 'BIGINT' : 'INTEGER';
  // Under the same lock as the steps: two PostgreSQL sessions creating the table at once would otherwise
  // collide in its catalog (CREATE TABLE IF NOT EXISTS is not safe against a concurrent create).
  await db.transaction(async (tx) => {
    if (tx.engine === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${bigint} NOT NULL)`,
    );
  });
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version > target) break;
    const did = await db.transaction(async (tx) => {
      if (tx.engine === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
      if (await tx.get('SELECT 1 AS done FROM schema_migrations WHERE version = ?', [migration.version]))
        return false;
      await tx.exec(migrationText(migration, tx.engine));
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
      return true;
    });
    if (did) applied.push(migration.version);
  }
  return applied;
}

/** The text of a migration for an engine. */
export function migrationText(migration: Migration, engine: Sql['engine']): string {
  return engine === 'postgres' ? (migration.postgres ?? migration.sql) : migration.sql;
}
