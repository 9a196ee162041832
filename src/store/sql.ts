/**
 * The one seam between the repositories and a database engine: the embedded SQLite file (the default, one
 * person on one machine) or a shared PostgreSQL server (team mode, `CRONIUM_DATABASE_URL`). Repositories
 * write portable SQL against it and never know which engine answers:
 * - `?` placeholders (the PostgreSQL engine numbers them `$1…` outside quoted text);
 * - `INSERT … ON CONFLICT … DO NOTHING / DO UPDATE` (never SQLite's `INSERT OR IGNORE/REPLACE`);
 * - names compared with `lower(a) = lower(?)`, LIKE through `lower()` (SQLite's COLLATE NOCASE and its
 *   case-blind LIKE do not exist in PostgreSQL);
 * - integers as JavaScript numbers (PostgreSQL's BIGINT columns holding epoch milliseconds come back as
 *   numbers, not strings), blobs as Uint8Array, booleans as 0/1 integers, JSON as TEXT.
 */

/** A value bound to a `?` placeholder. */
export type SqlValue = string | number | bigint | null | Uint8Array;

/** The engines a store can live on. */
export const SQL_ENGINES = ['sqlite', 'postgres'] as const;
export type SqlEngine = (typeof SQL_ENGINES)[number];

/** What a statement that writes reports: how many rows it inserted, updated or deleted. */
export interface SqlRunResult {
  changes: number;
}

/**
 * Statements on a database or inside one of its transactions. Every method is async: PostgreSQL answers
 * over a socket. Errors are the engine's own (node:sqlite's or pg's), with the SQL's message.
 */
export interface Sql {
  readonly engine: SqlEngine;
  /** Every row the query returns, as plain objects keyed by column name. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row, or undefined when there is none. */
  get<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement that writes (INSERT, UPDATE, DELETE); how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<SqlRunResult>;
  /** Several statements separated by `;`, without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs fn in one write transaction: all of it lands or none of it does (fn's error rolls back and is
   * rethrown). Statements inside must go through `tx`, never the outer handle. Called on a `tx`, it runs
   * fn in the same transaction (no savepoint).
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

/** An open database: statements, transactions, and its end. */
export interface SqlDatabase extends Sql {
  /** Where it lives, for messages: the SQLite file's path, or the PostgreSQL URL without its password. */
  readonly location: string;
  /** The engine's version: the SQLite library's (e.g. `3.50.4`) or the PostgreSQL server's. */
  version(): Promise<string>;
  /** Ends the connection(s); statements after it fail. Resolves when everything in flight has ended. */
  close(): Promise<void>;
}
