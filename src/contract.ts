/**
 * The one typed contract between clients (CLI, Electron IPC, web mode) and the core. Requests that cross a
 * process boundary are validated with these schemas; responses and pushed events are plain data.
 */
import { z } from 'zod';

import { invalidInput, type ErrorValue } from './core/errors.ts';
import * as rules from './core/rules.ts';
import {
  CHAIN_EVENTS,
  CHAIN_TARGETS,
  NOTIFY_WHEN,
  HELPER_MODES,
  HISTORY_STATUS_FILTERS,
  LANGUAGES,
  RUN_TRIGGERS,
  SCHEDULE_MISSED,
  SCHEDULE_OVERLAPS,
  SERVER_HELPER_MODES,
  TOOL_TYPES,
  type CoreEvent,
  type ErrorKind,
  type Execution,
  type Job,
  type KnownHost,
  type LogChunk,
  type OutputGroup,
  type Run,
  type Schedule,
  type ScheduleFire,
  type RunOverview,
  type Server,
  type ToolCredential,
  type TunnelState,
  type Variable,
} from './core/domain.ts';

/** "a, b or c": the words of a message listing the allowed values. */
function oneOf(values: readonly string[]): string {
  return `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

const helperModeSchema = z.enum(HELPER_MODES, { message: `helper mode is ${oneOf(HELPER_MODES)}` });

export const serverAuthSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('key'),
    keyPath: rules.keyPath,
    /** Left out: an edit keeps the stored passphrase; null: an edit removes it (the key has none now). */
    passphrase: rules.secret.nullable().optional(),
  }),
  // Editing a server may leave the password out to keep the stored one (null, to remove it, is refused:
  // a password login needs one).
  z.object({ type: z.literal('password'), password: rules.secret.nullable().optional() }),
  z.object({ type: z.literal('agent') }),
]);

export const serverInputSchema = z.object({
  name: rules.name,
  host: rules.host,
  port: rules.port.default(22),
  username: rules.username,
  auth: serverAuthSchema,
  jumpServerId: z.string().min(1).max(500).nullable().default(null),
  tags: rules.tags,
  description: rules.description,
  helperMode: z
    .enum(SERVER_HELPER_MODES, { message: `helper mode is ${oneOf(SERVER_HELPER_MODES)}` })
    .default('default'),
});
export type ServerInput = z.input<typeof serverInputSchema>;

/** A chain link as a client writes it: `jobId` may be a job's id or name (stored as the id). */
export const chainLinkSchema = z.object({
  on: z.enum(CHAIN_EVENTS, { message: `a link runs on ${oneOf(CHAIN_EVENTS)}` }),
  jobId: z.string().min(1, 'choose a job').max(500),
  servers: z.enum(CHAIN_TARGETS, { message: `servers is ${oneOf(CHAIN_TARGETS)}` }).default('same'),
});

/**
 * A webhook as a client writes it. `url` absent or null keeps the stored one (clients never see it); an
 * http or https URL of at most 2,000 characters otherwise.
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

/**
 * What to import from OpenSSH's files (see src/service/import.ts). Paths are absolute or relative to the
 * caller's directory (the CLI resolves them); left out: ~/.ssh/config, and the known_hosts files OpenSSH
 * would read for each host.
 */
export const importRequestSchema = z.object({
  sshConfig: z.string().min(1).max(4096).optional(),
  knownHosts: z.array(z.string().min(1).max(4096)).max(50).optional(),
  /** Host patterns (ssh_config PATTERNS, `!` negates): only aliases matching one of them. */
  only: z.array(z.string().trim().min(1).max(500)).max(100).default([]),
  /** The names to import (after a preview); left out: every importable one. Jump hops come along. */
  select: z.array(z.string().min(1).max(500)).max(10_000).optional(),
  /** Plan only: nothing is written. */
  dryRun: z.boolean().default(false),
});
export type ImportRequest = z.input<typeof importRequestSchema>;

/** One server an import creates, updates or leaves as it is. */
export interface ImportedServer {
  name: string;
  /** Where it comes from: the Host alias, or the ProxyJump hop (`user@host:port`) of another server. */
  source: string;
  action: 'create' | 'update' | 'unchanged';
  host: string;
  port: number;
  username: string;
  authType: 'key' | 'agent';
  keyPath: string | null;
  /** The name of its jump server (itself part of the import), or null. */
  jump: string | null;
  /**
   * The host key known_hosts has for it: `new` (will be trusted), `trusted` (already), `differs` (this app
   * trusts another key for host:port; left as it is). Null: known_hosts has none (asked on first connect).
   */
  hostKey: { keyType: string; fingerprint: string; status: 'new' | 'trusted' | 'differs' } | null;
  /** True for a server that is only a jump hop of others (no Host entry of its own). */
  hop: boolean;
  /** The servers that jump through this one. */
  requiredBy: string[];
  /** Chosen for import (all by default; with `select`, those named and the hops they need). */
  selected: boolean;
  /** What was decided for it and why (the key used, settings left out). */
  notes: string[];
}

/** What an import found, and (unless a dry run) did. */
export interface ImportPlan {
  /** The ssh_config file read (null: none there). */
  sshConfig: string | null;
  /** The known_hosts files read. */
  knownHosts: string[];
  servers: ImportedServer[];
  /** Hosts that cannot be imported, and why. */
  skipped: { name: string; reason: string }[];
  /** Parts of the files that were not applied (Match criteria, unreadable includes). */
  notes: string[];
  applied: boolean;
}

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

export const variableInputSchema = z.object({
  key: rules.variableKey,
  value: rules.jsonValue,
  secret: z.boolean().default(false),
});
export type VariableInput = z.input<typeof variableInputSchema>;

const webhookTool = <T extends 'slack' | 'discord'>(type: T) =>
  z.object({ type: z.literal(type), name: rules.name, webhookUrl: rules.webhookUrl });

/**
 * A tool credential to store (Cronium's tool connections): a Slack or Discord incoming webhook's URL, or
 * an SMTP server to send email through. `secure`: TLS from the first byte (SMTPS, port 465; the default
 * there); otherwise STARTTLS is used when the server offers it. The webhook URL and the password are
 * sealed by the secret store and never leave the core again.
 */
export const toolInputSchema = z.discriminatedUnion(
  'type',
  [
    webhookTool('slack'),
    webhookTool('discord'),
    z.object({
      type: z.literal('email'),
      name: rules.name,
      host: rules.host,
      port: rules.port.default(587),
      secure: z.boolean().optional(),
      user: rules.smtpUser.optional(),
      password: rules.secret.optional(),
      from: rules.emailAddress,
    }),
  ],
  { message: `type is ${oneOf(TOOL_TYPES)}` },
);
export type ToolInput = z.input<typeof toolInputSchema>;
export type ToolInputParsed = z.output<typeof toolInputSchema>;

/** Parses with a schema, turning zod's issues into one invalid_input error with a message per field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const path = issue.path.join('.') || 'input';
    fields[path] ??= issue.message;
  }
  throw invalidInput(fields);
}

export interface HistoryPage {
  items: Execution[];
  nextCursor: string | null;
}

export interface ServerTestResult {
  online: boolean;
  os: string | null;
  latencyMs: number | null;
  fingerprint: string | null;
  error: { kind: ErrorKind; message: string } | null;
}

export type {
  CoreEvent,
  Execution,
  Job,
  KnownHost,
  LogChunk,
  OutputGroup,
  Run,
  RunOverview,
  Schedule,
  ScheduleFire,
  Server,
  ToolCredential,
  TunnelState,
  Variable,
};

// ---- the API every client calls (Electron IPC, web-mode WebSocket) -----------------------------------

export interface AppInfo {
  version: string;
  /** 'desktop' in the Electron app, 'web' in browser mode. */
  mode: 'desktop' | 'web';
  runtimePort: number | null;
  dataDir: string;
}

/**
 * What a client may ask of the core. Arguments are validated at the process boundary (src/api/dispatcher.ts)
 * and again by the service with the schemas above; every failure is a CroniumError whose kind and sentence
 * reach the client (SPEC section 8). A `ref` names a record by id or by its unique name; executions also by
 * a unique prefix of their id. Times are epoch milliseconds.
 */
export interface CroniumApi {
  /** The app's version, mode, data directory and the runtime API's port (null until started). */
  appInfo(): AppInfo;
  /** Every saved server, by name; passwords and passphrases never included (`hasSecret` says one is stored). */
  listServers(): Server[];
  /** @throws CroniumError not_found. */
  getServer(ref: string): Server;
  /**
   * Saves a new server (a password or passphrase sealed at rest).
   * @throws CroniumError invalid_input with a message per field (see src/core/rules.ts), conflict for a
   * name in use; nothing is written then.
   */
  createServer(input: ServerInput): Server;
  /**
   * Replaces a server's fields; a password left out keeps the stored one. Its pooled connections are
   * dropped, so the next use logs in with what was saved.
   * @throws CroniumError not_found, invalid_input, conflict (name in use).
   */
  updateServer(ref: string, input: ServerInput): Server;
  /** @throws CroniumError not_found; conflict when it is another server's jump server. */
  removeServer(ref: string): void;
  /**
   * Imports servers from ~/.ssh/config (or `request.sshConfig`) and trusts their keys from known_hosts,
   * following OpenSSH's rules (src/ssh/sshConfig.ts); with `dryRun`, only says what it would do. A saved
   * server of the same name is updated, not duplicated. All or nothing: a failed write leaves no change.
   * @throws CroniumError invalid_input for a bad request or an ssh_config named but unreadable.
   */
  importServers(request: ImportRequest): ImportPlan;
  /**
   * Connects and logs in afresh, reads the OS, and records the check. Never rejects for the server's
   * failures: they come back in `error` (with the offered key's `fingerprint` for an unknown or changed one).
   * @throws CroniumError not_found.
   */
  testServer(ref: string): Promise<ServerTestResult>;
  /**
   * Trusts the host key the server offers now, then tests it (as testServer). With `fingerprint` (SHA256:…,
   * as shown to the user), only that key is trusted.
   * @throws CroniumError not_found; host_key_mismatch when the server offers another key (nothing trusted);
   * a connection error when the server cannot be reached.
   */
  trustHostKey(ref: string, fingerprint?: string): Promise<ServerTestResult>;
  /** Every saved job, by name; secret environment values are null. */
  listJobs(): Job[];
  /** @throws CroniumError not_found. */
  getJob(ref: string): Job;
  /**
   * Saves a new job (secret environment values sealed at rest; default servers given by ref, stored by id).
   * @throws CroniumError invalid_input with a message per field, conflict for a name in use.
   */
  createJob(input: JobInput): Job;
  /**
   * Replaces a job's fields; a secret environment entry whose value is null keeps the stored value.
   * @throws CroniumError not_found, invalid_input, conflict (name in use).
   */
  updateJob(ref: string, input: JobInput): Job;
  /**
   * Removes a job (its history is kept) and every other job's chain links to it.
   * @returns the names of the jobs whose links to it were removed.
   */
  removeJob(ref: string): { unlinkedFrom: string[] };
  /**
   * Starts a job on one or more servers and returns the run at once (status `running`, one queued execution
   * per server); progress arrives as `execution`, `log` and `run` events.
   * @throws CroniumError not_found for an unknown job or server; invalid_input for a bad request or a server
   * listed twice.
   */
  startRun(request: RunRequest): Run;
  /** Asks a run to stop (each execution in whichever phase it is); false when no such run is going here. */
  cancelRun(runId: string): boolean;
  /**
   * Stops one host's execution of a run (the others go on); a run of another process (the CLI) is asked
   * through the database. False when it is not going.
   * @throws CroniumError not_found.
   */
  cancelExecution(executionId: string): boolean;
  /**
   * Runs a run again (`ref`: its id or a unique prefix, or an execution's: its run): the same job, input, parameters, helper mode and
   * servers, or with `options.failed` only the hosts that did not succeed. Trigger `retry`, attempt one
   * more than the run it repeats, linked to it (`retryOf`).
   * @throws CroniumError not_found for an unknown run, or a job or server removed since (named by name);
   * invalid_input when every host succeeded and `failed` was asked.
   */
  rerun(ref: string, options?: RerunOptions): Run;
  /**
   * A run at a glance (`ref`: its id or a unique prefix, or an execution's: its run): each host's execution and the groups of hosts
   * whose stdout was identical.
   * @throws CroniumError not_found.
   */
  getRunOverview(ref: string): RunOverview;
  /** @throws CroniumError not_found. */
  getRun(runId: string): Run;
  /**
   * One page of executions, newest first, with filters; `nextCursor` fetches the next page (null: last).
   * @throws CroniumError invalid_input for a bad query or a cursor that is not from a previous page.
   */
  queryHistory(query: HistoryQuery): HistoryPage;
  /** @throws CroniumError not_found; invalid_input when an id prefix matches several executions. */
  getExecution(ref: string): Execution;
  /**
   * Up to `limit` (default 10 000) chunks of an execution's stored log with a sequence number above
   * `afterSeq` (default -1: from the start), in order; secrets already masked. Empty for an unknown id.
   */
  readLog(executionId: string, afterSeq?: number, limit?: number): LogChunk[];
  /** Every shared variable, by key; secret values are null. */
  listVariables(): Variable[];
  /**
   * Creates or replaces a variable (a secret one sealed at rest); the value returned is null when secret.
   * @throws CroniumError invalid_input (key rule, JSON value of at most 1 MiB).
   */
  setVariable(input: VariableInput): Variable;
  /** @throws CroniumError not_found. */
  removeVariable(key: string): void;
  /** Every schedule, by name, with its next occurrences and last result. */
  listSchedules(): Schedule[];
  /** @throws CroniumError not_found. */
  getSchedule(ref: string): Schedule;
  /**
   * Saves a schedule (see scheduleInputSchema); occurrences before now are never counted as missed.
   * @throws CroniumError invalid_input (per field; also a target that names no server, or no targets and a
   * job without default servers), not_found for the job.
   */
  createSchedule(input: ScheduleInput): Schedule;
  /** Removes a schedule; the runs it started stay in the history. @throws CroniumError not_found. */
  removeSchedule(ref: string): void;
  /** Stops firing a schedule until resumed. @throws CroniumError not_found. */
  pauseSchedule(ref: string): Schedule;
  /**
   * Fires a paused schedule again, from now on: occurrences while it was paused are not missed ones.
   * @throws CroniumError not_found.
   */
  resumeSchedule(ref: string): Schedule;
  /** A schedule's last 20 handled occurrences, newest first. @throws CroniumError not_found. */
  listScheduleFires(ref: string): ScheduleFire[];
  /** The stored tool credentials (Slack, Discord, email), without their secrets. */
  listTools(): ToolCredential[];
  /**
   * Stores a tool credential, its secret parts sealed.
   * @throws CroniumError invalid_input (a bad field, or the name is taken), secrets_unavailable.
   */
  createTool(input: ToolInput): ToolCredential;
  /** @throws CroniumError not_found. */
  removeTool(ref: string): void;
}

/** The methods a renderer may call (see the method table in src/methodNames.ts). */
export type MethodName = keyof CroniumApi;

/** A doctor's report: what this installation uses (see `cronium doctor`). */
export interface DoctorReport {
  dataDir: string;
  /** Where the data key is and why there, or why no secret store can be used. */
  secretStore: { kind: 'keychain' | 'key-file'; location: string; reason: string } | { error: string };
  /** The SQLite library's version (node:sqlite). */
  sqliteVersion: string;
}

/**
 * The contract for trusted local clients: the CLI and the Electron main process, which act as the local
 * user. Never exposed over IPC or WebSocket (the dispatcher serves CroniumApi's methods only).
 */
export interface HostApi extends CroniumApi {
  /**
   * Resolves with the finished run (at once for a finished one).
   * @throws CroniumError not_found.
   */
  waitForRun(runId: string): Promise<Run>;
  /**
   * A variable's value, secret values revealed (the local user only).
   * @throws CroniumError not_found.
   */
  getVariableValue(key: string): unknown;
  /**
   * Starts the runtime API the helpers call, once (later calls return the same answer): the port it
   * listens on at 127.0.0.1, and a note when it is not the one asked for.
   */
  startRuntime(): Promise<{ port: number; note: string | null }>;
  /** The ids of the runs this process is running now. */
  activeRunIds(): string[];
  /**
   * Publishes runs other processes (the CLI) start and log into the same data directory as this process's
   * own events, by polling the database every `intervalMs` (250); returns the function that stops it.
   */
  followOtherProcesses(intervalMs?: number): () => void;
  /**
   * Reattaches a detached execution (a keep-running script whose connection or app went away; `ref` its id
   * or a unique prefix): fetches the output the log is missing, follows the script to its end, and
   * records its real exit code, output and variables (bundled-mode collection); the host's spool is
   * removed once collected. Output arrives as log events meanwhile; cancelRun(its runId) stops the script.
   * Resolves with the execution as written (`detached` again when the host cannot be reached).
   * @throws CroniumError not_found; invalid_input for an ambiguous prefix; conflict when it is not
   * detached (it has ended, or another process follows it).
   */
  attach(ref: string): Promise<Execution>;
  /**
   * Reattaches every detached execution in the background (the desktop app on start, the daemon); returns
   * the ids it follows now. Never throws for one execution's failure (each is written on it).
   */
  reattachDetached(): string[];
  /** Every event the core publishes, until the returned function is called. */
  subscribe(listener: (event: CoreEvent) => void): () => void;
  /**
   * A subscriber that cannot keep up with log events (the CLI's stdout is full) pauses the running
   * scripts' output until `until` settles.
   */
  slowDown(until: Promise<void>): void;
  /** Converts secrets stored in the desktop app's old "ss1:" format; returns how many. */
  resealLegacySecrets(): number;
  /** What this installation uses; never throws for an unusable secret store (the report says why). */
  doctor(): DoctorReport;
  /**
   * Resolves when a run and every run its chain links started (and theirs, down the chain) have finished,
   * with those chained runs in the order they started (not the run itself).
   * @throws CroniumError not_found.
   */
  waitForChain(runId: string): Promise<Run[]>;
  /**
   * Fires due schedules from this process until stopped (the daemon, the desktop app, browser mode). Only
   * the holder of the store's scheduler lease fires; every other process sharing the data directory waits
   * and takes the lease over when its holder stops renewing it (see src/service/scheduler.ts). Calling it
   * again returns the same scheduler. close() stops it too.
   */
  startScheduler(): SchedulerControl;
  /** Cancels what runs (waiting for each to end), closes connections, the runtime API and the database. */
  close(): Promise<void>;
}

/** A scheduler running in this process (HostApi.startScheduler). */
export interface SchedulerControl {
  /** This process's lease holder id (`host:pid:random`). */
  readonly holderId: string;
  /** True while this process holds the lease (and so fires schedules). */
  readonly holding: boolean;
  /** Stops firing (no new runs; running ones go on) and gives the lease up so another process takes over. */
  stop(): Promise<void>;
}

/** On the wire, a rejected call keeps its kind and per-field messages (a thrown error would keep a string). */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorValue };

/** The client side: every method is async, and failures arrive as ApiError (see renderer/src/api). */
export type ClientApi = {
  [K in MethodName]: (...args: Parameters<CroniumApi[K]>) => Promise<Awaited<ReturnType<CroniumApi[K]>>>;
};

/**
 * What the Electron preload exposes as window.cronium: one named verb per renderer method (its answer a
 * Result), and a subscription to core events that returns its disposer.
 */
export interface PreloadBridge {
  api: { [K in MethodName]: (...args: unknown[]) => Promise<Result<unknown>> };
  onEvent(listener: (event: CoreEvent) => void): () => void;
}
