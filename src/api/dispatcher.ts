/**
 * The process boundary: turns (method, args) from the Electron IPC adapter or a WebSocket into a call on
 * the service facade. Only the methods of the contract exist; arguments are checked for shape here, and
 * the service checks their content with the contract's schemas, built from the one rule per value in
 * src/core/rules.ts (the CLI and the runtime API use the same rules, so every door refuses a value alike).
 * Every answer is a Result, never a thrown stack trace.
 */
import * as z from 'zod';

import type { CroniumApi, MethodName, Result } from '../contract.ts';
import { METHOD_NAMES, METHODS, type ArgKind } from '../methodNames.ts';
import { toErrorValue } from '../core/errors.ts';

/** The schema of each kind of argument the method table names (src/methodNames.ts). */
const ARG_SCHEMAS: Record<ArgKind, z.ZodType> = {
  ref: z.string().min(1).max(500),
  input: z.unknown(),
  'fingerprint?': z.string().max(200).optional(),
  'afterSeq?': z.number().int().min(-1).optional(),
  'limit?': z.number().int().min(1).max(100_000).optional(),
};

/** Each renderer method's argument check, built from the method table. */
const ARGUMENTS = Object.fromEntries(
  METHOD_NAMES.map((name) => [
    name,
    z.tuple(METHODS[name].args.map((kind) => ARG_SCHEMAS[kind]) as [z.ZodType]),
  ]),
) as unknown as Record<MethodName, z.ZodType<unknown[]>>;

export type Dispatch = (method: unknown, args: unknown) => Promise<Result<unknown>>;

export function createDispatcher(api: CroniumApi): Dispatch {
  return async (method, args) => {
    if (typeof method !== 'string' || !Object.hasOwn(ARGUMENTS, method)) {
      return {
        ok: false,
        error: { kind: 'invalid_input', message: `There is no method "${String(method)}".` },
      };
    }
    const name = method as MethodName;
    const parsed = ARGUMENTS[name].safeParse(args ?? []);
    if (!parsed.success) {
      return {
        ok: false,
        error: {
          kind: 'invalid_input',
          message: `Bad arguments for ${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}.`,
        },
      };
    }
    try {
      const call = api[name] as (...a: unknown[]) => unknown;
      const value = await call.apply(api, parsed.data);
      return { ok: true, value: value ?? null };
    } catch (err) {
      return { ok: false, error: toErrorValue(err) };
    }
  };
}
