/** Starting, waiting for and cancelling runs: a job on one or many servers. */
import { parseInput, runRequestSchema } from '../contract.ts';
import type { Execution, Run } from '../core/domain.ts';
import { invalidInput } from '../core/errors.ts';
import { log } from '../core/logger.ts';
import { secretForms } from '../exec/secretMasker.ts';
import type { RunManager } from '../exec/runManager.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { ServerRecord } from '../store/serverRepo.ts';
import type { JobService } from './jobs.ts';
import type { ServerService } from './servers.ts';
import type { VariableService } from './variables.ts';

export interface RunServiceDeps {
  manager: RunManager;
  /** One execution by id or unique id prefix (HistoryService.execution). */
  execution: (ref: string) => Execution;
  jobs: JobService;
  servers: ServerService;
  variables: VariableService;
  secrets: SecretStore;
}

export class RunService {
  private readonly deps: RunServiceDeps;

  constructor(deps: RunServiceDeps) {
    this.deps = deps;
  }

  /**
   * Starts a run and returns at once; progress arrives as events, and wait() resolves at the end. Job and
   * servers are resolved here, once, and what they are travels with the run.
   * @throws CroniumError not_found for an unknown job or server, invalid_input for a bad request or a
   * server listed twice.
   */
  start(request: unknown): Run {
    const { jobs, servers: serverService, secrets } = this.deps;
    const req = parseInput(runRequestSchema, request);
    const job = jobs.record(req.jobId);
    const servers = req.serverIds.map((ref) => serverService.record(ref));
    const duplicates = servers.filter((s, i) => servers.findIndex((o) => o.id === s.id) !== i);
    if (duplicates.length) throw invalidInput({ serverIds: `${duplicates[0]!.name} is listed twice` });
    // A script that outlives its connection reports back through files (bundled mode): see JobService.
    if (job.keepRunning && req.helperMode === 'api')
      throw invalidInput({ helperMode: 'a keep-running job uses bundled helpers (choose auto or bundled)' });
    return this.deps.manager.start({
      job: {
        id: job.id,
        name: job.name,
        language: job.language,
        script: job.script,
        timeoutSec: job.timeoutSec,
        keepRunning: job.keepRunning,
      },
      env: job.env.map((e) => ({
        key: e.key,
        secret: e.secret,
        value: e.secret ? secrets.decrypt(e.value) : e.value,
      })),
      servers: servers.map((s) => ({ id: s.id, name: s.name, host: s.host })),
      secrets: this.runSecrets(servers),
      input: req.input === undefined ? job.defaultInput : req.input,
      trigger: req.trigger,
      concurrency: req.concurrency,
      helperMode: job.keepRunning ? 'bundled' : (req.helperMode ?? job.helperMode),
    });
  }

  /**
   * Follows a detached execution again (`ref`: its id or a unique prefix): fetches the output it missed,
   * follows it to its end, and records its exit code, output and variables; resolves with it as written
   * (`detached` again when its host cannot be reached). Its output arrives as log events meanwhile, and
   * cancelRun(its runId) stops the script.
   * @throws CroniumError not_found; invalid_input for an ambiguous prefix; conflict when it is not
   * detached (it has ended, or another process follows it).
   */
  attach(ref: string): Promise<Execution> {
    const execution = this.deps.execution(ref);
    return this.deps.manager.attach(execution.id, this.executionSecrets(execution));
  }

  /**
   * Reattaches every detached execution in the background (what the desktop app on start and the daemon
   * call); returns the ids it started following. One that another process takes first is skipped.
   */
  reattachDetached(detachedIds: string[]): string[] {
    const started: string[] = [];
    for (const id of detachedIds) {
      try {
        this.attach(id).catch((err: unknown) => log().warn({ err }, `reattaching ${id} failed`));
        started.push(id);
      } catch (err) {
        log().debug({ err }, `not reattaching ${id}`);
      }
    }
    return started;
  }

  /** What an execution's log must not show, as for its start (the job's secrets as they are now). */
  private executionSecrets(execution: Execution): string[] {
    const { jobs, servers: serverService, secrets } = this.deps;
    const values: unknown[] = [];
    const job = jobs.find(execution.jobId);
    if (job) for (const e of job.env) if (e.secret) values.push(secrets.decrypt(e.value));
    const server = serverService.find(execution.serverId);
    return values.concat(this.runSecrets(server ? [server] : [])).flatMap(secretForms);
  }

  /**
   * Every other secret a run's output must not show: secret variables' values and the servers' passwords
   * and key passphrases (secret env values and the API token are added by the executor).
   */
  private runSecrets(servers: ServerRecord[]): unknown[] {
    const { secrets, variables } = this.deps;
    const values: unknown[] = servers.filter((s) => s.secret).map((s) => secrets.decrypt(s.secret!));
    return values.concat(variables.secretValues());
  }

  /**
   * Resolves with the finished run (at once for a run already finished).
   * @throws CroniumError not_found.
   */
  wait(runId: string): Promise<Run> {
    return this.deps.manager.wait(runId);
  }

  /** Asks a run to stop; false when no such run is going. */
  cancel(runId: string): boolean {
    return this.deps.manager.cancel(runId);
  }

  /** The ids of the runs this process is running now. */
  activeRunIds(): string[] {
    return this.deps.manager.activeRunIds;
  }

  /** Cancels every run and waits until each has ended. */
  cancelAll(): Promise<void> {
    return this.deps.manager.cancelAll();
  }
}
