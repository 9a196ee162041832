/** The domain as the core and every client (CLI, IPC, web) see it. Secrets never appear here in clear. */

/*
 * Each closed set of values is declared once, as an `as const` array: the TypeScript union, the zod enums
 * of the contract and the renderer's choices are derived from it.
 */

export const LANGUAGES = ['bash', 'python', 'node'] as const;
export type Language = (typeof LANGUAGES)[number];

/** How a job's helpers reach the app: auto (API, else bundled), api only, or bundled only. */
export const HELPER_MODES = ['auto', 'api', 'bundled'] as const;
export type HelperMode = (typeof HELPER_MODES)[number];

/**
 * A server's own say in how helpers reach the app, over the job's mode: default (the job's or run's mode),
 * api (never fall back to bundled there: a run whose helpers cannot reach the app fails), bundled (never
 * try the tunnel: a host that allows no forwarding, so its runs do not warn each time).
 */
export const SERVER_HELPER_MODES = ['default', 'api', 'bundled'] as const;
export type ServerHelperMode = (typeof SERVER_HELPER_MODES)[number];

export const AUTH_TYPES = ['key', 'password', 'agent'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

export const RUN_TRIGGERS = ['manual', 'cli', 'schedule', 'retry', 'chain'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** A schedule's overlap policy: skip an occurrence while its previous run still runs, or run alongside. */
export const SCHEDULE_OVERLAPS = ['skip', 'allow'] as const;
export type ScheduleOverlap = (typeof SCHEDULE_OVERLAPS)[number];

/**
 * What a schedule does about occurrences that passed while no process was firing schedules (a laptop
 * asleep, the app closed): skip them, or run once for all of them — never once per occurrence.
 */
export const SCHEDULE_MISSED = ['skip', 'run-once'] as const;
export type ScheduleMissed = (typeof SCHEDULE_MISSED)[number];

/** What became of one occurrence of a schedule (its row in schedule_fires). */
export const FIRE_OUTCOMES = ['started', 'skipped_overlap', 'skipped_missed', 'error'] as const;
export type FireOutcome = (typeof FIRE_OUTCOMES)[number];

/**
 * What starts a chained job (Cronium's conditional actions): the execution succeeded, failed (failed,
 * timed out or ended in error; a cancelled one starts nothing), or its script called
 * `cronium.setCondition(true)` (whatever its status, unless cancelled).
 */
export const CHAIN_EVENTS = ['success', 'failure', 'condition'] as const;
export type ChainEvent = (typeof CHAIN_EVENTS)[number];

/**
 * Where a chained job runs: `same`, on the server of the execution that triggered it; `own`, on the
 * chained job's own default servers.
 */
export const CHAIN_TARGETS = ['same', 'own'] as const;
export type ChainTarget = (typeof CHAIN_TARGETS)[number];

/** When a job's run is announced (desktop notification, webhook): never, when it did not succeed, always. */
export const NOTIFY_WHEN = ['never', 'failure', 'always'] as const;
export type NotifyWhen = (typeof NOTIFY_WHEN)[number];

export const RUN_STATUSES = ['running', 'succeeded', 'partial', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const EXECUTION_STATUSES = [
  'queued',
  'connecting',
  'running',
  /** A keep-running script left running on its host without anyone following it (see src/exec/reattach.ts). */
  'detached',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'error',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** The statuses an execution ends in (see src/core/executionStatus.ts for the moves between them). */
export const FINAL_EXECUTION_STATUSES = [
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'error',
] as const satisfies readonly ExecutionStatus[];
export type FinalExecutionStatus = (typeof FINAL_EXECUTION_STATUSES)[number];

/** The types a job parameter may have (`--param name:type`); `choice` lists its values: `choice(a|b|c)`. */
export const PARAM_TYPES = ['string', 'number', 'boolean', 'choice'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** A parameter's value once checked: the type's JavaScript value (a choice is one of its strings). */
export type ParamValue = string | number | boolean;

/**
 * A typed parameter a job declares; a run gives its value (`--set name=value`, the run dialog's form) and
 * the script reads it in `cronium.input()`. No default means required. Rules: src/core/rules.ts.
 */
export interface JobParam {
  name: string;
  type: ParamType;
  /** The allowed values of a `choice` (empty for other types). */
  choices: string[];
  /** The value used when a run gives none; null: the run must give one. */
  default: ParamValue | null;
  description: string;
}

/**
 * The services a script may ask the app to use on its behalf (Cronium's tool actions), each with
 * credentials kept in the app's secret store: Slack and Discord incoming webhooks, and SMTP for email.
 */
export const TOOL_TYPES = ['slack', 'discord', 'email'] as const;
export type ToolType = (typeof TOOL_TYPES)[number];

/** How a tool action a script asked for ended: sent, or failed (the reason beside it). */
export const TOOL_ACTION_STATUSES = ['sent', 'failed'] as const;
export type ToolActionStatus = (typeof TOOL_ACTION_STATUSES)[number];

/** The "not succeeded" filter of history: every way an execution can end other than success. */
export const NOT_SUCCEEDED_STATUSES = [
  'failed',
  'timed_out',
  'cancelled',
  'error',
] as const satisfies readonly FinalExecutionStatus[];

/** What history's status filter accepts: one status, or `not_succeeded` (NOT_SUCCEEDED_STATUSES). */
export const HISTORY_STATUS_FILTERS = [...EXECUTION_STATUSES, 'not_succeeded'] as const;
export type HistoryStatusFilter = (typeof HISTORY_STATUS_FILTERS)[number];

export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

/** A server's reverse tunnel to the runtime API (see src/runtime/tunnelManager.ts for the moves). */
export const TUNNEL_STATES = ['idle', 'forwarding', 'failed', 'closed'] as const;
export type TunnelState = (typeof TUNNEL_STATES)[number];

/** Every failure a person can see has a kind and a plain sentence (SPEC section 8). */
export const ERROR_KINDS = [
  'invalid_input',
  'not_found',
  'conflict',
  'auth_failed',
  'connection_refused',
  'connect_timeout',
  'dns',
  'host_key_unknown',
  'host_key_mismatch',
  'interpreter_missing',
  'tunnel_refused',
  'script_failed',
  'timed_out',
  'cancelled',
  'connection_lost',
  'secrets_unavailable',
  /** A call to the core from a frame that is not the app's own page (the desktop shell's IPC). */
  'forbidden_sender',
  'internal',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface Server {
  id: string;
  name: string;
  host: string;
  port: number;
  username: string;
  authType: AuthType;
  keyPath: string | null;
  /** True when a password or passphrase is stored (the value itself never leaves the core). */
  hasSecret: boolean;
  jumpServerId: string | null;
  tags: string[];
  description: string;
  /** How the helpers of scripts run here reach the app (see SERVER_HELPER_MODES). */
  helperMode: ServerHelperMode;
  lastCheck: { online: boolean; os: string | null; at: number; error: string | null } | null;
  createdAt: number;
  updatedAt: number;
}

export interface JobEnvVar {
  key: string;
  /** Secret values are replaced by null outside the core. */
  value: string | null;
  secret: boolean;
}

/** A link from a job to the job to run after each of its executions (see CHAIN_EVENTS, CHAIN_TARGETS). */
export interface ChainLink {
  on: ChainEvent;
  jobId: string;
  servers: ChainTarget;
}

/** A job's webhook as clients see it: the URL itself may hold a secret and never leaves the core. */
export interface WebhookInfo {
  notify: Exclude<NotifyWhen, 'never'>;
  /** The URL's origin only (scheme, host, port: no user, path or query), to recognise it by. */
  origin: string;
}

export interface Job {
  id: string;
  name: string;
  language: Language;
  script: string;
  timeoutSec: number;
  env: JobEnvVar[];
  defaultInput: unknown;
  defaultServerIds: string[];
  helperMode: HelperMode;
  /**
   * The script runs detached on the host (output spooled there), so it outlives the connection and the
   * app: a lost connection leaves the execution `detached` until someone reattaches. Helpers are bundled.
   */
  keepRunning: boolean;
  tags: string[];
  /** Jobs to run after each execution of this one, in order. */
  chain: ChainLink[];
  /** Desktop notifications of this job's runs (in the app). */
  desktopNotify: NotifyWhen;
  webhook: WebhookInfo | null;
  /** Typed parameters a run fills in (see JobParam). */
  params: JobParam[];
  createdAt: number;
  updatedAt: number;
}

export interface PhaseTimings {
  connectMs: number | null;
  deployMs: number | null;
  scriptMs: number | null;
  collectMs: number | null;
}

export interface Execution {
  id: string;
  runId: string;
  jobId: string;
  jobName: string;
  serverId: string;
  serverName: string;
  status: ExecutionStatus;
  exitCode: number | null;
  errorKind: ErrorKind | null;
  errorMessage: string | null;
  helperMode: 'api' | 'bundled' | null;
  fallbackReason: string | null;
  timings: PhaseTimings;
  startedAt: number;
  endedAt: number | null;
  output: unknown;
  condition: boolean | null;
  variableChanges: VariableChange[];
  /** The tool actions the script asked for (Slack, Discord, email), in order, with how each ended. */
  toolActions: ToolActionRecord[];
  attempt: number;
  /**
   * SHA-256 (hex) of the script's stdout as stored, hashed as it was written; null until the execution
   * ends, and for one whose script never ran. Equal hashes: identical output (see outputGroups).
   */
  stdoutHash: string | null;
  /** What this execution's chain links did (empty when the job has none or it was cancelled). */
  chain: ChainStep[];
}

/** What one chain link did after an execution: the run it started, or why it started none. */
export interface ChainStep {
  on: ChainEvent;
  jobId: string;
  jobName: string;
  servers: ChainTarget;
  runId: string | null;
  executionIds: string[];
  /** Why no run was started (the depth limit, a job or server that is gone); null when one was. */
  skipped: string | null;
}

/** One delivery of a run's notice (the webhook): how it went, after its retries. */
export interface NotificationResult {
  channel: 'webhook';
  ok: boolean;
  attempts: number;
  /** The last HTTP status, or null when no answer came. */
  httpStatus: number | null;
  /** The last failure in a sentence (the URL never appears in it); null when delivered. */
  error: string | null;
  at: number;
}

/** One tool action of an execution, as its detail lists it (never a credential). */
export interface ToolActionRecord {
  tool: ToolType | string;
  /** The action's name as the script gave it (Cronium's SDKs send `send_message`). */
  action: string;
  /** The name of the stored credential used, or null when none was (no such tool stored, a bad call). */
  credential: string | null;
  /** Where it went, for people: a Slack channel, "webhook", or the email's recipients. */
  target: string;
  status: ToolActionStatus;
  /** Why it failed, in a sentence (credentials scrubbed); null when sent. */
  error: string | null;
  /** How the script reached the app: at once through the runtime API, or queued and sent at collection. */
  mode: 'api' | 'bundled';
  /** When it was performed (ms since the epoch). */
  at: number;
}

/** A stored tool credential as every client sees it: its secret parts never leave the core. */
export interface ToolCredential {
  id: string;
  name: string;
  type: ToolType;
  /** What it points at without its secrets: a webhook's host, or an SMTP server, user and sender. */
  summary: string;
  createdAt: number;
  updatedAt: number;
}

export interface VariableChange {
  key: string;
  op: 'set' | 'delete';
  /**
   * For a set: the value the execution wrote, as JSON text (cut at VARIABLE_CHANGE_TEXT_MAX characters,
   * ending in "…"), masked like the log; absent for a delete, for a secret variable, and in history
   * recorded before values were kept.
   */
  value?: string;
  /** True when the variable is secret: its value is never recorded. */
  secret?: boolean;
}

/** How much of a value set by an execution its history keeps (characters of JSON text). */
export const VARIABLE_CHANGE_TEXT_MAX = 1000;

export interface Run {
  id: string;
  jobId: string;
  jobName: string;
  input: unknown;
  trigger: RunTrigger;
  /** The schedule that fired this run (trigger `schedule`), else null. */
  scheduleId: string | null;
  concurrency: number;
  helperMode: HelperMode;
  status: RunStatus;
  startedAt: number;
  endedAt: number | null;
  executionIds: string[];
  /** The job parameters' values (defaults filled in), merged over `input` for the script. */
  params: Record<string, ParamValue>;
  /** The run this one repeats (`cronium rerun`), or null. */
  retryOf: string | null;
  /** 1 for a first run; a re-run counts up from the run it repeats. */
  attempt: number;
  /** The execution whose outcome started this run (trigger `chain`); null otherwise. */
  parentExecutionId: string | null;
  /** How many chain links led here: 0 for a run started otherwise. */
  chainDepth: number;
  /** The run's notices (the webhook), as delivered or not; a failed one never fails the run. */
  notifications: NotificationResult[];
}

/** Executions of one run whose stdout is identical (the same stdoutHash), largest group first. */
export interface OutputGroup {
  stdoutHash: string;
  /** Server names, in the run's order. */
  servers: string[];
  executionIds: string[];
}

/** A run at a glance: the run, each host's execution, and the groups of identical output. */
export interface RunOverview {
  run: Run;
  executions: Execution[];
  groups: OutputGroup[];
}

/**
 * A saved schedule: a job fired by a cron expression (croner: 5 fields, or 6 with seconds first, or a
 * nickname such as `@hourly`) in a time zone, on its targets, with its parameters and input.
 */
export interface Schedule {
  id: string;
  name: string;
  jobId: string;
  /** The job's current name (null when the job is gone). */
  jobName: string | null;
  cron: string;
  /** An IANA time zone (`Europe/Berlin`); null: the zone of the process that fires it. */
  timezone: string | null;
  /** Where it runs: server ids and `tag:NAME` entries; empty: the job's default servers. */
  targets: string[];
  /** Job parameters (RunRequest `params`), as given with `--set`. */
  params: Record<string, string | number | boolean>;
  /** The run's input; null: the job's default input. */
  input: unknown;
  overlap: ScheduleOverlap;
  missed: ScheduleMissed;
  enabled: boolean;
  /** The occurrence (epoch ms) last fired or handled, and what became of it. */
  lastFireAt: number | null;
  lastOutcome: FireOutcome | null;
  /** Why the last occurrence could not start a run (outcome `error`), else null. */
  lastError: string | null;
  lastRunId: string | null;
  /** The status of the last run it started (null: none yet, or removed from history). */
  lastResult: RunStatus | null;
  /** The next occurrences (epoch ms, up to 3); empty when paused or when the expression has no more. */
  nextFires: number[];
  createdAt: number;
  updatedAt: number;
}

/** One occurrence of a schedule as it was handled (newest first in listScheduleFires). */
export interface ScheduleFire {
  /** The occurrence, epoch ms. */
  fireAt: number;
  outcome: FireOutcome;
  runId: string | null;
  /** Why it was skipped or could not start, or how many occurrences it stood for after a gap. */
  message: string | null;
  /** True when it was handled after a gap (the missed-fire policy applied). */
  missed: boolean;
  /** The process that handled it (`host:pid:random`). */
  holder: string;
}

export interface LogChunk {
  executionId: string;
  seq: number;
  stream: LogStream;
  ts: number;
  text: string;
}

export interface Variable {
  key: string;
  /** null when secret (outside the core). */
  value: unknown;
  secret: boolean;
  updatedAt: number;
  updatedBy: string;
}

export interface KnownHost {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  firstSeen: number;
}

/** Events the core pushes to every subscriber (CLI, windows, browser tabs). */
export type CoreEvent =
  | { type: 'log'; chunk: LogChunk }
  | { type: 'execution'; execution: Execution }
  | { type: 'run'; run: Run }
  | { type: 'tunnel'; serverId: string; state: TunnelState; remotePort: number | null; error: string | null };
