import type { Sql } from '../store/sql.ts';
import { LEGACY_FORMAT, type SecretStore } from './secretStore.ts';

/**
 * Re-seals every stored secret still in the desktop app's old format ("ss1:", Electron safeStorage) into
 * the shared format, so the CLI and browser mode can read it too. Only a store that can open "ss1:" (the
 * desktop app's, given safeStorage) can do this. All or nothing, in one transaction.
 *
 * Covers every column that holds sealed values: servers.secret, secret entries of jobs.env, secret
 * variables, tool credentials, and the runtime's JWT signing key in settings. Returns how many values were converted.
 */
export async function resealLegacySecrets(db: Sql, store: SecretStore): Promise<number> {
  const legacy = (v: string | null | undefined): v is string =>
    typeof v === 'string' && v.startsWith(`${LEGACY_FORMAT}:`);
  const reseal = async (v: string) => store.encrypt(await store.decrypt(v));
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
  return db.transaction(async (tx) => {
    let count = 0;
    for (const row of await tx.all<{ id: string; secret: string | null }>('SELECT id, secret FROM servers'))
      if (legacy(row.secret)) {
        await tx.run('UPDATE servers SET secret = ? WHERE id = ?', [await reseal(row.secret), row.id]);
        count++;
      }
    for (const row of await tx.all<{ id: string; env: string }>('SELECT id, env FROM jobs')) {
      const env = JSON.parse(row.env) as { key: string; value: string; secret: boolean }[];
      let changed = false;
      for (const e of env)
        if (e.secret && legacy(e.value)) {
          e.value = await reseal(e.value);
          changed = true;
          count++;
        }
      if (changed) await tx.run('UPDATE jobs SET env = ? WHERE id = ?', [JSON.stringify(env), row.id]);
    }
    for (const row of await tx.all<{ key: string; value: string }>(
      'SELECT key, value FROM variables WHERE secret = 1',
    ))
      if (legacy(row.value)) {
        await tx.run('UPDATE variables SET value = ? WHERE key = ?', [await reseal(row.value), row.key]);
        count++;
      }
    for (const row of await tx.all<{ id: string; secret: string }>('SELECT id, secret FROM tools'))
      if (legacy(row.secret)) {
        await tx.run('UPDATE tools SET secret = ? WHERE id = ?', [await reseal(row.secret), row.id]);
        count++;
      }
    for (const row of await tx.all<{ key: string; value: string }>(
      "SELECT key, value FROM settings WHERE key = 'runtime.jwt_key'",
    ))
      if (legacy(row.value)) {
        await tx.run('UPDATE settings SET value = ? WHERE key = ?', [await reseal(row.value), row.key]);
        count++;
      }
    return count;
  });
}
