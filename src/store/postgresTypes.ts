/**
 * PostgreSQL's side of the portable SQL (see sql.ts): `?` placeholders numbered `$1…`, and the value
 * conversions of this store's pools (BIGINT and NUMERIC as exact JavaScript numbers, BYTEA as Buffers).
 */
import pg from 'pg';

import { CroniumError } from '../core/errors.ts';
import type { SqlValue } from './sql.ts';

/** PostgreSQL's type OIDs (pg_type.oid) that need a parser other than node-postgres' default. */
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Rewrites portable `?` placeholders to PostgreSQL's `$1, $2…`, leaving any `?` inside quoted text alone:
 * 'string literals' (with '' doubled), E'escape strings' (with backslash escapes), "quoted identifiers",
 * $tag$dollar-quoted strings$tag$, -- line comments and (nested) block comments, as the PostgreSQL lexer
 * reads them (SQL Syntax, §4.1). Returns the text and how many placeholders it numbered.
 */
export function numberPlaceholders(sql: string): { text: string; count: number } {
  let out = '';
  let count = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '?') {
      out += `$${++count}`;
      i++;
    } else if (c === "'" || c === '"') {
      // An E'…' string lets a backslash escape the quote; plain strings and identifiers only double it.
      const escapes = c === "'" && /[eE]$/.test(out) && !/[\w$]$/.test(out.slice(0, -1));
      let j = i + 1;
      while (j < n) {
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      out += sql.slice(i, j);
      i = j;
    } else if (c === '$' && !/[\w$]$/.test(out)) {
      // $tag$ … $tag$ (the tag may be empty); a `$1` written by hand is not a dollar quote.
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (!tag) {
        out += c;
        i++;
        continue;
      }
      const end = sql.indexOf(tag[0], i + tag[0].length);
      const stop = end < 0 ? n : end + tag[0].length;
      out += sql.slice(i, stop);
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, count };
}

/** A BIGINT as a JavaScript number; one beyond Number.MAX_SAFE_INTEGER is an error, never a rounding. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new CroniumError(
      'internal',
      `PostgreSQL returned the integer ${text}, beyond what a JavaScript number holds exactly (±${Number.MAX_SAFE_INTEGER}).`,
    );
  return value;
}

/** A NUMERIC (what sum() of BIGINTs returns) as a number: whole values as parseInt8, others as floats. */
function parseNumeric(text: string): number {
  return /^-?\d+$/.test(text) ? parseInt8(text) : Number(text);
}

/**
 * The parsers of this store's pools: counts and epoch milliseconds as numbers. Set per pool, never on
 * pg's global parser table, so another library in the same process keeps pg's defaults.
 */
export const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary' && oid === INT8_OID) return parseInt8;
    if (format !== 'binary' && oid === NUMERIC_OID) return parseNumeric;
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
} as unknown as pg.CustomTypesConfig;

/** A bound value as pg sends it: BIGINTs as decimal text, blobs as Buffers (BYTEA). */
export function toParam(value: SqlValue | undefined): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array && !Buffer.isBuffer(value))
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return value;
}
