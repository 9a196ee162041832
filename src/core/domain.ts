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

export const AUTH_TYPES = ['key', 'password', 'agent'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

export const RUN_TRIGGERS = ['manual', 'cli', 'schedule', 'retry'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

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
  attempt: number;
}

export interface VariableChange {
  key: string;
  op: 'set' | 'delete';
}

export interface Run {
  id: string;
  jobId: string;
  jobName: string;
  input: unknown;
  trigger: RunTrigger;
  concurrency: number;
  helperMode: HelperMode;
  status: RunStatus;
  startedAt: number;
  endedAt: number | null;
  executionIds: string[];
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
