/**
 * The local store is this user's alone: cronium.db and its -wal/-shm files are mode 0600 even in a data
 * directory others can list (one made by hand, 0755), and an older store's 0644 file is tightened on open.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, expect, it } from 'vitest';

import { openSqlite } from '../src/store/sqliteEngine.ts';
import { tempDir } from './support/fixtures.ts';

const dir = tempDir('cronium-mode-');
afterAll(() => dir.remove());

const mode = (path: string) => statSync(path).mode & 0o777;

it('creates cronium.db and its WAL files 0600 in a 0755 data directory, and tightens an older 0644 file', async () => {
  const data = join(dir.path, 'data');
  mkdirSync(data, { mode: 0o755 });
  chmodSync(data, 0o755);
  const db = openSqlite(data);
  await db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);');
  const file = join(data, 'cronium.db');
  expect(mode(file)).toBe(0o600);
  expect(mode(`${file}-wal`)).toBe(0o600);
  await db.close();
  chmodSync(file, 0o644);
  const again = openSqlite(data);
  expect(mode(file)).toBe(0o600);
  expect(await again.all('SELECT x FROM t')).toEqual([{ x: 1 }]);
  await again.close();
});
