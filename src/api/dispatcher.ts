/**
 * The process boundary: turns (method, args) from the Electron IPC adapter or a WebSocket into a call on
 * the service facade. Only the methods of the contract exist; arguments are checked for shape here, and
 * the service checks their content with the contract's schemas, built from the one rule per value in
 * src/core/rules.ts (the CLI and the runtime API use the same rules, so every door refuses a value alike).
 * Every answer is a Result, never a thrown stack trace.
 */
import { z } from 'zod';

import type { CroniumApi, MethodName, Result } from '../contract.ts';
import { toErrorValue } from '../core/errors.ts';

const ref = z.string().min(1).max(500);
const anyInput = z.unknown();

const ARGUMENTS: Record<MethodName, z.ZodType<unknown[]>> = {
  appInfo: z.tuple([]),
  listServers: z.tuple([]),
  getServer: z.tuple([ref]),
  createServer: z.tuple([anyInput]),
  updateServer: z.tuple([ref, anyInput]),
  removeServer: z.tuple([ref]),
  testServer: z.tuple([ref]),
  trustHostKey: z.tuple([ref, z.string().max(200).optional()]),
  listJobs: z.tuple([]),
  getJob: z.tuple([ref]),
  createJob: z.tuple([anyInput]),
  updateJob: z.tuple([ref, anyInput]),
  removeJob: z.tuple([ref]),
  startRun: z.tuple([anyInput]),
  cancelRun: z.tuple([ref]),
  getRun: z.tuple([ref]),
  queryHistory: z.tuple([anyInput]),
  getExecution: z.tuple([ref]),
  readLog: z.tuple([
    ref,
    z.number().int().min(-1).optional(),
    z.number().int().min(1).max(100_000).optional(),
  ]),
  listVariables: z.tuple([]),
  setVariable: z.tuple([anyInput]),
  removeVariable: z.tuple([ref]),
};

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
