/** What a client sends to save a job: script, environment, parameters, chain links, webhook. */
import * as z from 'zod';

import * as rules from '../core/rules.ts';
import { CHAIN_EVENTS, CHAIN_TARGETS, LANGUAGES, NOTIFY_WHEN, RUN_VIA } from '../core/domain.ts';
import { helperModeSchema, oneOf } from './parse.ts';

/** A chain link as a client writes it: `jobId` may be a job's id or name (stored as the id). */
export const chainLinkSchema = z.object({
  on: z.enum(CHAIN_EVENTS, { message: `a link runs on ${oneOf(CHAIN_EVENTS)}` }),
  jobId: z.string().min(1, 'choose a job').max(500),
  servers: z.enum(CHAIN_TARGETS, { message: `servers is ${oneOf(CHAIN_TARGETS)}` }).default('same'),
});

/**
 * A webhook as a client writes it. `url` absent or null keeps the stored one (clients never see it); a URL
 * by rules.webhookUrl otherwise.
 */
export const webhookInputSchema = z.object({
  // One rule for every webhook URL (the tools' too): http(s), a host, no user:password (fetch refuses those).
  url: rules.webhookUrl.nullable().optional(),
  notify: z
    .enum(['failure', 'always'], { message: 'a webhook is sent on failure or always' })
    .default('failure'),
});

export const jobInputSchema = z.object({
  name: rules.name,
  language: z.enum(LANGUAGES, { message: `language is ${oneOf(LANGUAGES)}` }),
  script: rules.script,
  timeoutSec: rules.timeoutSec.default(3600),
  /** A secret entry with value null keeps the stored value (the client never sees it). */
  env: z
    .array(
      z.object({
        key: rules.envKey,
        value: rules.envValue.nullable(),
        secret: z.boolean().default(false),
      }),
    )
    .max(200, 'at most 200 environment variables')
    .default([]),
  defaultInput: rules.jsonValue.default(null),
  defaultServerIds: z.array(z.string().min(1).max(500)).max(500).default([]),
  helperMode: helperModeSchema.default('auto'),
  /** See Job.defaultVia. Left out, an edit keeps what is stored (a new job: direct). */
  defaultVia: z.enum(RUN_VIA, { message: `runs go ${oneOf(RUN_VIA)}` }).optional(),
  /** See Job.keepRunning. */
  keepRunning: z.boolean({ message: 'keep running is true or false' }).default(false),
  tags: rules.tags,
  /*
   * The chain and notices: left out, an edit keeps what is stored (a new job has none), so a client that
   * does not know them never clears them.
   */
  /** Jobs to run after each execution (see ChainLink); a loop of links is refused. */
  chain: z.array(chainLinkSchema).max(50, 'at most 50 chain links').optional(),
  desktopNotify: z
    .enum(NOTIFY_WHEN, { message: `desktop notifications are ${oneOf(NOTIFY_WHEN)}` })
    .optional(),
  /** null removes the webhook. */
  webhook: webhookInputSchema.nullable().optional(),
  /** Typed parameters a run fills in (`--param`; see rules.jobParam). */
  params: rules.jobParams,
});
export type JobInput = z.input<typeof jobInputSchema>;
