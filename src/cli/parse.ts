/**
 * Parsing helpers the CLI's commands (and the runtime API) share, written once. Each throws a CroniumError
 * of kind `invalid_input` naming the option as the user typed it.
 */
import { isAbsolute, resolve } from 'node:path';

import { CroniumError } from '../core/errors.ts';

/** Returns `value`, or throws "`what` is required." when it is missing or empty. */
export function need(value: string | undefined, what: string): string {
  if (!value)
    throw new CroniumError('invalid_input', `${what} is required.`, { fields: { [what]: 'required' } });
  return value;
}

/** Parses `--<field>` as JSON; throws `--<field> is not valid JSON: …` otherwise. */
export function parseJsonOption(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CroniumError('invalid_input', `--${field} is not valid JSON: ${(err as Error).message}`, {
      fields: { [field]: 'not valid JSON' },
    });
  }
}

export { parseJsonOrText } from '../core/jsonText.ts';

/** A comma-separated list (`--on a,b`), trimmed, empty items dropped. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The first line of what was piped in (`--password-stdin`), without its line ending. */
export function firstLine(text: string): string {
  return text.replace(/\r?\n$/, '').split(/\r?\n/)[0] ?? '';
}

/** `KEY=VALUE` as given to `flag`; throws when there is no `=` or no key. */
export function splitPair(pair: string, flag: string): { key: string; value: string } {
  const at = pair.indexOf('=');
  if (at <= 0)
    throw new CroniumError('invalid_input', `${flag} takes KEY=VALUE, got "${pair}".`, {
      fields: { env: 'KEY=VALUE' },
    });
  return { key: pair.slice(0, at), value: pair.slice(at + 1) };
}

/** --secret-env K=V, or --secret-env K to take the value from this shell's environment (kept out of history). */
export function splitSecretPair(pair: string, env: NodeJS.ProcessEnv): { key: string; value: string } {
  if (pair.includes('=')) return splitPair(pair, '--secret-env');
  const value = env[pair];
  if (value === undefined)
    throw new CroniumError('invalid_input', `--secret-env ${pair}: ${pair} is not set in this environment.`, {
      fields: { env: `${pair} is not set` },
    });
  return { key: pair, value };
}

/**
 * A path the user typed, made absolute against the directory they typed it in (`cwd`), so a saved key path
 * or a script file means the same thing whatever directory the command ran from. `~/` is left to the core.
 */
export function userPath(path: string, cwd: string = process.cwd()): string {
  if (path.startsWith('~') || isAbsolute(path)) return path;
  return resolve(cwd, path);
}

/** Commander's collector for repeatable options (`--tag a --tag b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * `--set name=value` pairs (run, schedule) as a run's parameters, values as typed (the core checks them
 * against the job's declaration); a name given twice is refused.
 * @throws CroniumError invalid_input.
 */
export function parseSetOptions(pairs: string[] = []): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0)
      throw new CroniumError('invalid_input', `--set takes NAME=VALUE, got "${pair}".`, {
        fields: { params: 'NAME=VALUE' },
      });
    const name = pair.slice(0, at);
    if (name in params)
      throw new CroniumError('invalid_input', `--set ${name} is given twice.`, {
        fields: { params: `${name} is given twice` },
      });
    params[name] = pair.slice(at + 1);
  }
  return params;
}
