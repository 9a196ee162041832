/** The runtime API's variable routes: keys from path segments and read-change-write updates. */
import { invalidInput } from '../core/errors.ts';
import { VARIABLE_KEY_MESSAGE, variableKey } from '../core/rules.ts';
import type { VariableAccess } from './executionRegistry.ts';
import { HttpError } from './runtimeHttp.ts';

/** Reads, changes and writes a variable in one store transaction when the store offers one. */
export async function updateVariable(
  variables: VariableAccess,
  key: string,
  change: (current: unknown) => unknown,
  updatedBy: string,
): Promise<unknown> {
  if (variables.update) return variables.update(key, change, updatedBy);
  const next = change(variables.get(key)?.value);
  variables.set(key, next, updatedBy);
  return next;
}

/** A variable key from a path segment, held to the key rule every door uses (src/core/rules.ts). */
export function variableName(segment: string): string {
  const name = decodeKey(segment);
  if (!variableKey.safeParse(name).success)
    throw new HttpError(400, 'invalid_input', invalidInput({ key: VARIABLE_KEY_MESSAGE }).message);
  return name;
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    throw new HttpError(400, 'bad_request', 'The variable key is not valid URL encoding.');
  }
}
