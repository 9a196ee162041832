import type { VariableChange } from '../api/types.ts';

export function when(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Date(ms).toLocaleString();
}

export function duration(start: number, end: number | null): string {
  if (end === null) return '…';
  const ms = end - start;
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function ms(value: number | null): string {
  return value === null ? '—' : `${value} ms`;
}

export function json(value: unknown): string {
  return value === undefined || value === null ? '—' : JSON.stringify(value, null, 2);
}

/** Parses JSON typed by a person; returns an error sentence instead of throwing. */
export function parseJsonField(text: string): { value: unknown } | { error: string } {
  if (text.trim() === '') return { value: null };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { error: `Not valid JSON: ${(err as Error).message}` };
  }
}

/**
 * A variable's value as typed in the form: JSON keeps its type, and plain text (which JSON cannot read and
 * which does not start like JSON) is taken as a string, as `cronium var set` does. Text that starts like a
 * JSON object, array or string — `{`, `[` or `"` — must be valid JSON: a typo there is an error, never a
 * string saved silently. Empty text is refused (a variable holds a value).
 */
export function variableValue(text: string): { value: unknown } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { error: 'Type a value (JSON, or plain text for a string).' };
  try {
    return { value: JSON.parse(trimmed) as unknown };
  } catch (err) {
    if (/^[[{"]/.test(trimmed)) return { error: `Input must be valid JSON: ${(err as Error).message}` };
    return { value: text };
  }
}

/** One variable an execution changed: `set k = <JSON>`, `set k = •••••• (secret)`, or `deleted k`. */
export function changeLabel(c: VariableChange): string {
  if (c.op === 'delete') return `deleted ${c.key}`;
  if (c.secret) return `set ${c.key} = •••••• (secret)`;
  return c.value === undefined ? `set ${c.key}` : `set ${c.key} = ${c.value}`;
}
