/**
 * The one typed contract between clients (CLI, Electron IPC, web mode) and the core. Requests that cross a
 * process boundary are validated with these schemas; responses and pushed events are plain data.
 *
 * The request schemas live by area in src/contract/ (servers, jobs, runs, import, variables, tools) and are
 * re-exported here; this module holds the API itself.
 */
import type {
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
} from './core/domain.ts';
import type { ErrorValue } from './core/errors.ts';
import type { SqlEngine } from './store/sql.ts';
import type { HistoryPage, HistoryQuery, RerunOptions, RunRequest, ScheduleInput } from './contract/runs.ts';
import type { ImportPlan, ImportRequest } from './contract/import.ts';
import type { JobInput } from './contract/jobs.ts';
import type { ServerInput, ServerTestResult } from './contract/servers.ts';
import type { ToolInput } from './contract/tools.ts';
import type { VariableInput } from './contract/variables.ts';

export { parseInput } from './contract/parse.ts';
export * from './contract/servers.ts';
export * from './contract/jobs.ts';
export * from './contract/runs.ts';
export * from './contract/import.ts';
export * from './contract/variables.ts';
export * from './contract/tools.ts';

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
 * What a client may ask of the core. Every method is async (the store may be a PostgreSQL server). Arguments are validated at the process boundary (src/api/dispatcher.ts)
 * and again by the service with the schemas above; every failure is a CroniumError whose kind and sentence
 * reach the client (SPEC section 8). A `ref` names a record by id or by its unique name; executions also by
 * a unique prefix of their id. Times are epoch milliseconds.
 */
export interface CroniumApi {
  /** The app's version, mode, data directory and the runtime API's port (null until started). */
  appInfo(): Promise<AppInfo>;
  /** Every saved server, by name; passwords and passphrases never included (`hasSecret` says one is stored). */
  listServers(): Promise<Server[]>;
  /** @throws CroniumError not_found. */
  getServer(ref: string): Promise<Server>;
  /**
   * Saves a new server (a password or passphrase sealed at rest).
   * @throws CroniumError invalid_input with a message per field (see src/core/rules.ts), conflict for a
   * name in use; nothing is written then.
   */
  createServer(input: ServerInput): Promise<Server>;
  /**
   * Replaces a server's fields; a password left out keeps the stored one. Its pooled connections are
   * dropped, so the next use logs in with what was saved.
   * @throws CroniumError not_found, invalid_input, conflict (name in use).
   */
  updateServer(ref: string, input: ServerInput): Promise<Server>;
  /** @throws CroniumError not_found; conflict when it is another server's jump server. */
  removeServer(ref: string): Promise<void>;
  /**
   * Imports servers from ~/.ssh/config (or `request.sshConfig`) and trusts their keys from known_hosts,
   * following OpenSSH's rules (src/ssh/sshConfig.ts); with `dryRun`, only says what it would do. A saved
   * server of the same name is updated, not duplicated. All or nothing: a failed write leaves no change.
   * @throws CroniumError invalid_input for a bad request or an ssh_config named but unreadable.
   */
  importServers(request: ImportRequest): Promise<ImportPlan>;
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
  listJobs(): Promise<Job[]>;
  /** @throws CroniumError not_found. */
  getJob(ref: string): Promise<Job>;
  /**
   * Saves a new job (secret environment values sealed at rest; default servers given by ref, stored by id).
   * @throws CroniumError invalid_input with a message per field, conflict for a name in use.
   */
  createJob(input: JobInput): Promise<Job>;
  /**
   * Replaces a job's fields; a secret environment entry whose value is null keeps the stored value.
   * @throws CroniumError not_found, invalid_input, conflict (name in use).
   */
  updateJob(ref: string, input: JobInput): Promise<Job>;
  /**
   * Removes a job (its history is kept) and every other job's chain links to it.
   * @returns the names of the jobs whose links to it were removed.
   */
  removeJob(ref: string): Promise<{ unlinkedFrom: string[] }>;
  /**
   * Starts a job on one or more servers and returns the run at once (status `running`, one queued execution
   * per server); progress arrives as `execution`, `log` and `run` events.
   * @throws CroniumError not_found for an unknown job or server; invalid_input for a bad request or a server
   * listed twice.
   */
  startRun(request: RunRequest): Promise<Run>;
  /** Asks a run to stop (each execution in whichever phase it is); false when no such run is going here. */
  cancelRun(runId: string): Promise<boolean>;
  /**
   * Stops one host's execution of a run (the others go on); a run of another process (the CLI) is asked
   * through the database. False when it is not going.
   * @throws CroniumError not_found.
   */
  cancelExecution(executionId: string): Promise<boolean>;
  /**
   * Runs a run again (`ref`: its id or a unique prefix, or an execution's: its run): the same job, input, parameters, helper mode and
   * servers, or with `options.failed` only the hosts that did not succeed. Trigger `retry`, attempt one
   * more than the run it repeats, linked to it (`retryOf`).
   * @throws CroniumError not_found for an unknown run, or a job or server removed since (named by name);
   * invalid_input when every host succeeded and `failed` was asked.
   */
  rerun(ref: string, options?: RerunOptions): Promise<Run>;
  /**
   * A run at a glance (`ref`: its id or a unique prefix, or an execution's: its run): each host's execution and the groups of hosts
   * whose stdout was identical.
   * @throws CroniumError not_found.
   */
  getRunOverview(ref: string): Promise<RunOverview>;
  /** @throws CroniumError not_found. */
  getRun(runId: string): Promise<Run>;
  /**
   * One page of executions, newest first, with filters; `nextCursor` fetches the next page (null: last).
   * @throws CroniumError invalid_input for a bad query or a cursor that is not from a previous page.
   */
  queryHistory(query: HistoryQuery): Promise<HistoryPage>;
  /** @throws CroniumError not_found; invalid_input when an id prefix matches several executions. */
  getExecution(ref: string): Promise<Execution>;
  /**
   * Up to `limit` (default 10 000) chunks of an execution's stored log with a sequence number above
   * `afterSeq` (default -1: from the start), in order; secrets already masked. Empty for an unknown id.
   */
  readLog(executionId: string, afterSeq?: number, limit?: number): Promise<LogChunk[]>;
  /** Every shared variable, by key; secret values are null. */
  listVariables(): Promise<Variable[]>;
  /**
   * Creates or replaces a variable (a secret one sealed at rest); the value returned is null when secret.
   * @throws CroniumError invalid_input (key rule, JSON value of at most 1 MiB).
   */
  setVariable(input: VariableInput): Promise<Variable>;
  /** @throws CroniumError not_found. */
  removeVariable(key: string): Promise<void>;
  /** Every schedule, by name, with its next occurrences and last result. */
  listSchedules(): Promise<Schedule[]>;
  /** @throws CroniumError not_found. */
  getSchedule(ref: string): Promise<Schedule>;
  /**
   * Saves a schedule (see scheduleInputSchema); occurrences before now are never counted as missed.
   * @throws CroniumError invalid_input (per field; also a target that names no server, or no targets and a
   * job without default servers), not_found for the job.
   */
  createSchedule(input: ScheduleInput): Promise<Schedule>;
  /** Removes a schedule; the runs it started stay in the history. @throws CroniumError not_found. */
  removeSchedule(ref: string): Promise<void>;
  /** Stops firing a schedule until resumed. @throws CroniumError not_found. */
  pauseSchedule(ref: string): Promise<Schedule>;
  /**
   * Fires a paused schedule again, from now on: occurrences while it was paused are not missed ones.
   * @throws CroniumError not_found.
   */
  resumeSchedule(ref: string): Promise<Schedule>;
  /** A schedule's last 20 handled occurrences, newest first. @throws CroniumError not_found. */
  listScheduleFires(ref: string): Promise<ScheduleFire[]>;
  /** The stored tool credentials (Slack, Discord, email), without their secrets. */
  listTools(): Promise<ToolCredential[]>;
  /**
   * Stores a tool credential, its secret parts sealed.
   * @throws CroniumError invalid_input (a bad field, or the name is taken), secrets_unavailable.
   */
  createTool(input: ToolInput): Promise<ToolCredential>;
  /** @throws CroniumError not_found. */
  removeTool(ref: string): Promise<void>;
}

/** The methods a renderer may call (see the method table in src/methodNames.ts). */
export type MethodName = keyof CroniumApi;

/** A doctor's report: what this installation uses (see `cronium doctor`). */
export interface DoctorReport {
  dataDir: string;
  /** Where the data key is and why there, or why no secret store can be used. */
  secretStore:
    { kind: 'keychain' | 'key-file' | 'team-key'; location: string; reason: string } | { error: string };
  /** The store's engine, its version (SQLite library or PostgreSQL server) and where it lives. */
  database: { engine: SqlEngine; version: string; location: string };
}

/**
 * What a process's monitoring endpoint reads from the core when scraped (HostApi.monitorStatus): live
 * figures of this process, and whether its store answers.
 */
export interface MonitorStatus {
  /** Pooled SSH connections open now in this process, and how many of them an execution holds. */
  sshConnections: { open: number; leased: number };
  /** Reverse tunnels (API-mode helpers) forwarding now in this process. */
  openTunnels: number;
  /**
   * The store, by a real query: reachable with the executions queued and not started (by any process
   * sharing it) and how long the query took (ms); or unreachable and why (closed, its file gone or
   * replaced, the engine's error).
   */
  store:
    { reachable: true; queuedExecutions: number; latencyMs: number } | { reachable: false; error: string };
  /** Whether this process holds the scheduler lease (fires schedules); null when it runs no scheduler. */
  schedulerLeaseHeld: boolean | null;
  /** The runtime API's port on 127.0.0.1 while it listens, else null (API-mode helpers then fall back). */
  runtimePort: number | null;
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
  getVariableValue(key: string): Promise<unknown>;
  /**
   * Starts the runtime API the helpers call, once (later calls return the same answer): the port it
   * listens on at 127.0.0.1, and a note when it is not the one asked for.
   */
  startRuntime(): Promise<{ port: number; note: string | null }>;
  /** The ids of the runs this process is running now. */
  activeRunIds(): string[];
  /**
   * Team mode: the words to show beside a run sent to workers while no worker is alive (it waits in the
   * queue); null for a direct run, outside team mode, or while a worker is alive.
   */
  noWorkerNotice(runId: string): Promise<string | null>;
  /**
   * Publishes runs other processes (the CLI) start and log into the same data directory as this process's
   * own events, by polling the database every `intervalMs` (250); returns the function that stops it.
   */
  followOtherProcesses(intervalMs?: number): () => void;
  /**
   * Team mode: reaps lost workers (src/team/reaper.ts) every heartbeat interval until the returned function
   * is called — what the daemon does; followOtherProcesses and following a worker run do it too. A no-op
   * outside team mode.
   */
  startReaper(): () => void;
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
  reattachDetached(): Promise<string[]>;
  /** Every event the core publishes, until the returned function is called. */
  subscribe(listener: (event: CoreEvent) => void): () => void;
  /**
   * A subscriber that cannot keep up with log events (the CLI's stdout is full) pauses the running
   * scripts' output until `until` settles.
   */
  slowDown(until: Promise<void>): void;
  /** Converts secrets stored in the desktop app's old "ss1:" format; returns how many. */
  resealLegacySecrets(): Promise<number>;
  /** What this installation uses; never throws for an unusable secret store (the report says why). */
  doctor(): Promise<DoctorReport>;
  /**
   * Re-seals every secret of this data directory (sealed with its data key) with the team key this
   * process was given (CRONIUM_TEAM_KEY or CRONIUM_TEAM_KEY_FILE), in one transaction, and records the
   * team key's check value; returns how many values were re-sealed.
   * @throws CroniumError invalid_input when no team key was given; secrets_unavailable when the store
   * already has a team key, or the data key cannot open a value (nothing is written then).
   */
  adoptTeamKey(): Promise<number>;
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
  /**
   * Live figures for monitoring (open SSH connections and tunnels, the scheduler lease) and a real query of
   * the store (queued executions). Never rejects: an unreachable store comes back in `store`.
   */
  monitorStatus(): Promise<MonitorStatus>;
  /**
   * Team mode: starts taking queued executions from the team's queue in this process (`cronium worker`),
   * with heartbeats, reaping of lost workers and cancels across processes (see src/team/worker.ts).
   * Resolves once it takes executions.
   * @throws CroniumError invalid_input without a team URL (CRONIUM_DATABASE_URL).
   */
  startWorker(options: WorkerStartOptions): Promise<WorkerControl>;
  /** Cancels what runs (waiting for each to end), closes connections, the runtime API and the database. */
  close(): Promise<void>;
}

/** How a worker starts (HostApi.startWorker). Times in milliseconds. */
export interface WorkerStartOptions {
  /** Unique among the team's workers (default: this machine's name). */
  name?: string;
  /** Executions at once (default 4). */
  concurrency?: number;
  /** Between heartbeats (2000). */
  heartbeatMs?: number;
  /** Without a heartbeat, after which a worker is lost (15000). */
  lostAfterMs?: number;
  /** A stop lets running executions finish this long before cancelling them (30000). */
  graceMs?: number;
}

/** A worker running in this process (HostApi.startWorker). */
export interface WorkerControl {
  readonly name: string;
  /** Executions running now. */
  readonly active: number;
  /** Stops taking, lets running executions finish for up to graceMs, cancels the rest, leaves the team. */
  stop(graceMs?: number): Promise<void>;
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
  [K in MethodName]: (...args: Parameters<CroniumApi[K]>) => ReturnType<CroniumApi[K]>;
};

/**
 * What the Electron preload exposes as window.cronium: one named verb per renderer method (its answer a
 * Result), and a subscription to core events that returns its disposer.
 */
export interface PreloadBridge {
  api: { [K in MethodName]: (...args: unknown[]) => Promise<Result<unknown>> };
  onEvent(listener: (event: CoreEvent) => void): () => void;
}
