/**
 * The rules every helper follows, whichever way it reaches the app (API mode, bundled mode) and in every
 * language: the size limits, how a condition is read, what an absent input is. Defined once here; the
 * runtime API and the collector apply them, and the helpers get the limits through their environment
 * (CRONIUM_MAX_OUTPUT_BYTES, CRONIUM_MAX_VARIABLE_BYTES) to refuse a value before writing it.
 */
import { invalidInput } from '../core/errors.ts';
import {
  FIELD_KEY_RESERVED_MESSAGE,
  outputFieldKey,
  RESERVED_FIELD_KEYS,
  VARIABLE_KEY_MESSAGE,
  VARIABLE_KEY_PATTERN,
} from '../core/rules.ts';
import { MAX_TOOL_ACTIONS } from '../tools/toolActions.ts';

/** The largest output a script may record: 16 MiB of JSON text (UTF-8 bytes, compact). */
export const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** The largest value a shared variable may hold: 1 MiB of JSON text (UTF-8 bytes, compact). */
export const MAX_VARIABLE_BYTES = 1024 * 1024;

/** What a helper says for a variable key outside the key rule: the `invalid_input` message of every door. */
export const KEY_ERROR = invalidInput({ key: VARIABLE_KEY_MESSAGE }).message;
/** What a helper says for an output field key that is one of RESERVED_FIELD_KEYS. */
export const FIELD_KEY_ERROR = invalidInput({ key: FIELD_KEY_RESERVED_MESSAGE }).message;

/**
 * The environment that tells the helpers the limits and the key rule (src/core/rules.ts), so that every
 * helper, in both modes and every language, refuses what the app would refuse before writing or sending
 * anything: CRONIUM_KEY_PATTERN (a regular expression), CRONIUM_KEY_ERROR (its message),
 * CRONIUM_FIELD_KEY_RESERVED (space-separated names an output field may not have) and
 * CRONIUM_FIELD_KEY_ERROR.
 */
export function limitEnv(): { key: string; value: string; secret: boolean }[] {
  return [
    { key: 'CRONIUM_MAX_OUTPUT_BYTES', value: String(MAX_OUTPUT_BYTES), secret: false },
    { key: 'CRONIUM_MAX_VARIABLE_BYTES', value: String(MAX_VARIABLE_BYTES), secret: false },
    { key: 'CRONIUM_KEY_PATTERN', value: VARIABLE_KEY_PATTERN, secret: false },
    { key: 'CRONIUM_KEY_ERROR', value: KEY_ERROR, secret: false },
    { key: 'CRONIUM_FIELD_KEY_RESERVED', value: RESERVED_FIELD_KEYS.join(' '), secret: false },
    { key: 'CRONIUM_FIELD_KEY_ERROR', value: FIELD_KEY_ERROR, secret: false },
    { key: 'CRONIUM_MAX_TOOL_ACTIONS', value: String(MAX_TOOL_ACTIONS), secret: false },
  ];
}

/**
 * Checks an output field key (src/core/rules.ts outputFieldKey). Returns the `invalid_input` message, or
 * null when the key is fine.
 */
export function checkFieldKey(key: string): string | null {
  const parsed = outputFieldKey.safeParse(key);
  return parsed.success ? null : invalidInput({ key: parsed.error.issues[0]!.message }).message;
}

/** Size of a value as the store keeps it: UTF-8 bytes of its compact JSON text. */
export function jsonSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

const MIB = 1024 * 1024;

/**
 * The message for a value over a limit, worded the same by every helper (the helpers build the same
 * sentence), e.g. "the output is 17000000 bytes, over the limit of 16777216 bytes (16 MiB)".
 */
export function overLimitMessage(
  what: 'output' | 'variable value' | 'tool action',
  size: number,
  limit: number,
): string {
  return `the ${what} is ${size} bytes, over the limit of ${limit} bytes (${limit / MIB} MiB)`;
}

/** Returns the over-limit message for an output, or null when it fits. */
export function checkOutput(value: unknown): string | null {
  const size = jsonSize(value);
  return size > MAX_OUTPUT_BYTES ? overLimitMessage('output', size, MAX_OUTPUT_BYTES) : null;
}

/** Returns the over-limit message for a variable's value, or null when it fits. */
export function checkVariable(value: unknown): string | null {
  const size = jsonSize(value);
  return size > MAX_VARIABLE_BYTES ? overLimitMessage('variable value', size, MAX_VARIABLE_BYTES) : null;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/**
 * A condition as Cronium reads it (its Bash SDK's table, applied in every language): booleans as they
 * are; numbers, 0 is false and any other is true; the words true/1/yes/on and false/0/no/off (any case,
 * surrounding spaces ignored). Anything else is refused: returns null.
 */
export function coerceCondition(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value !== 0;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  return null;
}

/** What every helper says when a condition cannot be read. */
export const CONDITION_USAGE = 'setCondition takes true/false, 1/0, yes/no or on/off';

/** cronium.input() when the run was given no input: an empty object, as Cronium's own helpers give. */
export function inputOrEmpty(input: unknown): unknown {
  return input === undefined || input === null ? {} : input;
}

/** A variable's value as Bash prints it: strings raw, everything else as JSON; unset (or null) as empty. */
export function variableText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A JSON number's text (RFC 8259 §6): what `by` and a counting variable's text may be. */
const NUMBER_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;

/** What every helper says for an increment that is not a finite number. */
export const INCREMENT_USAGE = 'the increment must be a finite number';

/** What every helper says when the variable to increment holds something else than a number. */
export const notNumeric = (key: string) => `variable "${key}" is not a number, so it was not incremented`;

/** A finite number from a number or a number's text (trimmed); null for anything else. */
function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' || !NUMBER_TEXT.test(value.trim())) return null;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : null;
}

/**
 * incrementVariable: the current value (unset, null or empty counts as 0; a number, or text that is one)
 * plus `by` (default 1; a finite number, or text that is one). Returns the new number, or an error
 * message (the value is then left as it was). Integers stay integers (JSON text "3", never "3.0"); a sum
 * of two integers must stay exact (within ±2^53−1, Number.MAX_SAFE_INTEGER), a sum with a fraction is a
 * double's sum.
 */
export function incrementValue(
  key: string,
  current: unknown,
  by: unknown,
): { value: number } | { error: string } {
  const step = by === undefined || by === null ? 1 : numberOf(by);
  if (step === null) return { error: INCREMENT_USAGE };
  const now = variableText(current).trim() === '' ? 0 : numberOf(current);
  if (now === null)
    return {
      error: notNumeric(key),
    };
  const value = now + step;
  if (!Number.isFinite(value)) return { error: `variable "${key}" would leave the range of numbers` };
  if (Number.isInteger(now) && Number.isInteger(step) && !Number.isSafeInteger(value))
    return {
      error: `variable "${key}" would pass ${Number.MAX_SAFE_INTEGER}, past which whole numbers are not exact`,
    };
  return { value };
}

/**
 * Cronium's appendVariable: when the variable is unset or empty the text itself, else the current value
 * (as Bash prints it) + separator + text. The result is a string.
 */
export function appendValue(current: unknown, text: unknown, separator: unknown): string | { error: string } {
  if (typeof text !== 'string' || (separator !== undefined && typeof separator !== 'string'))
    return { error: 'appendVariable takes text and an optional separator' };
  const now = variableText(current);
  return now === '' ? text : now + (separator ?? '') + text;
}

/**
 * A field of a JSON object as Bash prints it (cronium_event_field, `cronium.input <field>`): a dotted
 * path ("server.address") through nested objects; strings raw, other values as JSON, missing as empty.
 */
export function fieldText(value: unknown, path: string): string {
  let at: unknown = value;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return '';
    at = (at as Record<string, unknown>)[part];
  }
  return variableText(at);
}

/**
 * The fields bundled mode writes as files for Bash's field lookups: every top-level key and every key
 * of a nested object one level down ("server.address"), at most `max` of them.
 */
export function fieldPaths(value: unknown, max = 500): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const paths: string[] = [];
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    paths.push(key);
    if (typeof inner === 'object' && inner !== null && !Array.isArray(inner))
      for (const sub of Object.keys(inner)) paths.push(`${key}.${sub}`);
    if (paths.length >= max) break;
  }
  return paths.slice(0, max);
}

/**
 * Bash's `cronium.output <key> <value>` (Cronium's runner helpers): the output becomes an object (a
 * non-object output so far is replaced) with that field set.
 */
export function withOutputField(output: unknown, key: string, value: unknown): Record<string, unknown> {
  const base =
    typeof output === 'object' && output !== null && !Array.isArray(output)
      ? (output as Record<string, unknown>)
      : {};
  return { ...base, [key]: value };
}
