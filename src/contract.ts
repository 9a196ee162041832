/**
 * The one typed contract between clients (CLI, Electron IPC, web mode) and the core. Requests that cross a
 * process boundary are validated with these schemas; responses and pushed events are plain data.
 */
import { z } from 'zod';

import { invalidInput, type ErrorValue } from './core/errors.ts';
import * as rules from './core/rules.ts';
import {
  EXECUTION_STATUSES,
  HELPER_MODES,
  LANGUAGES,
  RUN_TRIGGERS,
  type CoreEvent,
  type ErrorKind,
  type Execution,
  type Job,
  type KnownHost,
  type LogChunk,
  type Run,
  type Server,
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
    passphrase: rules.secret.optional(),
  }),
  // Editing a server may leave the password out to keep the stored one.
  z.object({ type: z.literal('password'), password: rules.secret.optional() }),
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
});
export type ServerInput = z.input<typeof serverInputSchema>;

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
});
export type JobInput = z.input<typeof jobInputSchema>;

export const runRequestSchema = z.object({
  jobId: z.string().min(1, 'job is required'),
  serverIds: z.array(z.string().min(1).max(500)).min(1, 'choose at least one server').max(10_000),
  input: rules.jsonValue.optional(),
  helperMode: helperModeSchema.optional(),
  concurrency: rules.concurrency.default(10),
  trigger: z.enum(RUN_TRIGGERS).default('manual'),
});
export type RunRequest = z.input<typeof runRequestSchema>;

export const historyQuerySchema = z.object({
  jobId: z.string().optional(),
  serverId: z.string().optional(),
  status: z.enum(EXECUTION_STATUSES).optional(),
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

export type { CoreEvent, Execution, Job, KnownHost, LogChunk, Run, Server, TunnelState, Variable };

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
  /** Removes a job (its history stays). @throws CroniumError not_found. */
  removeJob(ref: string): void;
  /**
   * Starts a job on one or more servers and returns the run at once (status `running`, one queued execution
   * per server); progress arrives as `execution`, `log` and `run` events.
   * @throws CroniumError not_found for an unknown job or server; invalid_input for a bad request or a server
   * listed twice.
   */
  startRun(request: RunRequest): Run;
  /** Asks a run to stop (each execution in whichever phase it is); false when no such run is going here. */
  cancelRun(runId: string): boolean;
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
  /** Cancels what runs (waiting for each to end), closes connections, the runtime API and the database. */
  close(): Promise<void>;
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
