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

  /** Builds the core from options, or wraps one built by composeCore (tests that reach its parts). */
  constructor(source: ServiceOptions | Core) {
    this.core = 'runtime' in source ? source : composeCore(source);
  }

  startRuntime(): Promise<{ port: number; note: string | null }> {
    return this.core.startRuntime();
  }

  /** Where this data directory's data key is, and why there (finds it now if no secret was used yet). */
  secretStoreInfo(): SecretStoreInfo {
    return this.core.secrets.info();
  }

  resealLegacySecrets(): number {
    return resealLegacySecrets(this.core.db, this.core.secrets);
  }

  adoptTeamKey(): number {
    const { secrets, dataKeySecrets } = this.core;
    if (!(secrets instanceof TeamKeySecretStore))
      throw new CroniumError(
        'invalid_input',
        `No team key was given: set ${TEAM_KEY_ENV} or ${TEAM_KEY_FILE_ENV} to the team's key (\`cronium team-key new\` makes one), then run this again.`,
      );
    return secrets.adopt(dataKeySecrets);
  }

  doctor(): DoctorReport {
    let secretStore: DoctorReport['secretStore'];
    try {
      secretStore = this.core.secrets.info();
    } catch (err) {
      secretStore = { error: toErrorValue(err).message };
    }
    const { version } = this.core.db.prepare('SELECT sqlite_version() AS version').get() as {
      version: string;
    };
    return { dataDir: this.core.options.dataDir, secretStore, sqliteVersion: version };
  }

  appInfo(): AppInfo {
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

  listServers(): Server[] {
    return this.core.servers.list();
  }
  getServer(ref: string): Server {
    return this.core.servers.get(ref);
  }
  createServer(input: unknown): Server {
    return this.core.servers.create(input);
  }
  updateServer(ref: string, input: unknown): Server {
    return this.core.servers.update(ref, input);
  }
  /** Drops pooled connections to a server, so the next use connects (and checks its host key) afresh. */
  disconnectServer(ref: string): void {
    this.core.servers.disconnect(ref);
  }
  removeServer(ref: string): void {
    this.core.servers.remove(ref);
  }
  importServers(request: unknown): ImportPlan {
    return this.core.imports.run(request);
  }
  testServer(ref: string): Promise<ServerTestResult> {
    return this.core.servers.test(ref);
  }
  trustHostKey(ref: string, fingerprint?: string): Promise<ServerTestResult> {
    return this.core.servers.trustHostKey(ref, fingerprint);
  }

  // ---- jobs ---------------------------------------------------------------------------------------------

  listJobs(): Job[] {
    return this.core.jobs.list();
  }
  getJob(ref: string): Job {
    return this.core.jobs.get(ref);
  }
  createJob(input: unknown): Job {
    return this.core.jobs.create(input);
  }
  updateJob(ref: string, input: unknown): Job {
    return this.core.jobs.update(ref, input);
  }
  removeJob(ref: string): { unlinkedFrom: string[] } {
    return this.core.jobs.remove(ref);
  }

  // ---- runs ---------------------------------------------------------------------------------------------

  startRun(request: unknown): Run {
    return this.core.runs.start(request);
  }
  waitForRun(runId: string): Promise<Run> {
    return this.core.runs.wait(runId);
  }
  waitForChain(runId: string): Promise<Run[]> {
    return this.core.runs.waitForChain(runId);
  }
  cancelRun(runId: string): boolean {
    return this.core.runs.cancel(runId);
  }
  cancelExecution(executionId: string): boolean {
    return this.core.runs.cancelExecution(executionId);
  }
  rerun(ref: string, options?: unknown): Run {
    return this.core.runs.rerun(ref, options);
  }
  getRunOverview(ref: string): RunOverview {
    return this.core.runs.overview(ref);
  }
  followOtherProcesses(intervalMs?: number): () => void {
    return this.core.followOtherProcesses(intervalMs);
  }
  activeRunIds(): string[] {
    return this.core.runs.activeRunIds();
  }
  attach(ref: string): Promise<Execution> {
    return this.core.runs.attach(ref);
  }
  reattachDetached(): string[] {
    return this.core.runs.reattachDetached(this.core.history.detachedIds());
  }

  // ---- history ------------------------------------------------------------------------------------------

  getRun(runId: string): Run {
    return this.core.history.run(runId);
  }
  queryHistory(query: unknown): HistoryPage {
    return this.core.history.query(query);
  }
  getExecution(ref: string): Execution {
    return this.core.history.execution(ref);
  }
  readLog(executionId: string, afterSeq = -1, limit?: number): LogChunk[] {
    return this.core.history.readLog(executionId, afterSeq, limit);
  }

  // ---- variables ----------------------------------------------------------------------------------------

  listVariables(): Variable[] {
    return this.core.variables.list();
  }
  getVariableValue(key: string): unknown {
    return this.core.variables.value(key);
  }
  setVariable(input: unknown, updatedBy = 'user'): Variable {
    return this.core.variables.set(input, updatedBy);
  }
  removeVariable(key: string): void {
    this.core.variables.remove(key);
  }

  // ---- schedules ----------------------------------------------------------------------------------------

  listSchedules(): Schedule[] {
    return this.core.schedules.list();
  }
  getSchedule(ref: string): Schedule {
    return this.core.schedules.get(ref);
  }
  createSchedule(input: unknown): Schedule {
    return this.core.schedules.create(input);
  }
  removeSchedule(ref: string): void {
    this.core.schedules.remove(ref);
  }
  pauseSchedule(ref: string): Schedule {
    return this.core.schedules.setEnabled(ref, false);
  }
  resumeSchedule(ref: string): Schedule {
    return this.core.schedules.setEnabled(ref, true);
  }
  listScheduleFires(ref: string): ScheduleFire[] {
    return this.core.schedules.fires(ref);
  }
  startScheduler(): SchedulerControl {
    return this.core.startScheduler();
  }

  async startWorker(options: WorkerStartOptions): Promise<WorkerControl> {
    const [{ TeamWorker }, { machineName }, { CroniumError }] = await Promise.all([
      import('../team/worker.ts'),
      import('../team/reaper.ts'),
      import('../core/errors.ts'),
    ]);
    const { team, runs, executor } = this.core;
    if (!team.enabled)
      throw new CroniumError(
        'invalid_input',
        'A worker needs the team’s PostgreSQL: set CRONIUM_QUEUE_URL=postgres://… (see the README, team mode).',
      );
    const worker = new TeamWorker(
      { team, runs, executor },
      { ...options, name: options.name ?? machineName(), concurrency: options.concurrency ?? 4 },
    );
    await worker.start();
    return worker;
  }

  // ---- tools -------------------------------------------------------------------------------------------

  listTools(): ToolCredential[] {
    return this.core.tools.list();
  }
  createTool(input: unknown): ToolCredential {
    return this.core.tools.create(input);
  }
  removeTool(ref: string): void {
    this.core.tools.remove(ref);
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
