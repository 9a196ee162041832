/** The domain as the core and every client (CLI, IPC, web) see it. Secrets never appear here in clear. */

export type Language = 'bash' | 'python' | 'node';

export type HelperMode = 'auto' | 'api' | 'bundled';

export type AuthType = 'key' | 'password' | 'agent';

export type RunTrigger = 'manual' | 'cli' | 'schedule' | 'retry';
export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled';
export type ExecutionStatus =
  'queued' | 'connecting' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'error';
export type LogStream = 'stdout' | 'stderr' | 'system';

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
  errorKind: string | null;
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
