/**
 * The service facade: the only door to the core. The CLI and the Electron main process hold it as a
 * HostApi; the Electron IPC adapter and the web-mode server reach its CroniumApi methods through the
 * dispatcher. Each method delegates to one domain service (src/service/*.ts); the parts are built by the
 * composition root (compose.ts). Inputs from outside are validated by the domain services with the
 * contract's schemas.
 */
import { readFileSync } from 'node:fs';

import type {
  AppInfo,
  CoreEvent,
  DoctorReport,
  HistoryPage,
  HostApi,
  MonitorStatus,
  SchedulerControl,
  WorkerControl,
  WorkerStartOptions,
  ImportPlan,
  ServerTestResult,
} from '../contract.ts';
import type {
  Execution,
  Job,
  LogChunk,
  Run,
  RunOverview,
  Schedule,
  ScheduleFire,
  Server,
  ToolCredential,
  Variable,
} from '../core/domain.ts';
import { CroniumError, toErrorValue } from '../core/errors.ts';
import { resealLegacySecrets } from '../secrets/reseal.ts';
import type { SecretStoreInfo } from '../secrets/secretStore.ts';
import { TEAM_KEY_ENV, TEAM_KEY_FILE_ENV, TeamKeySecretStore } from '../secrets/teamKey.ts';
import { composeCore, type Core, type ServiceOptions } from './compose.ts';

export type { ServiceOptions } from './compose.ts';

export class CroniumService implements HostApi {
  private readonly core: Core;
  private closing: Promise<void> | null = null;

  /** Wraps a core built by composeCore (tests that reach its parts build one; see open()). */
  constructor(core: Core) {
    this.core = core;
  }

  /**
   * Opens the store and builds the core from options (composeCore): the one way to make a service.
   * @throws what opening the store throws (see openStore).
   */
  static async open(options: ServiceOptions): Promise<CroniumService> {
    return new CroniumService(await composeCore(options));
  }

  startRuntime(): Promise<{ port: number; note: string | null }> {
    return this.core.startRuntime();
  }

  /** Where this data directory's data key is, and why there (finds it now if no secret was used yet). */
  secretStoreInfo(): Promise<SecretStoreInfo> {
    return this.core.secrets.info();
  }

  async resealLegacySecrets(): Promise<number> {
    return resealLegacySecrets(this.core.db, this.core.secrets);
  }

  async adoptTeamKey(): Promise<number> {
    const { secrets, dataKeySecrets } = this.core;
    if (!(secrets instanceof TeamKeySecretStore))
      throw new CroniumError(
        'invalid_input',
        `No team key was given: set ${TEAM_KEY_ENV} or ${TEAM_KEY_FILE_ENV} to the team's key (\`cronium team-key new\` makes one), then run this again.`,
      );
    return secrets.adopt(dataKeySecrets);
  }

  async doctor(): Promise<DoctorReport> {
    let secretStore: DoctorReport['secretStore'];
    try {
      secretStore = await this.core.secrets.info();
    } catch (err) {
      secretStore = { error: toErrorValue(err).message };
    }
    const { db } = this.core;
    return {
      dataDir: this.core.options.dataDir,
      secretStore,
      database: { engine: db.engine, version: await db.version(), location: db.location },
    };
  }

  async appInfo(): Promise<AppInfo> {
    const { options, runtime } = this.core;
    return {
      version: options.appVersion ?? packageVersion(),
      mode: options.appMode ?? 'web',
      runtimePort: runtime.port,
      dataDir: options.dataDir,
    };
  }

  subscribe(listener: (event: CoreEvent) => void): () => void {
    return this.core.hub.subscribe(listener);
  }

  slowDown(until: Promise<void>): void {
    this.core.hub.slowDown(until);
  }

  // ---- servers ------------------------------------------------------------------------------------------

  async listServers(): Promise<Server[]> {
    return this.core.servers.list();
  }
  async getServer(ref: string): Promise<Server> {
    return this.core.servers.get(ref);
  }
  async createServer(input: unknown): Promise<Server> {
    return this.core.servers.create(input);
  }
  async updateServer(ref: string, input: unknown): Promise<Server> {
    return this.core.servers.update(ref, input);
  }
  /** Drops pooled connections to a server, so the next use connects (and checks its host key) afresh. */
  async disconnectServer(ref: string): Promise<void> {
    await this.core.servers.disconnect(ref);
  }
  async removeServer(ref: string): Promise<void> {
    await this.core.servers.remove(ref);
  }
  async importServers(request: unknown): Promise<ImportPlan> {
    return this.core.imports.run(request);
  }
  testServer(ref: string): Promise<ServerTestResult> {
    return this.core.servers.test(ref);
  }
  trustHostKey(ref: string, fingerprint?: string): Promise<ServerTestResult> {
    return this.core.servers.trustHostKey(ref, fingerprint);
  }

  // ---- jobs ---------------------------------------------------------------------------------------------

  async listJobs(): Promise<Job[]> {
    return this.core.jobs.list();
  }
  async getJob(ref: string): Promise<Job> {
    return this.core.jobs.get(ref);
  }
  async createJob(input: unknown): Promise<Job> {
    return this.core.jobs.create(input);
  }
  async updateJob(ref: string, input: unknown): Promise<Job> {
    return this.core.jobs.update(ref, input);
  }
  async removeJob(ref: string): Promise<{ unlinkedFrom: string[] }> {
    return this.core.jobs.remove(ref);
  }

  // ---- runs ---------------------------------------------------------------------------------------------

  async startRun(request: unknown): Promise<Run> {
    return this.core.runs.start(request);
  }
  waitForRun(runId: string): Promise<Run> {
    return this.core.runs.wait(runId);
  }
  waitForChain(runId: string): Promise<Run[]> {
    return this.core.runs.waitForChain(runId);
  }
  async cancelRun(runId: string): Promise<boolean> {
    return this.core.runs.cancel(runId);
  }
  async cancelExecution(executionId: string): Promise<boolean> {
    return this.core.runs.cancelExecution(executionId);
  }
  async rerun(ref: string, options?: unknown): Promise<Run> {
    return this.core.runs.rerun(ref, options);
  }
  async getRunOverview(ref: string): Promise<RunOverview> {
    return this.core.runs.overview(ref);
  }
  followOtherProcesses(intervalMs?: number): () => void {
    return this.core.followOtherProcesses(intervalMs);
  }
  startReaper(): () => void {
    return this.core.team.startReaper();
  }
  noWorkerNotice(runId: string): Promise<string | null> {
    return this.core.team.noWorkerNotice(runId);
  }
  activeRunIds(): string[] {
    return this.core.runs.activeRunIds();
  }
  attach(ref: string): Promise<Execution> {
    return this.core.runs.attach(ref);
  }
  async reattachDetached(): Promise<string[]> {
    return this.core.runs.reattachDetached(await this.core.history.detachedIds());
  }

  // ---- history ------------------------------------------------------------------------------------------

  async getRun(runId: string): Promise<Run> {
    return this.core.history.run(runId);
  }
  async queryHistory(query: unknown): Promise<HistoryPage> {
    return this.core.history.query(query);
  }
  async getExecution(ref: string): Promise<Execution> {
    return this.core.history.execution(ref);
  }
  async readLog(executionId: string, afterSeq = -1, limit?: number): Promise<LogChunk[]> {
    return this.core.history.readLog(executionId, afterSeq, limit);
  }

  // ---- variables ----------------------------------------------------------------------------------------

  async listVariables(): Promise<Variable[]> {
    return this.core.variables.list();
  }
  async getVariableValue(key: string): Promise<unknown> {
    return this.core.variables.value(key);
  }
  async setVariable(input: unknown, updatedBy = 'user'): Promise<Variable> {
    return this.core.variables.set(input, updatedBy);
  }
  async removeVariable(key: string): Promise<void> {
    await this.core.variables.remove(key);
  }

  // ---- schedules ----------------------------------------------------------------------------------------

  async listSchedules(): Promise<Schedule[]> {
    return this.core.schedules.list();
  }
  async getSchedule(ref: string): Promise<Schedule> {
    return this.core.schedules.get(ref);
  }
  async createSchedule(input: unknown): Promise<Schedule> {
    return this.core.schedules.create(input);
  }
  async removeSchedule(ref: string): Promise<void> {
    await this.core.schedules.remove(ref);
  }
  async pauseSchedule(ref: string): Promise<Schedule> {
    return this.core.schedules.setEnabled(ref, false);
  }
  async resumeSchedule(ref: string): Promise<Schedule> {
    return this.core.schedules.setEnabled(ref, true);
  }
  async listScheduleFires(ref: string): Promise<ScheduleFire[]> {
    return this.core.schedules.fires(ref);
  }
  startScheduler(): SchedulerControl {
    return this.core.startScheduler();
  }

  async startWorker(options: WorkerStartOptions): Promise<WorkerControl> {
    const [{ TeamWorker }, { workerName }, { CroniumError }] = await Promise.all([
      import('../team/worker.ts'),
      import('../team/reaper.ts'),
      import('../core/errors.ts'),
    ]);
    const { team, runs, executor } = this.core;
    if (!team.enabled)
      throw new CroniumError(
        'invalid_input',
        'A worker needs the team’s PostgreSQL: set CRONIUM_DATABASE_URL=postgres://… or --database-url (see the README, team mode).',
      );
    const worker = new TeamWorker(
      { team, runs, executor },
      { ...options, name: workerName(options.name), concurrency: options.concurrency ?? 4 },
    );
    await worker.start();
    return worker;
  }

  // ---- tools -------------------------------------------------------------------------------------------

  async listTools(): Promise<ToolCredential[]> {
    return this.core.tools.list();
  }
  async createTool(input: unknown): Promise<ToolCredential> {
    return this.core.tools.create(input);
  }
  async removeTool(ref: string): Promise<void> {
    await this.core.tools.remove(ref);
  }

  monitorStatus(): Promise<MonitorStatus> {
    return this.core.monitorStatus();
  }

  // ---- lifecycle ----------------------------------------------------------------------------------------

  /** Closes once: later calls wait for the same close (the daemon closes before the CLI's own close). */
  close(): Promise<void> {
    return (this.closing ??= this.core.close());
  }
}

function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}
