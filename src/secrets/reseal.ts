import { transaction, type Database } from '../store/database.ts';
import { LEGACY_FORMAT, type SecretStore } from './secretStore.ts';

/**
 * Calls `change` with every sealed value the store holds and writes back each one it returns a new text
 * for (null: left as it is), all in one transaction: every value is rewritten or none is (`change`'s
 * error rolls back and is rethrown). Returns how many values `change` was called with.
 *
 * Covers every column that holds sealed values: servers.secret, secret entries of jobs.env, secret
 * variables, tool credentials, and the runtime's JWT signing key in settings.
 */
export function rewriteSealed(db: Database, change: (sealed: string) => string | null): number {
  const sealed = (v: string | null | undefined): v is string => typeof v === 'string' && v !== '';
  return transaction(db, () => {
    let count = 0;
    const visit = (v: string): string | null => {
      count++;
      return change(v);
    };
    for (const row of db.prepare('SELECT id, secret FROM servers').all() as {
      id: string;
      secret: string | null;
    }[]) {
      const next = sealed(row.secret) ? visit(row.secret) : null;
      if (next !== null) db.prepare('UPDATE servers SET secret = ? WHERE id = ?').run(next, row.id);
    }
    for (const row of db.prepare('SELECT id, env FROM jobs').all() as { id: string; env: string }[]) {
      const env = JSON.parse(row.env) as { key: string; value: string; secret: boolean }[];
      let changed = false;
      for (const e of env) {
        const next = e.secret && sealed(e.value) ? visit(e.value) : null;
        if (next !== null) {
          e.value = next;
          changed = true;
        }
      }
      if (changed) db.prepare('UPDATE jobs SET env = ? WHERE id = ?').run(JSON.stringify(env), row.id);
    }
    for (const row of db.prepare('SELECT key, value FROM variables WHERE secret = 1').all() as {
      key: string;
      value: string;
    }[]) {
      const next = visit(row.value);
      if (next !== null) db.prepare('UPDATE variables SET value = ? WHERE key = ?').run(next, row.key);
    }
    for (const row of db.prepare('SELECT id, secret FROM tools').all() as { id: string; secret: string }[]) {
      const next = visit(row.secret);
      if (next !== null) db.prepare('UPDATE tools SET secret = ? WHERE id = ?').run(next, row.id);
    }
    for (const row of db.prepare("SELECT key, value FROM settings WHERE key = 'runtime.jwt_key'").all() as {
      key: string;
      value: string;
    }[]) {
      const next = visit(row.value);
      if (next !== null) db.prepare('UPDATE settings SET value = ? WHERE key = ?').run(next, row.key);
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
export function resealLegacySecrets(db: Database, store: SecretStore): number {
  let converted = 0;
  rewriteSealed(db, (v) => {
    if (!v.startsWith(`${LEGACY_FORMAT}:`)) return null;
    converted++;
    return store.encrypt(store.decrypt(v));
  });
  return converted;
}
