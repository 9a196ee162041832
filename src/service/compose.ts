/**
 * The composition root: builds the store, secret store, connection pool, runtime API, executor and the
 * domain services from the options, and owns their lifecycle. Nothing else constructs these parts.
 */
import { isProcessAlive } from '../core/processAlive.ts';
import { join } from 'node:path';

import type { AppInfo, MonitorStatus } from '../contract.ts';
import { CroniumError } from '../core/errors.ts';
import { EventHub } from '../core/eventHub.ts';
import { log as logger } from '../core/logger.ts';
import { DeployRecord } from '../exec/deployRecord.ts';
import { Executor } from '../exec/executor.ts';
import { RunManager } from '../exec/runManager.ts';
import { remoteBundle } from '../remote/assets.ts';
import { ExecutionRegistry, type RateLimit } from '../runtime/executionRegistry.ts';
import { DEFAULT_RUNTIME_PORT, RuntimeServer } from '../runtime/runtimeServer.ts';
import { TokenService } from '../runtime/tokens.ts';
import { TunnelManager } from '../runtime/tunnelManager.ts';
import { osKeychain, type Keychain } from '../secrets/keychain.ts';
import { DataKeySecretStore, type SecretStore, type SecretStoreInfo } from '../secrets/secretStore.ts';
import {
  hasTeamKey,
  TEAM_KEY_ENV,
  TEAM_KEY_FILE_ENV,
  TeamKeySecretStore,
  teamKeyFromEnv,
  type TeamKey,
} from '../secrets/teamKey.ts';
import { ConnectionPool } from '../ssh/connectionPool.ts';
import { HostKeyVerifier, type UnknownKeyPolicy } from '../ssh/hostKeys.ts';
import { HistoryRepo } from '../store/historyRepo.ts';
import { JobRepo } from '../store/jobRepo.ts';
import { LeaseRepo, ScheduleRepo } from '../store/scheduleRepo.ts';
import { KnownHostRepo } from '../store/knownHostRepo.ts';
import { type LogStore, LogWriter } from '../store/logWriter.ts';
import { openStore } from '../store/openStore.ts';
import { PostgresLogWriter } from '../store/postgresLogWriter.ts';
import { ServerRepo } from '../store/serverRepo.ts';
import type { SqlDatabase } from '../store/sql.ts';
import { ToolRepo } from '../store/toolRepo.ts';
import { VariableRepo } from '../store/variableRepo.ts';
import { defaultActor } from '../core/actor.ts';
import { Team } from '../team/team.ts';
import { teamTimings } from '../team/reaper.ts';
import { TeamRepo } from '../team/teamRepo.ts';
import { ForeignRuns } from './foreignRuns.ts';
import { HistoryService } from './history.ts';
import { JobService } from './jobs.ts';
import { monitor } from './monitor.ts';
import type { WebhookOptions } from './notices.ts';
import { RunService } from './runs.ts';
import { resolveRef } from './refs.ts';
import { Scheduler, type SchedulerDeps } from './scheduler.ts';
import { ScheduleService } from './schedules.ts';
import { poolTargetOf } from './serverAuth.ts';
import { ImportService } from './import.ts';
import { serverRefs, ServerService } from './servers.ts';
import { ToolService } from './tools.ts';
import { VariableService } from './variables.ts';

export interface ServiceOptions {
  dataDir: string;
  /**
   * `postgres://…` puts the store on PostgreSQL (team mode; CRONIUM_DATABASE_URL) instead of the data
   * directory's SQLite file. See openStore.
   */
  databaseUrl?: string;
  /**
   * The OS keychain holding the data key (default: the real one through @napi-rs/keyring; null: none, so
   * the key file). See DataKeySecretStore.
   */
  keychain?: Keychain | null;
  /** Opens the desktop app's old "ss1:" values (Electron safeStorage), so they can be re-sealed. */
  legacyDecrypt?: (sealed: string) => string;
  unknownHostKeys?: UnknownKeyPolicy;
  /** Seconds between SIGTERM and SIGKILL when a script is stopped (5). */
  killGraceSec?: number;
  /** Milliseconds an SSH login may take (see PoolOptions). */
  readyTimeoutMs?: number;
  /** Milliseconds an unused pooled connection stays open (see PoolOptions). */
  idleMs?: number;
  /** Milliseconds unused after which a pooled connection is checked before reuse (see PoolOptions). */
  checkIdleAfterMs?: number;
  /** Milliseconds a server has to answer a request for a new session before its connection is replaced. */
  sessionAnswerMs?: number;
  /** The SSH agent socket for agent auth (defaults to SSH_AUTH_SOCK). */
  agentSocket?: string;
  /** The runtime API's port on 127.0.0.1 (8089; a free one when taken; 0 for any). */
  runtimePort?: number;
  /** The port of the reverse tunnel on hosts' loopback (0: chosen by the server, so runs never collide). */
  tunnelPort?: number;
  /** How long an unused tunnel stays open for the next execution (10 s). */
  tunnelLingerMs?: number;
  /** Who is asking: what appInfo() reports. */
  appMode?: AppInfo['mode'];
  appVersion?: string;
  rateLimit?: RateLimit;
  maxBodyBytes?: number;
  /** The scheduler's timings (lease, misfire grace, poll; see src/service/scheduler.ts) and clock. */
  scheduler?: Pick<SchedulerDeps, 'leaseMs' | 'misfireGraceMs' | 'pollMs' | 'now' | 'holderId'>;
  /** How many links deep a chain of jobs may go at run time (10); the next link is skipped, and says so. */
  maxChainDepth?: number;
  /** Retries and timeouts of job webhooks (see WebhookOptions). */
  webhook?: WebhookOptions;
  /**
   * A store that several people and machines share (PostgreSQL): secrets must be sealed with a team key,
   * so a missing one is an error at start rather than a personal data key sealing shared secrets.
   */
  sharedStore?: boolean;
  /** Where CRONIUM_TEAM_KEY / CRONIUM_TEAM_KEY_FILE are read (process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Who this process starts runs as, recorded on each run (the audit trail): by default "user@machine"
   * (defaultActor); a worker passes "worker NAME@host".
   */
  actor?: string;
  /** Whether this process tidies the team's queue (pg-boss supervise): workers and the daemon do. */
  teamSupervise?: boolean;
  /** Where runs the scheduler fires go (`workers` in a worker process: schedules fire into the queue). */
  scheduledVia?: 'direct' | 'workers';
}

/** The built parts. Trusted code only (the facade, and tests that drive the runtime API directly). */
export interface Core {
  readonly options: ServiceOptions;
  readonly db: SqlDatabase;
  /** The store that seals secrets: the team key's when one is given or the store has one, else the data key's. */
  readonly secrets: SecretStore & { info(): Promise<SecretStoreInfo> };
  /** The data directory's own data key (what `cronium team-key adopt` re-seals from). */
  readonly dataKeySecrets: DataKeySecretStore;
  readonly hub: EventHub;
  readonly pool: ConnectionPool;
  readonly logs: LogStore;
  readonly registry: ExecutionRegistry;
  readonly runtime: RuntimeServer;
  readonly servers: ServerService;
  readonly imports: ImportService;
  readonly jobs: JobService;
  readonly runs: RunService;
  readonly history: HistoryService;
  readonly variables: VariableService;
  readonly schedules: ScheduleService;
  /** Starts firing schedules from this process (once; later calls return the same scheduler). */
  startScheduler(): Scheduler;
  /** Publishes other processes' runs on this hub (see ForeignRuns); returns the function that stops it. */
  followOtherProcesses(intervalMs?: number): () => void;
  readonly tools: ToolService;
  /** Live figures and a real query of the store, for monitoring (HostApi.monitorStatus). */
  monitorStatus(): Promise<MonitorStatus>;
  /** Runs one execution (what a worker calls for each execution it takes from the queue). */
  readonly executor: Executor;
  /** Team mode's side of this process (runs sent to workers, followed and cancelled; see src/team/). */
  readonly team: Team;
  /** The history store (the worker writes the ends of the runs it settles). */
  readonly historyRepo: HistoryRepo;
  /** Starts the runtime API once; later calls return the same answer. */
  startRuntime(): Promise<{ port: number; note: string | null }>;
  /**
   * Stops the scheduler (giving its lease up), cancels what runs (keep-running scripts are left on their
   * hosts, detached), then closes connections, the runtime API, the log writer and the database.
   */
  close(): Promise<void>;
}

/**
 * Builds every part from the options: opens (and migrates) the store (openStore), fails the
 * executions an ended process left running (a keep-running one becomes detached), and wires the executor to the pool, store, runtime and hub.
 * @throws whatever opening the store throws (an unreadable or newer-schema file, a URL this build cannot
 *   open); the store is closed again when a later step fails.
 */
export async function composeCore(options: ServiceOptions): Promise<Core> {
  const teamKey = teamKeyFromEnv(options.env ?? process.env);
  // A store on PostgreSQL is shared (a team's): its secrets must not be sealed with one person's key.
  if ((options.sharedStore || options.databaseUrl) && !teamKey)
    throw new CroniumError(
      'secrets_unavailable',
      `This store is shared, so its secrets are sealed with the team key, and none was given: set ${TEAM_KEY_ENV} (base64 of 32 bytes) or ${TEAM_KEY_FILE_ENV} (a file of mode 600 holding it) to the key your team handed out. \`cronium team-key new\` makes one for a new team.`,
    );
  const db = await openStore({
    dataDir: options.dataDir,
    databaseUrl: options.databaseUrl,
    env: options.env,
  });
  try {
    return await composeOn(db, options, teamKey);
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Builds every part on an open store (see composeCore). */
async function composeOn(db: SqlDatabase, options: ServiceOptions, teamKey: TeamKey | null): Promise<Core> {
  const dataKeySecrets = new DataKeySecretStore({
    dataDir: options.dataDir,
    db,
    keychain: options.keychain ?? null,
    // The OS keychain (its native module) only once a secret is needed.
    findKeychain: options.keychain === undefined ? () => osKeychain() : undefined,
    legacyDecrypt: options.legacyDecrypt,
  });
  // A team key, when given, is used instead of the data key (on any engine); a store that adopted one
  // keeps asking for it.
  const secrets =
    teamKey || (await hasTeamKey(db)) ? new TeamKeySecretStore({ db, teamKey }) : dataKeySecrets;
  // A shared store checks the team key now: a process with a wrong one (a worker above all) must not
  // start, write rows and then fail every run that needs a secret. (A local store waits for the first
  // secret: `cronium team-key adopt` opens it before its secrets are sealed with the team key.)
  if (db.engine === 'postgres' || options.sharedStore) await secrets.info();
  const serverRepo = new ServerRepo(db);
  const historyRepo = new HistoryRepo(db);
  const knownHosts = new KnownHostRepo(db);
  await historyRepo.failOrphans(isProcessAlive);
  const hub = new EventHub();
  const unknownHostKeys = options.unknownHostKeys ?? 'ask';
  // Read when a connection is made: an agent started after the service still counts.
  const agentSocket = () => options.agentSocket ?? process.env.SSH_AUTH_SOCK;
  const refs = serverRefs(serverRepo);
  const pool = new ConnectionPool({
    hostKeys: new HostKeyVerifier(knownHosts, unknownHostKeys),
    resolve: async (id) => poolTargetOf(await resolveRef(id, refs), secrets, agentSocket()),
    readyTimeoutMs: options.readyTimeoutMs,
    idleMs: options.idleMs,
    checkIdleAfterMs: options.checkIdleAfterMs,
    sessionAnswerMs: options.sessionAnswerMs,
  });
  // The log's writer keeps its own thread and connection (the data path stays off this thread): for the
  // SQLite store, a LogWriter on the same file; on PostgreSQL, batches through the store's pool.
  const logs: LogStore =
    db.engine === 'postgres' ? new PostgresLogWriter(db) : new LogWriter(join(options.dataDir, 'cronium.db'));
  const registry = new ExecutionRegistry(options.rateLimit);
  const tokens = new TokenService(db, secrets);
  const variables = new VariableService({ db, repo: new VariableRepo(db), secrets });
  const variableAccess = variables.access();
  const tools = new ToolService({ db, repo: new ToolRepo(db), secrets });
  const toolActions = tools.performer();
  const runtime = new RuntimeServer({
    tokens,
    registry,
    variables: variableAccess,
    tools: toolActions,
    maxBodyBytes: options.maxBodyBytes,
  });
  let runtimeStart: Promise<{ port: number; note: string | null }> | null = null;
  // The note (the port was taken) is said once per process, here, not in every execution's log.
  const startRuntime = () =>
    (runtimeStart ??= runtime.listen(options.runtimePort ?? DEFAULT_RUNTIME_PORT).then((started) => {
      if (started.note) logger().warn(started.note);
      else logger().debug(`runtime API on 127.0.0.1:${started.port}`);
      return started;
    }));
  const tunnels = new TunnelManager(runtime, hub, {
    remotePort: options.tunnelPort,
    lingerMs: options.tunnelLingerMs,
  });
  const executor = new Executor({
    pool,
    history: historyRepo,
    logs,
    hub,
    bundle: remoteBundle(),
    killGraceSec: options.killGraceSec,
    deployments: new DeployRecord(join(options.dataDir, 'runners.json')),
    helpers: {
      runtime,
      runtimeReady: () =>
        startRuntime().then(
          ({ note }) => ({ listening: runtime.listening, note }),
          () => ({ listening: false, note: null }),
        ),
      tokens,
      registry,
      tunnels,
      variables: variableAccess,
      tools: toolActions,
    },
  });
  const servers = new ServerService({
    db,
    repo: serverRepo,
    knownHosts,
    secrets,
    pool,
    unknownHostKeys,
    readyTimeoutMs: options.readyTimeoutMs,
    agentSocket,
  });
  const imports = new ImportService({ db, servers, knownHosts, agentSocket });
  const jobs = new JobService({ db, repo: new JobRepo(db), secrets, serverRefs: servers.refs });
  const history = new HistoryService(historyRepo);
  let closing: Promise<void> | null = null;
  const team = new Team({
    // Team mode is a store on PostgreSQL: the queue lives in the same database (schema cronium_queue).
    url: db.engine === 'postgres' ? (options.databaseUrl ?? null) : null,
    repo: new TeamRepo(db),
    history: historyRepo,
    hub,
    supervise: options.teamSupervise,
    timings: db.engine === 'postgres' ? teamTimings(options.env ?? process.env) : undefined,
  });
  const runs = new RunService({
    team,
    manager: new RunManager(executor, historyRepo, hub, {
      pool,
      logs,
      bundle: remoteBundle(),
      variables: variableAccess,
      killGraceSec: options.killGraceSec ?? 5,
    }),
    execution: (ref) => history.execution(ref),
    actor: options.actor ?? defaultActor(),
    jobs,
    servers,
    variables,
    secrets,
    history: historyRepo,
    hub,
    maxChainDepth: options.maxChainDepth,
    webhook: options.webhook,
  });
  const scheduleRepo = new ScheduleRepo(db);
  const schedules = new ScheduleService({ db, repo: scheduleRepo, jobs, serverRefs: servers.refs });
  let scheduler: Scheduler | null = null;
  const startScheduler = () => {
    scheduler ??= new Scheduler({
      db,
      schedules: scheduleRepo,
      leases: new LeaseRepo(db),
      startRun: (request) =>
        runs.start(options.scheduledVia === 'workers' ? { ...request, via: 'workers' } : request),
      waitRun: (runId) => runs.wait(runId),
      isAlive: isProcessAlive,
      // Runs a dead holder left "running" would block its schedules' overlap rule for ever.
      onTakeover: () => historyRepo.failOrphans(isProcessAlive),
      ...options.scheduler,
    });
    scheduler.start();
    return scheduler;
  };
  return {
    options,
    db,
    secrets,
    dataKeySecrets,
    hub,
    pool,
    logs,
    registry,
    runtime,
    servers,
    imports,
    jobs,
    runs,
    history,
    variables,
    schedules,
    startScheduler,
    tools,
    executor,
    team,
    historyRepo,
    startRuntime,
    monitorStatus: monitor({
      pool,
      tunnels,
      history: historyRepo,
      // On PostgreSQL there is no file to watch (a worker's data directory holds only its logs).
      storeFile: db.engine === 'sqlite' ? join(options.dataDir, 'cronium.db') : null,
      scheduler: () => scheduler,
      runtimePort: () => (runtime.listening ? runtime.port : null),
    }),
    followOtherProcesses: (intervalMs) => {
      const stopLooking = new ForeignRuns(historyRepo, hub).start(intervalMs);
      // The app and browser mode show worker runs: they also end those whose worker was lost.
      const stopReaping = team.startReaper();
      return () => {
        stopLooking();
        stopReaping();
      };
    },
    close() {
      // Once: a second call waits for the first.
      closing ??= (async () => {
        await scheduler?.stop();
        // Keep-running scripts are left on their hosts (detached), the others cancelled.
        await runs.cancelAll();
        await team.close();
        pool.closeAll();
        await runtime.close();
        await logs.close();
        await db.close();
      })();
      return closing;
    },
  };
}
