/** Rules for job parameters: declarations, `--set` values and the `name:type=default` spec. */
import * as z from 'zod';

import { PARAM_TYPES, type JobParam, type ParamType, type ParamValue } from '../domain.ts';
import { invalidInput } from '../errors.ts';
import { CONTROL, NUL } from './chars.ts';
import { description, ENV_VALUE_MAX, variableKey } from './values.ts';

/**
 * A schedule's job parameters (RunRequest `params`, `--set name=value`): up to 100 names of the variable
 * key rule, each a string (as typed), number or boolean. The job's declared types are checked when a run
 * starts.
 */
export const params = z
  .record(
    variableKey,
    z.union([
      z.string().max(ENV_VALUE_MAX, 'a parameter value is at most 127.5 KiB'),
      z.number(),
      z.boolean(),
    ]),
  )
  .refine((p) => Object.keys(p).length <= 100, 'at most 100 parameters')
  .default({});
// ---- job parameters -----------------------------------------------------------------------------------

/**
 * A parameter's name: a key of the script's `cronium.input()` object and what `--set name=value` names.
 * Like an environment name (letters, digits, "_", not starting with a digit), so every language reads it
 * as a plain field (`input.name`, `input["name"]`, `cronium.input name` in Bash).
 */
export const PARAM_NAME_MESSAGE = 'a parameter name is letters, digits and "_", not starting with a digit';
export const paramName = z
  .string()
  .min(1, 'a parameter needs a name')
  .max(64, 'a parameter name is at most 64 characters')
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, PARAM_NAME_MESSAGE);

/** A choice's value: 1–100 characters, no control characters, no "|" (the separator in `choice(a|b)`). */
const choiceValue = z
  .string()
  .min(1, 'a choice is not empty')
  .max(100, 'a choice is at most 100 characters')
  .refine((c) => !CONTROL.test(c) && !c.includes('|'), 'a choice has no control characters or "|"');

/** A string parameter's value: at most 64 KiB, no NUL (it may end up in an argument or a file name). */
const PARAM_STRING_MAX = 64 * 1024;

/** Words a boolean parameter accepts as text (any case): the condition words of the helpers. */
const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];
/** A decimal number as people write it: `12`, `-3.5`, `.5`, `1e3`; not hex, not blank, not `Infinity`. */
const DECIMAL = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

/**
 * Checks one value for a parameter and returns it in the parameter's type, or why it is not one. Text
 * (`--set count=3`, a form field) and JSON values (`3`, `true`) are both accepted: a number from decimal
 * text, a boolean from true/false/yes/no/on/off/1/0, a choice only as one of its values (exact case).
 */
export function paramValue(
  param: Pick<JobParam, 'name' | 'type' | 'choices'>,
  raw: unknown,
): { value: ParamValue } | { error: string } {
  const shown = typeof raw === 'string' ? `"${raw}"` : JSON.stringify(raw);
  switch (param.type) {
    case 'string':
      if (typeof raw !== 'string') return { error: `${param.name} is text; got ${shown}` };
      if (raw.length > PARAM_STRING_MAX) return { error: `${param.name} is at most 64 KiB` };
      if (raw.includes(NUL)) return { error: `${param.name} cannot contain a NUL character` };
      return { value: raw };
    case 'number': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && DECIMAL.test(raw.trim())
            ? Number(raw)
            : NaN;
      if (!Number.isFinite(n)) return { error: `${param.name} is a number; got ${shown}` };
      return { value: n };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      const word = typeof raw === 'string' ? raw.trim().toLowerCase() : String(raw);
      if (TRUE_WORDS.includes(word)) return { value: true };
      if (FALSE_WORDS.includes(word)) return { value: false };
      return { error: `${param.name} is true or false; got ${shown}` };
    }
    case 'choice': {
      const text = typeof raw === 'number' ? String(raw) : raw;
      if (typeof text === 'string' && param.choices.includes(text)) return { value: text };
      return { error: `${param.name} is one of ${param.choices.join(', ')}; got ${shown}` };
    }
  }
}

/** One declared parameter (see JobParam). A choice lists 1–50 distinct values; a default must be valid. */
export const jobParam = z
  .object({
    name: paramName,
    type: z.enum(PARAM_TYPES, { message: `a parameter's type is ${PARAM_TYPES.join(', ')}` }),
    choices: z.array(choiceValue).max(50, 'at most 50 choices').default([]),
    default: z.union([z.string(), z.number(), z.boolean()]).nullable().default(null),
    description: description,
  })
  .transform((p, ctx) => {
    if (p.type === 'choice' && p.choices.length === 0)
      ctx.addIssue({ code: 'custom', message: `${p.name}: a choice lists its values, e.g. choice(a|b)` });
    if (p.type !== 'choice' && p.choices.length > 0)
      ctx.addIssue({ code: 'custom', message: `${p.name}: only a choice has choices` });
    if (new Set(p.choices).size !== p.choices.length)
      ctx.addIssue({ code: 'custom', message: `${p.name}: a choice is listed twice` });
    if (p.default === null) return p;
    const checked = paramValue(p, p.default);
    if ('error' in checked) {
      ctx.addIssue({ code: 'custom', message: `default: ${checked.error}` });
      return z.NEVER;
    }
    return { ...p, default: checked.value };
  });
export type JobParamInput = z.input<typeof jobParam>;

/** A job's parameters: at most 50, each name once (names compare case-sensitively, as JSON keys do). */
export const jobParams = z
  .array(jobParam)
  .max(50, 'at most 50 parameters')
  .superRefine((params, ctx) => {
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', message: `${p.name} is declared twice` });
      seen.add(p.name);
    }
  })
  .default([]);

/**
 * A parameter as typed on the command line: `name:type[=default][ # description]`, type one of string,
 * number, boolean or `choice(a|b|c)`; no default means required. A description follows " # ".
 * @throws CroniumError invalid_input `{ param: why }`.
 */
export function parseParamSpec(text: string): JobParam {
  const hash = text.indexOf(' # ');
  const spec = hash < 0 ? text : text.slice(0, hash);
  const descriptionText = hash < 0 ? '' : text.slice(hash + 3).trim();
  const m = /^\s*([^:=\s]+)\s*:\s*(string|number|boolean|choice\(([^)]*)\))\s*(?:=(.*))?$/s.exec(spec);
  if (!m)
    throw invalidInput({
      param: `"${text}" is not name:type[=default] (types: string, number, boolean, choice(a|b))`,
    });
  const [, name, typeText, choiceList, defaultText] = m;
  const type = typeText!.startsWith('choice') ? 'choice' : (typeText as ParamType);
  const parsed = jobParam.safeParse({
    name,
    type,
    choices: choiceList === undefined ? [] : choiceList.split('|').map((c) => c.trim()),
    default: defaultText ?? null,
    description: descriptionText,
  });
  if (!parsed.success) throw invalidInput({ param: parsed.error.issues[0]?.message ?? 'invalid' });
  return parsed.data;
}

/** A parameter as `parseParamSpec` reads it back: `name:type[=default][ # description]`. */
export function formatParamSpec(param: JobParam): string {
  const type = param.type === 'choice' ? `choice(${param.choices.join('|')})` : param.type;
  const def = param.default === null ? '' : `=${String(param.default)}`;
  return `${param.name}:${type}${def}${param.description ? ` # ${param.description}` : ''}`;
}

/**
 * A run's parameter values checked against the job's declaration: every declared parameter gets its
 * given value (in its type) or its default. Errors are per field, `params.<name>`: an unknown name, a
 * value of the wrong type, a required one missing. The CLI, the core and the run dialog all use this.
 */
export function resolveParams(
  declared: readonly JobParam[],
  given: Readonly<Record<string, unknown>>,
): { values: Record<string, ParamValue> } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const values: Record<string, ParamValue> = {};
  const names = declared.map((p) => p.name);
  for (const name of Object.keys(given)) {
    if (!names.includes(name))
      errors[`params.${name}`] = names.length
        ? `no parameter named "${name}" (this job has ${names.join(', ')})`
        : `no parameter named "${name}" (this job has none)`;
  }
  for (const param of declared) {
    const raw = Object.hasOwn(given, param.name) ? given[param.name] : undefined;
    if (raw === undefined || raw === '') {
      // An empty form field (or `--set name=`) gives nothing: the default, else "required".
      if (param.default !== null) values[param.name] = param.default;
      else errors[`params.${param.name}`] = `${param.name} is required`;
      continue;
    }
    const checked = paramValue(param, raw);
    if ('error' in checked) errors[`params.${param.name}`] = checked.error;
    else values[param.name] = checked.value;
  }
  return Object.keys(errors).length ? { errors } : { values };
}
