/**
 * Text that may be JSON, read the one way the CLI (`cronium var set`), the runtime API and the shell
 * helpers all read it: JSON when it parses as JSON, else the text itself as a string.
 */
export function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
