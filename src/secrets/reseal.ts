import { transaction, type Database } from '../store/database.ts';
import { LEGACY_FORMAT, type SecretStore } from './secretStore.ts';

/**
 * Re-seals every stored secret still in the desktop app's old format ("ss1:", Electron safeStorage) into
 * the shared format, so the CLI and browser mode can read it too. Only a store that can open "ss1:" (the
 * desktop app's, given safeStorage) can do this. All or nothing, in one transaction.
 *
 * Covers every column that holds sealed values: servers.secret, secret entries of jobs.env, secret
 * variables, tool credentials, and the runtime's JWT signing key in settings. Returns how many values were converted.
 */
export function resealLegacySecrets(db: Database, store: SecretStore): number {
  const legacy = (v: string | null | undefined): v is string =>
    typeof v === 'string' && v.startsWith(`${LEGACY_FORMAT}:`);
  const reseal = (v: string) => store.encrypt(store.decrypt(v));
  return transaction(db, () => {
    let count = 0;
    for (const row of db.prepare('SELECT id, secret FROM servers').all() as {
      id: string;
      secret: string | null;
    }[])
      if (legacy(row.secret)) {
        db.prepare('UPDATE servers SET secret = ? WHERE id = ?').run(reseal(row.secret), row.id);
        count++;
      }
    for (const row of db.prepare('SELECT id, env FROM jobs').all() as { id: string; env: string }[]) {
      const env = JSON.parse(row.env) as { key: string; value: string; secret: boolean }[];
      let changed = false;
      for (const e of env)
        if (e.secret && legacy(e.value)) {
          e.value = reseal(e.value);
          changed = true;
          count++;
        }
      if (changed) db.prepare('UPDATE jobs SET env = ? WHERE id = ?').run(JSON.stringify(env), row.id);
    }
    for (const row of db.prepare('SELECT key, value FROM variables WHERE secret = 1').all() as {
      key: string;
      value: string;
    }[])
      if (legacy(row.value)) {
        db.prepare('UPDATE variables SET value = ? WHERE key = ?').run(reseal(row.value), row.key);
        count++;
      }
    for (const row of db.prepare('SELECT id, secret FROM tools').all() as { id: string; secret: string }[])
      if (legacy(row.secret)) {
        db.prepare('UPDATE tools SET secret = ? WHERE id = ?').run(reseal(row.secret), row.id);
        count++;
      }
    for (const row of db.prepare("SELECT key, value FROM settings WHERE key = 'runtime.jwt_key'").all() as {
      key: string;
      value: string;
    }[])
      if (legacy(row.value)) {
        db.prepare('UPDATE settings SET value = ? WHERE key = ?').run(reseal(row.value), row.key);
        count++;
      }
    return count;
  });
}
