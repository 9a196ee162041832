/**
 * `cronium db copy`: moves a local store (the SQLite file) into a shared one (PostgreSQL, team mode), or
 * between any two stores behind the Sql seam. Every row lands in one target transaction, in foreign-key
 * order, in multi-row batches; sealed secrets are re-sealed from the source's key to the target's.
 */
import { CroniumError } from '../core/errors.ts';
import { migrateSql, SCHEMA_VERSION } from './migrate.ts';
import { mustPack } from './postgresLogWriter.ts';
import { packLogText } from './logPacking.ts';
import type { Sql, SqlDatabase, SqlValue } from './sql.ts';

/**
 * The tables copied, in foreign-key order (a row's parent is always copied before it), each with the
 * columns that order its rows (and page through them). Not copied: schema_migrations (the target keeps its
 * own), scheduler_lease (which process fires schedules is a per-store lease, taken afresh) and
 * cancel_requests (messages between running processes of the source).
 */
export const COPIED_TABLES = [
  { table: 'servers', key: ['id'] },
  { table: 'jobs', key: ['id'] },
  { table: 'schedules', key: ['id'] },
  { table: 'schedule_fires', key: ['schedule_id', 'fire_at'] },
  { table: 'tools', key: ['id'] },
  { table: 'runs', key: ['id'] },
  { table: 'executions', key: ['id'] },
  { table: 'log_chunks', key: ['execution_id', 'seq'] },
  { table: 'variables', key: ['key'] },
  { table: 'known_hosts', key: ['host', 'port'] },
  { table: 'settings', key: ['key'] },
] as const;

/**
 * Settings that belong to one machine's store and never move: the runtime's JWT signing key (each process
 * signs its own helpers' tokens), the check value of the local data key and the local store's id (which
 * names its keychain entry).
 */
export const MACHINE_LOCAL_SETTINGS = ['runtime.jwt_key', 'secrets.key_check', 'secrets.store_id'] as const;

/** Rows per INSERT and per page read from the source. */
const BATCH_ROWS = 500;

/** What copyStore is told. */
export interface CopyOptions {
  /**
   * Re-seals one sealed value: opens it with the source's key, seals it with the target's (the team key).
   * Its errors abort the copy (nothing is written).
   */
  reseal: (sealed: string) => string | Promise<string>;
  /** Replace whatever the target holds (see copyStore); without it a target with servers/jobs/runs is refused. */
  force?: boolean;
  /**
   * Settings written into the target with the rows, in the same transaction, in place of the source's of
   * the same key (the team key's check value, so the shared store opens with the key its secrets are
   * sealed with).
   */
  settings?: Record<string, string>;
}

/** What a copy did: rows per table, in the order copied, and whether the target's rows were replaced. */
export interface CopyReport {
  /** The schema version both stores are at. */
  version: number;
  tables: { table: string; rows: number }[];
  /** Sealed values re-sealed with the target's key. */
  secrets: number;
  /** Rows the target held before (in the copied tables) that --force removed. */
  replaced: number;
}

/**
 * Copies every row of `source` into `target`: the target is migrated to this build's newest schema first
 * (the source must be at it too: open it through migrateSql), then in ONE target transaction each table of
 * COPIED_TABLES in order, settings without MACHINE_LOCAL_SETTINGS. Sealed values are re-sealed through
 * `options.reseal`: servers.secret, the secret entries of jobs.env, jobs.webhook's URL, secret variables
 * and tools.secret. Log text holding a NUL is stored packed (PostgreSQL's TEXT cannot hold it).
 *
 * A target that already holds servers, jobs or runs is refused (CroniumError conflict) unless
 * `options.force`: then every row of the copied tables in the target is deleted first, in the same
 * transaction, so the target ends up holding exactly the source's rows. Any error rolls everything back.
 */
export async function copyStore(source: Sql, target: SqlDatabase, options: CopyOptions): Promise<CopyReport> {
  const sourceVersion = await versionOf(source);
  if (sourceVersion !== SCHEMA_VERSION)
    throw new CroniumError(
      'conflict',
      `The local store is at schema version ${sourceVersion}, this Cronium writes version ${SCHEMA_VERSION}: open it with this version first (cronium db migrate).`,
    );
  await migrateSql(target);
  const targetVersion = await versionOf(target);
  if (targetVersion !== SCHEMA_VERSION)
    throw new CroniumError(
      'conflict',
      `The target ${target.location} is at schema version ${targetVersion}, newer than this Cronium's ${SCHEMA_VERSION}: copy with the newer Cronium.`,
    );
  return target.transaction(async (tx) => {
    const held = await heldRows(tx);
    let replaced = 0;
    if (held.servers + held.jobs + held.runs > 0) {
      if (!options.force)
        throw new CroniumError(
          'conflict',
          `${target.location} already holds ${held.servers} servers, ${held.jobs} jobs and ${held.runs} runs. Copy into an empty database, or give --force to delete everything it holds and replace it with this store's data.`,
        );
    }
    if (options.force)
      for (const { table } of [...COPIED_TABLES].reverse())
        replaced += (await tx.run(`DELETE FROM ${table}`)).changes;
    const report: CopyReport = { version: SCHEMA_VERSION, tables: [], secrets: 0, replaced };
    const reseal = async (sealed: string) => {
      report.secrets++;
      return options.reseal(sealed);
    };
    for (const { table, key } of COPIED_TABLES) {
      let rows = 0;
      for await (const page of pages(source, table, key)) {
        const kept =
          table === 'settings'
            ? page.filter(
                (r) => !isMachineLocal(r.key) && !Object.hasOwn(options.settings ?? {}, String(r.key)),
              )
            : page;
        if (kept.length === 0) continue;
        const transformed: Record<string, unknown>[] = [];
        for (const row of kept) transformed.push(await transformRow(table, row, reseal));
        await insertRows(tx, table, transformed);
        rows += kept.length;
      }
      report.tables.push({ table, rows });
    }
    for (const [key, value] of Object.entries(options.settings ?? {}))
      await tx.run(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [key, value],
      );
    // Jump hosts were copied as NULL (a server may name one copied after it): now every server exists.
    for await (const page of pages(source, 'servers', ['id']))
      for (const row of page)
        if (row.jump_server_id !== null)
          await tx.run('UPDATE servers SET jump_server_id = ? WHERE id = ?', [
            row.jump_server_id as SqlValue,
            row.id as SqlValue,
          ]);
    return report;
  });
}

/** The newest version recorded in a store's schema_migrations (0 when it has none). */
async function versionOf(db: Sql): Promise<number> {
  const row = await db
    .get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')
    .catch(() => undefined);
  return row?.v ?? 0;
}

async function heldRows(db: Sql): Promise<{ servers: number; jobs: number; runs: number }> {
  const count = async (table: string) =>
    (await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))?.n ?? 0;
  return { servers: await count('servers'), jobs: await count('jobs'), runs: await count('runs') };
}

function isMachineLocal(key: unknown): boolean {
  return (MACHINE_LOCAL_SETTINGS as readonly unknown[]).includes(key);
}

/** The rows of a table in key order, BATCH_ROWS at a time (keyset paging: no OFFSET rescans). */
async function* pages(
  db: Sql,
  table: string,
  key: readonly string[],
): AsyncGenerator<Record<string, unknown>[]> {
  const order = key.join(', ');
  let after: SqlValue[] | null = null;
  for (;;) {
    const where: string = after ? `WHERE (${order}) > (${key.map(() => '?').join(', ')})` : '';
    const page: Record<string, unknown>[] = await db.all(
      `SELECT * FROM ${table} ${where} ORDER BY ${order} LIMIT ?`,
      [...(after ?? []), BATCH_ROWS],
    );
    if (page.length === 0) return;
    yield page;
    if (page.length < BATCH_ROWS) return;
    const last = page[page.length - 1]!;
    after = key.map((k) => last[k] as SqlValue);
  }
}

/** A source row as the target stores it: secrets re-sealed, jump hosts deferred, NUL log text packed. */
async function transformRow(
  table: string,
  row: Record<string, unknown>,
  reseal: (sealed: string) => Promise<string>,
): Promise<Record<string, unknown>> {
  const out = { ...row };
  switch (table) {
    case 'servers':
      out.jump_server_id = null;
      if (typeof out.secret === 'string') out.secret = await reseal(out.secret);
      break;
    case 'jobs': {
      const env = JSON.parse(String(out.env)) as { secret?: boolean; value: string }[];
      for (const entry of env) if (entry.secret) entry.value = await reseal(entry.value);
      out.env = JSON.stringify(env);
      if (typeof out.webhook === 'string') {
        const webhook = JSON.parse(out.webhook) as { url: string };
        webhook.url = await reseal(webhook.url);
        out.webhook = JSON.stringify(webhook);
      }
      break;
    }
    case 'variables':
      if (Number(out.secret) === 1) out.value = await reseal(String(out.value));
      break;
    case 'tools':
      out.secret = await reseal(String(out.secret));
      break;
    case 'log_chunks':
      if (out.packed === null && typeof out.text === 'string' && mustPack(out.text)) {
        out.packed = packLogText(out.text);
        out.text = '';
      }
      break;
  }
  return out;
}

/** One multi-row INSERT of rows that share their columns (a page of one table). */
async function insertRows(tx: Sql, table: string, rows: Record<string, unknown>[]): Promise<void> {
  const columns = Object.keys(rows[0]!);
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const values: SqlValue[] = [];
  for (const row of rows) for (const c of columns) values.push(row[c] as SqlValue);
  await tx.run(
    `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`,
    values,
  );
}
