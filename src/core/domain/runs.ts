/** Runs, their executions on each server, and what an execution produced (logs, tools, variables). */
import type {
  ChainEvent,
  ChainTarget,
  ErrorKind,
  ExecutionStatus,
  HelperMode,
  LogStream,
  ParamValue,
  RunStatus,
  RunTrigger,
  ToolActionStatus,
  ToolType,
} from './values.ts';

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
  /** Who started its run (Run.startedBy); null for older rows ("unknown"). */
  startedBy: string | null;
  /**
   * Team mode: the name of the worker (`cronium worker --name`) that took this execution from the queue;
   * null for one run directly, and for one no worker has taken yet.
   */
  worker: string | null;
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
  /** The server name of each execution, in `executionIds`' order (as the run was started: a server
   * renamed or removed later keeps the name it ran under). */
  serverNames: string[];
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
  /**
   * Who started the run (the audit trail): "user@machine" of the process that started it (CLI, app,
   * browser mode, the daemon firing a schedule, the process whose run's chain link started it), or
   * "worker NAME@host". Null for runs recorded before it was kept (shown as "unknown").
   */
  startedBy: string | null;
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

export interface LogChunk {
  executionId: string;
  seq: number;
  stream: LogStream;
  ts: number;
  text: string;
}
