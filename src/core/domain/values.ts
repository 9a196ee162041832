/** The closed value lists of the domain (languages, statuses, kinds, …) and job parameter shapes. */
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

/**
 * Where a run's executions run: `direct`, in the process that starts it; `workers`, queued for `cronium
 * worker` processes on the team's PostgreSQL queue (src/team/).
 */
export const RUN_VIA = ['direct', 'workers'] as const;
export type RunVia = (typeof RUN_VIA)[number];

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
  /**
   * Team mode: the worker running it stopped heartbeating (killed, its machine gone) after its script had
   * started; nobody knows how the script ended (see src/team/reaper.ts for the policy).
   */
  'worker_lost',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** The statuses an execution ends in (see src/core/executionStatus.ts for the moves between them). */
export const FINAL_EXECUTION_STATUSES = [
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'error',
  'worker_lost',
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
  'worker_lost',
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
  /**
   * Team mode: the worker running an execution stopped heartbeating after its script had started (status
   * `worker_lost`, the same word: src/team/reaper.ts); exit 75 from `cronium run`.
   */
  'worker_lost',
  'secrets_unavailable',
  /** A call to the core from a frame that is not the app's own page (the desktop shell's IPC). */
  'forbidden_sender',
  'internal',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];
