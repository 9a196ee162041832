/**
 * A second process on a store, for the engine conformance suite (test/store.engines.test.ts):
 *   node engineChild.ts migrate ENGINE LOCATION START_AT
 *   node engineChild.ts count ENGINE LOCATION START_AT TIMES
 * ENGINE is sqlite (LOCATION a file) or postgres (LOCATION a URL). Both wait until START_AT (epoch ms) so
 * that two children really overlap, then print one JSON line: the versions they applied, or the counter
 * values their transactions saw.
 */
import { migrateSql } from '../../src/store/migrate.ts';
import { PostgresDatabase } from '../../src/store/postgresEngine.ts';
import type { SqlDatabase } from '../../src/store/sql.ts';
import { SqliteDatabase } from '../../src/store/sqliteEngine.ts';

const [mode, engine, location, startAt, times] = process.argv.slice(2);
const db: SqlDatabase = engine === 'sqlite' ? new SqliteDatabase(location!) : new PostgresDatabase(location!);
await db.get('SELECT 1 AS ready');
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
if (mode === 'migrate') {
  process.stdout.write(JSON.stringify(await migrateSql(db)) + '\n');
} else {
  const seen: number[] = [];
  for (let i = 0; i < Number(times); i++)
    seen.push(
      await db.transaction(async (tx) => {
        await tx.run('UPDATE counter SET n = n + 1 WHERE id = 1');
        return (await tx.get<{ n: number }>('SELECT n FROM counter WHERE id = 1'))!.n;
      }),
    );
  process.stdout.write(JSON.stringify(seen) + '\n');
}
await db.close();
