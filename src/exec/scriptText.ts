/**
 * Scripts as their authors meant them, whatever editor saved them: Windows (CRLF) and old Mac (CR) line
 * endings and a byte-order mark make Bash fail (`$'\r': command not found`), so the text is normalized at
 * run time, for every language, and the change is said in the execution's log.
 */
import { CroniumError } from '../core/errors.ts';

export interface NormalizedScript {
  text: string;
  /** What was changed, in words for the log; empty when the text was left as it was. */
  changes: string[];
}

/**
 * Removes a leading byte-order mark (U+FEFF) and turns CRLF and lone CR line endings into LF. Pure: the
 * same text always gives the same result, and an already normal text comes back unchanged. A CR inside a
 * line is a line ending too: Python and JavaScript read it so, and in Bash it is what breaks the script.
 */
export function normalizeScript(script: string): NormalizedScript {
  const changes: string[] = [];
  let text = script;
  if (text.startsWith('\ufeff')) {
    text = text.slice(1);
    changes.push('a byte-order mark (U+FEFF) at the start was removed');
  }
  if (text.includes('\r')) {
    const crlf = text.match(/\r\n/g)?.length ?? 0;
    const cr = (text.match(/\r/g)?.length ?? 0) - crlf;
    text = text.replace(/\r\n?/g, '\n');
    if (crlf) changes.push(`${crlf} Windows line ending${crlf === 1 ? '' : 's'} (CRLF) became LF`);
    if (cr) changes.push(`${cr} lone carriage return${cr === 1 ? '' : 's'} (CR) became LF`);
  }
  return { text, changes };
}

/**
 * Decodes a script file's bytes: UTF-16 LE or BE when the file starts with that byte-order mark (as
 * Windows editors save "Unicode"), otherwise UTF-8 (with or without its byte-order mark, which is kept for
 * normalizeScript to remove and report). Raises invalid_input for bytes that are neither, naming `label`.
 */
export function decodeScriptFile(bytes: Uint8Array, label: string): string {
  const bom = (a: number, b: number) => bytes[0] === a && bytes[1] === b;
  const encoding = bom(0xff, 0xfe) ? 'utf-16le' : bom(0xfe, 0xff) ? 'utf-16be' : 'utf-8';
  let text: string;
  try {
    text = new TextDecoder(encoding, { fatal: true, ignoreBOM: encoding === 'utf-8' }).decode(bytes);
  } catch {
    throw new CroniumError(
      'invalid_input',
      `${label} is not ${encoding === 'utf-8' ? 'UTF-8' : encoding.toUpperCase()} text: save it as UTF-8.`,
      { fields: { file: 'not text' } },
    );
  }
  if (text.includes('\0')) {
    throw new CroniumError(
      'invalid_input',
      `${label} contains NUL characters: is it a binary file, or UTF-16 without a byte-order mark? Save it as UTF-8.`,
      { fields: { file: 'not text' } },
    );
  }
  return text;
}
