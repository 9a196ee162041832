/**
 * Tests that look at the stored rows open the service's database file themselves (the facade does not
 * hand out its connection): a second connection on the same WAL file sees every committed write.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import type { CroniumApi } from '../../src/contract.ts';

/** A plain node:sqlite connection: tests read and write rows with it as they are stored. */
export type Database = DatabaseSync;

/** Runs `fn` on a connection of its own to the service's database file, closed afterwards. */
export async function withDatabase<T>(
  service: Pick<CroniumApi, 'appInfo'>,
  fn: (db: Database) => T | Promise<T>,
): Promise<T> {
  const db = new DatabaseSync(join((await service.appInfo()).dataDir, 'cronium.db'), { timeout: 10_000 });
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
