import type { Sql } from '../store/sql.ts';
import { LEGACY_FORMAT, type SecretStore } from './secretStore.ts';

/**
 * Calls `change` with every sealed value the store holds and writes back each one it returns a new text
 * for (null: left as it is), all in one transaction: every value is rewritten or none is (`change`'s
 * error rolls back and is rethrown). Returns how many values `change` was called with.
 *
 * Covers every column that holds sealed values: servers.secret, secret entries of jobs.env, secret
 * variables, tool credentials, and the runtime's JWT signing key in settings.
 *
 * `change` runs inside the transaction: it must not read the store through another handle (on SQLite
 * such a statement waits for this transaction to end), so a secret store's key is found before.
 */
export async function rewriteSealed(
  db: Sql,
  change: (sealed: string) => string | null | Promise<string | null>,
): Promise<number> {
  const sealed = (v: string | null | undefined): v is string => typeof v === 'string' && v !== '';
  return db.transaction(async (tx) => {
    let count = 0;
    const visit = async (v: string): Promise<string | null> => {
      count++;
      return change(v);
    };
    for (const row of await tx.all<{ id: string; secret: string | null }>('SELECT id, secret FROM servers')) {
      const next = sealed(row.secret) ? await visit(row.secret) : null;
      if (next !== null) await tx.run('UPDATE servers SET secret = ? WHERE id = ?', [next, row.id]);
    }
    for (const row of await tx.all<{ id: string; env: string }>('SELECT id, env FROM jobs')) {
      const env = JSON.parse(row.env) as { key: string; value: string; secret: boolean }[];
      let changed = false;
      for (const e of env) {
        const next = e.secret && sealed(e.value) ? await visit(e.value) : null;
        if (next !== null) {
          e.value = next;
          changed = true;
        }
      }
      if (changed) await tx.run('UPDATE jobs SET env = ? WHERE id = ?', [JSON.stringify(env), row.id]);
    }
    for (const row of await tx.all<{ key: string; value: string }>(
      'SELECT key, value FROM variables WHERE secret = 1',
    )) {
      const next = await visit(row.value);
      if (next !== null) await tx.run('UPDATE variables SET value = ? WHERE key = ?', [next, row.key]);
    }
    for (const row of await tx.all<{ id: string; secret: string }>('SELECT id, secret FROM tools')) {
      const next = await visit(row.secret);
      if (next !== null) await tx.run('UPDATE tools SET secret = ? WHERE id = ?', [next, row.id]);
    }
    for (const row of await tx.all<{ key: string; value: string }>(
      "SELECT key, value FROM settings WHERE key = 'runtime.jwt_key'",
    )) {
      const next = await visit(row.value);
      if (next !== null) await tx.run('UPDATE settings SET value = ? WHERE key = ?', [next, row.key]);
    }
    return count;
  });
}

/**
 * Re-seals every stored secret still in the desktop app's old format ("ss1:", Electron safeStorage) into
 * the shared format, so the CLI and browser mode can read it too. Only a store that can open "ss1:" (the
 * desktop app's, given safeStorage) can do this. All or nothing, in one transaction (rewriteSealed).
 * Returns how many values were converted.
 */
export async function resealLegacySecrets(db: Sql, store: SecretStore): Promise<number> {
  // Nothing old: done, without finding the data key. Otherwise the key is found before the transaction
  // (finding it reads the store, whose statements would wait for the transaction to end).
  const like = `${LEGACY_FORMAT}:%`;
  const any = await db.get(
    `SELECT 1 AS found WHERE EXISTS (SELECT 1 FROM servers WHERE secret LIKE ?)
       OR EXISTS (SELECT 1 FROM jobs WHERE env LIKE ?) OR EXISTS (SELECT 1 FROM variables WHERE value LIKE ?)
       OR EXISTS (SELECT 1 FROM tools WHERE secret LIKE ?) OR EXISTS (SELECT 1 FROM settings WHERE value LIKE ?)`,
    [like, `%"${like}`, like, like, like],
  );
  if (!any) return 0;
  await store.encrypt('');
  let converted = 0;
  await rewriteSealed(db, async (v) => {
    if (!v.startsWith(`${LEGACY_FORMAT}:`)) return null;
    converted++;
    return store.encrypt(await store.decrypt(v));
  });
  return converted;
}
