import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';

import type { Sql, SqlDatabase, SqlRunResult, SqlValue } from './sql.ts';

/**
 * The embedded engine: one SQLite file through node:sqlite. Its calls are synchronous, so a statement
 * costs no more than before it was wrapped in a Promise; prepared statements are cached by their text.
 *
 * One connection serves the whole process, so an open transaction would swallow any statement another
 * task issues meanwhile (and a rollback would undo it): while a transaction is open, statements from
 * outside it wait until it ends.
 */
export class SqliteDatabase implements SqlDatabase {
  readonly engine = 'sqlite' as const;
  readonly location: string;
  /** The node:sqlite handle, for what only SQLite has (the log writer's own thread opens its own). */
  readonly raw: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  /** Resolves when the open transaction ends; null when none is open. */
  private busy: Promise<void> | null = null;
  private readonly inside: Sql;

  /** Opens (creating if needed) `path`: WAL, a 10 s busy timeout shared with other processes, foreign keys. */
  constructor(path: string) {
    this.location = path;
    this.raw = new DatabaseSync(path, { timeout: 10_000 });
    this.raw.exec('PRAGMA journal_mode = WAL');
    this.raw.exec('PRAGMA synchronous = NORMAL');
    this.raw.exec('PRAGMA foreign_keys = ON');
    // The handle fn gets inside a transaction: straight to the connection, never waiting on itself.
    this.inside = {
      engine: 'sqlite',
      all: async (sql, params) => this.allNow(sql, params),
      get: async (sql, params) => this.getNow(sql, params),
      run: async (sql, params) => this.runNow(sql, params),
      exec: async (sql) => this.raw.exec(sql),
      transaction: (fn) => fn(this.inside),
    };
  }

  async all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    while (this.busy) await this.busy;
    return this.allNow(sql, params);
  }

  async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    while (this.busy) await this.busy;
    return this.getNow(sql, params);
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<SqlRunResult> {
    while (this.busy) await this.busy;
    return this.runNow(sql, params);
  }

  async exec(sql: string): Promise<void> {
    while (this.busy) await this.busy;
    this.raw.exec(sql);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    while (this.busy) await this.busy;
    let end!: () => void;
    this.busy = new Promise((resolve) => (end = resolve));
    try {
      // IMMEDIATE takes the write lock first: two processes cannot both read, then both write.
      this.raw.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.inside);
        this.raw.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.raw.isTransaction) this.raw.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.busy = null;
      end();
    }
  }

  async version(): Promise<string> {
    // Asked of the engine here, so that no portable code path calls the SQLite-only sqlite_version().
    return (this.getNow<{ version: string }>('SELECT sqlite_version() AS version') ?? { version: '' })
      .version;
  }

  async close(): Promise<void> {
    while (this.busy) await this.busy;
    this.statements.clear();
    if (this.raw.isOpen) this.raw.close();
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.raw.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private allNow<T>(sql: string, params: readonly SqlValue[] = []): T[] {
    return this.statement(sql).all(...(params as SQLInputValue[])) as T[];
  }

  private getNow<T>(sql: string, params: readonly SqlValue[] = []): T | undefined {
    return this.statement(sql).get(...(params as SQLInputValue[])) as T | undefined;
  }

  private runNow(sql: string, params: readonly SqlValue[] = []): SqlRunResult {
    return { changes: Number(this.statement(sql).run(...(params as SQLInputValue[])).changes) };
  }
}

/**
 * Opens the data directory's SQLite file (`<dataDir>/cronium.db`), creating the directory 0700 if needed,
 * and keeps the file (with its -wal and -shm files) readable by this user only: node:sqlite creates it
 * under the umask (0644 as a rule), and history and logs are nobody else's, whatever the directory's mode.
 */
export function openSqlite(dataDir: string): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'cronium.db');
  const db = new SqliteDatabase(file);
  for (const path of [file, `${file}-wal`, `${file}-shm`])
    try {
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    } catch {
      // Not there yet (SQLite gives the -wal and -shm files the database's mode), or not this user's.
    }
  return db;
}
