/**
 * Tests that look at the stored rows open the service's database file themselves (the facade does not
 * hand out its connection): a second connection on the same WAL file sees every committed write.
 */
import type { CroniumApi } from '../../src/contract.ts';
import { openDatabase, type Database } from '../../src/store/database.ts';

/** Runs `fn` on a connection of its own to the service's database file, closed afterwards. */
export function withDatabase<T>(service: Pick<CroniumApi, 'appInfo'>, fn: (db: Database) => T): T {
  const db = openDatabase(service.appInfo().dataDir);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
