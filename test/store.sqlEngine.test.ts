/**
 * The SQLite engine behind `SqlDatabase`: migrations on it, transactions that land whole or not at all,
 * and statements from outside an open transaction kept out of it.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { migrateSql, SCHEMA_VERSION } from '../src/store/migrate.ts';
import { openSqlite } from '../src/store/sqliteEngine.ts';
import { tempDir } from './support/fixtures.ts';

const data = tempDir();
afterAll(async () => data.remove());

describe('SqliteDatabase', () => {
  it('migrates an empty file to the newest version once, and a second time applies nothing', async () => {
    const db = openSqlite(data.path);
    const first = await migrateSql(db);
    expect(first[first.length - 1]).toBe(SCHEMA_VERSION);
    expect(await migrateSql(db)).toEqual([]);
    const row = await db.get<{ v: number }>('SELECT max(version) AS v FROM schema_migrations');
    expect(row?.v).toBe(SCHEMA_VERSION);
    await db.close();
  });

  it('rolls back a failing transaction whole, and keeps outside statements out of an open one', async () => {
    const db = openSqlite(data.path);
    await migrateSql(db);
    await expect(
      db.transaction(async (tx) => {
        await tx.run("INSERT INTO settings (key, value) VALUES ('a', '1')");
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.get("SELECT 1 FROM settings WHERE key = 'a'")).toBeUndefined();

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tx = db.transaction(async (t) => {
      await t.run("INSERT INTO settings (key, value) VALUES ('b', '1')");
      await gate;
      throw new Error('rolled back');
    });
    // Issued while the transaction is open: it waits, so the rollback cannot take it along.
    const outside = db.run("INSERT INTO settings (key, value) VALUES ('c', '1')");
    release();
    await expect(tx).rejects.toThrow('rolled back');
    expect((await outside).changes).toBe(1);
    const keys = (await db.all<{ key: string }>('SELECT key FROM settings ORDER BY key')).map((r) => r.key);
    expect(keys).toContain('c');
    expect(keys).not.toContain('b');
    await db.close();
  });
});
