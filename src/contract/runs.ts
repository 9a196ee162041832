/** What a client sends to start, schedule and re-run runs, and to page through history. */
import * as z from 'zod';

import * as rules from '../core/rules.ts';
import { helperModeSchema, oneOf } from './parse.ts';
import {
  type Execution,
  HISTORY_STATUS_FILTERS,
  RUN_TRIGGERS,
  RUN_VIA,
  SCHEDULE_MISSED,
  SCHEDULE_OVERLAPS,
} from '../core/domain.ts';

export const runRequestSchema = z.object({
  jobId: z.string().min(1, 'job is required'),
  serverIds: z.array(z.string().min(1).max(500)).min(1, 'choose at least one server').max(10_000),
  input: rules.jsonValue.optional(),
  helperMode: helperModeSchema.optional(),
  concurrency: rules.concurrency.default(10),
  trigger: z.enum(RUN_TRIGGERS).default('manual'),
  /** The schedule firing this run (trigger `schedule`). */
  scheduleId: z.string().min(1).max(500).optional(),
  /** The execution whose outcome starts this run (a chain link): its depth in the chain follows from it. */
  parentExecutionId: z.string().min(1).max(500).optional(),
  /**
   * Values of the job's parameters by name (`--set name=value`): text or JSON values, checked against the
   * job's declaration (rules.resolveParams) and merged over `input` for the script.
   */
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** The run this one repeats (a re-run): its trigger becomes `retry` and its attempt counts up. */
  retryOf: z.string().min(1).max(500).optional(),
  /**
   * Where the executions run: here (`direct`, the default) or queued for team-mode workers (`workers`;
   * needs CRONIUM_DATABASE_URL, see src/team/).
   */
  via: z.enum(RUN_VIA, { message: `via is ${oneOf(RUN_VIA)}` }).optional(),
});
export type RunRequest = z.input<typeof runRequestSchema>;

/**
 * A new schedule. `targets`: server names or ids and `tag:NAME` entries (empty: the job's default servers);
 * `timezone` null: the zone of the process firing it.
 */
export const scheduleInputSchema = z.object({
  name: rules.name,
  jobId: z.string().min(1, 'job is required').max(500),
  cron: rules.cronExpression,
  timezone: rules.timeZone.nullable().default(null),
  targets: z.array(z.string().trim().min(1).max(500)).max(500, 'at most 500 targets').default([]),
  params: rules.params,
  input: rules.jsonValue.default(null),
  overlap: z.enum(SCHEDULE_OVERLAPS, { message: `overlap is ${oneOf(SCHEDULE_OVERLAPS)}` }).default('skip'),
  missed: z.enum(SCHEDULE_MISSED, { message: `missed is ${oneOf(SCHEDULE_MISSED)}` }).default('skip'),
  enabled: z.boolean().default(true),
});
export type ScheduleInput = z.input<typeof scheduleInputSchema>;

/** What a re-run repeats of a run (see CroniumApi.rerun). */
export const rerunOptionsSchema = z.object({
  /** Only the hosts whose execution did not succeed (failed, error, timed out, cancelled). */
  failed: z.boolean().default(false),
  /** Only these of the run's servers (ids or names). */
  serverIds: z.array(z.string().min(1).max(500)).max(10_000).optional(),
});
export type RerunOptions = z.input<typeof rerunOptionsSchema>;

export const historyQuerySchema = z.object({
  jobId: z.string().optional(),
  serverId: z.string().optional(),
  status: z
    .enum(HISTORY_STATUS_FILTERS, { message: `status is ${oneOf(HISTORY_STATUS_FILTERS)}` })
    .optional(),
  /**
   * Words to find (all of them, without case) in the job's name, the server's name, the error message or
   * the execution/run id. Logs are not searched (they are stored compressed).
   */
  text: z.string().trim().max(200, 'search text is at most 200 characters').optional(),
  from: z.number().int().optional(),
  to: z.number().int().optional(),
  limit: rules.pageLimit.default(50),
  /** Opaque cursor from the previous page (keyset pagination, stable while runs are added). */
  cursor: z.string().optional(),
});
export type HistoryQuery = z.input<typeof historyQuerySchema>;

export interface HistoryPage {
  items: Execution[];
  nextCursor: string | null;
}
