/** Helpers the contract's schemas share: message wording and parsing into invalid_input errors. */
import * as z from 'zod';

import { HELPER_MODES } from '../core/domain.ts';
import { invalidInput } from '../core/errors.ts';

/** "a, b or c": the words of a message listing the allowed values. */
export function oneOf(values: readonly string[]): string {
  return `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** Parses with a schema, turning zod's issues into one invalid_input error with a message per field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const path = issue.path.join('.') || 'input';
    fields[path] ??= issue.message;
  }
  throw invalidInput(fields);
}

/** A job's or a run's helper mode (see HELPER_MODES). */
export const helperModeSchema = z.enum(HELPER_MODES, { message: `helper mode is ${oneOf(HELPER_MODES)}` });
