/**
 * One way to turn what a user typed into a stored record, and one way to write a record whose name must be
 * unique. Every domain service resolves its references here, so the rule and its messages are written once.
 */
import { CroniumError, invalidInput } from '../core/errors.ts';
import { transaction, type Database } from '../store/database.ts';

/**
 * Where a kind of record is looked up. `byName` exists for named records (servers, jobs); `idsByPrefix`
 * for records whose long ids users abbreviate (executions). It returns at most two ids: enough to tell
 * "one" from "several".
 */
export interface RefSource<T> {
  /** The noun in messages: "server", "job", "execution". */
  noun: string;
  byId(id: string): T | null;
  byName?(name: string): T | null;
  idsByPrefix?(prefix: string): string[];
}

/** The shortest prefix of an id that is looked up (shorter ones match too much to mean anything). */
export const MIN_ID_PREFIX = 4;

/**
 * The record `ref` names: by id, else by name, else by a unique id prefix (of at least MIN_ID_PREFIX
 * characters), as far as the source supports each. Null when nothing matches.
 * @throws CroniumError invalid_input when a prefix matches several records.
 */
export function findRef<T>(ref: string, source: RefSource<T>): T | null {
  const direct = source.byId(ref) ?? source.byName?.(ref) ?? null;
  if (direct || !source.idsByPrefix || ref.length < MIN_ID_PREFIX) return direct;
  const matches = source.idsByPrefix(ref);
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
export function resolveRef<T>(ref: string, source: RefSource<T>): T {
  const found = findRef(ref, source);
  if (!found) throw new CroniumError('not_found', notFoundMessage(ref, source));
  return found;
}

/**
 * Inserts (existingId null) or updates a record whose name is unique, checking the name inside the same
 * write transaction so two writers cannot both take it.
 * @throws CroniumError invalid_input `{ name: 'a server named "x" already exists' }` on a clash.
 */
export function writeUniqueName<R extends { id: string }>(
  db: Database,
  source: RefSource<R> & { byName(name: string): R | null },
  name: string,
  existingId: string | null,
  write: () => R,
): R {
  return transaction(db, () => {
    const clash = source.byName(name);
    if (clash && clash.id !== existingId)
      throw invalidInput({ name: `a ${source.noun} named "${name}" already exists` });
    return write();
  });
}
