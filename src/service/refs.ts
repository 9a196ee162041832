/**
 * One way to turn what a user typed into a stored record, and one way to write a record whose name must be
 * unique. Every domain service resolves its references here, so the rule and its messages are written once.
 */
import { CroniumError, invalidInput } from '../core/errors.ts';
import type { Sql } from '../store/sql.ts';

/**
 * Where a kind of record is looked up. `byName` exists for named records (servers, jobs); `idsByPrefix`
 * for records whose long ids users abbreviate (executions). It returns at most two ids: enough to tell
 * "one" from "several".
 */
export interface RefSource<T> {
  /** The noun in messages: "server", "job", "execution". */
  noun: string;
  byId(id: string): Promise<T | null>;
  byName?(name: string): Promise<T | null>;
  idsByPrefix?(prefix: string): Promise<string[]>;
}

/** The shortest prefix of an id that is looked up (shorter ones match too much to mean anything). */
export const MIN_ID_PREFIX = 4;

/**
 * The record `ref` names: by id, else by name, else by a unique id prefix (of at least MIN_ID_PREFIX
 * characters), as far as the source supports each. Null when nothing matches.
 * @throws CroniumError invalid_input when a prefix matches several records.
 */
export async function findRef<T>(ref: string, source: RefSource<T>): Promise<T | null> {
  const direct = (await source.byId(ref)) ?? (await source.byName?.(ref)) ?? null;
  if (direct || !source.idsByPrefix || ref.length < MIN_ID_PREFIX) return direct;
  const matches = await source.idsByPrefix(ref);
  if (matches.length > 1)
    throw new CroniumError('invalid_input', `"${ref}" matches several ${source.noun}s; give more of the id.`);
  return matches.length === 1 ? source.byId(matches[0]!) : null;
}

/** The message for a reference that names nothing: `No server named "web".`, `No execution 3fa2.` */
export function notFoundMessage(ref: string, source: RefSource<unknown>): string {
  return source.byName ? `No ${source.noun} named "${ref}".` : `No ${source.noun} ${ref}.`;
}

/**
 * Like findRef, but a reference that names nothing is an error.
 * @throws CroniumError not_found (message from notFoundMessage), or invalid_input for an ambiguous prefix.
 */
export async function resolveRef<T>(ref: string, source: RefSource<T>): Promise<T> {
  const found = await findRef(ref, source);
  if (!found) throw new CroniumError('not_found', notFoundMessage(ref, source));
  return found;
}

/**
 * Inserts (existingId null) or updates a record whose name is unique, checking the name inside the same
 * write transaction so two writers cannot both take it. `repoOn` builds the record's repository on the
 * transaction: the check and `write` must use it (a statement on the outer handle would wait for the
 * transaction to end).
 * @throws CroniumError invalid_input `{ name: 'a server named "x" already exists' }` on a clash.
 */
export async function writeUniqueName<
  R extends { id: string },
  Repo extends { getByName(name: string): Promise<R | null> },
>(
  db: Sql,
  noun: string,
  repoOn: (sql: Sql) => Repo,
  name: string,
  existingId: string | null,
  write: (repo: Repo) => Promise<R>,
): Promise<R> {
  return db.transaction(async (tx) => {
    const repo = repoOn(tx);
    const clash = await repo.getByName(name);
    if (clash && clash.id !== existingId)
      throw invalidInput({ name: `a ${noun} named "${name}" already exists` });
    return write(repo);
  });
}
