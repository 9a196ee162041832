/** Starting, waiting for and cancelling runs: a job on one or many servers. */
import { parseInput, rerunOptionsSchema, runRequestSchema } from '../contract.ts';
import {
  type Execution,
  type ExecutionStatus,
  FINAL_EXECUTION_STATUSES,
  NOT_SUCCEEDED_STATUSES,
  type Run,
  type RunOverview,
} from '../core/domain.ts';
import { CroniumError, invalidInput } from '../core/errors.ts';
import type { EventHub } from '../core/eventHub.ts';
import { log } from '../core/logger.ts';
import { outputGroups } from '../core/outputGroups.ts';
import type { RunManager, RunSpec } from '../exec/runManager.ts';
import { secretForms } from '../exec/secretMasker.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';
import type { Team } from '../team/team.ts';
import { viaWorkersRefused } from '../team/teamMode.ts';
import type { ServerRecord } from '../store/serverRepo.ts';
import type { JobService } from './jobs.ts';
import type { WebhookOptions } from './notices.ts';
import { findRef, type RefSource, resolveRef } from './refs.ts';
import { checkParams, mergeParams, orNull, resolveTargets } from './runInputs.ts';
import { followChain } from './runChains.ts';
import { sendRunNotices } from './runNotices.ts';
import type { ServerService } from './servers.ts';
import type { VariableService } from './variables.ts';

export interface RunServiceDeps {
  manager: RunManager;
  /** One execution by id or unique id prefix (HistoryService.execution). */
  execution: (ref: string) => Promise<Execution>;
  jobs: JobService;
  servers: ServerService;
  variables: VariableService;
  secrets: SecretStore;
  history: HistoryRepo;
  hub: EventHub;
  /** How many links deep a chain may go before the next link is skipped (DEFAULT_MAX_CHAIN_DEPTH). */
  maxChainDepth?: number;
  webhook?: WebhookOptions;
  /** Who this process starts runs as (Run.startedBy), re-runs, schedules and chain links included. */
  actor: string;
  /** Team mode: runs sent to workers (src/team/); absent, every run is direct. */
  team?: Team;
}

const FINAL: ReadonlySet<ExecutionStatus> = new Set(FINAL_EXECUTION_STATUSES);
/** Statuses a re-run of "the hosts that did not succeed" repeats (every final status but success). */
const NOT_SUCCEEDED: ReadonlySet<ExecutionStatus> = new Set(NOT_SUCCEEDED_STATUSES);

export class RunService {
  private readonly deps: RunServiceDeps;
  private readonly runs: RefSource<Run>;

  constructor(deps: RunServiceDeps) {
    this.deps = deps;
    this.runs = {
      noun: 'run',
      byId: (id) => deps.history.getRun(id),
      idsByPrefix: (prefix) => deps.history.findRunIds(prefix),
    };
  }

  /**
   * A run by id or a unique prefix of it.
   * @throws CroniumError not_found, or invalid_input for a prefix of several runs.
   */
  run(ref: string): Promise<Run> {
    return resolveRef(ref, this.runs);
  }

  /**
   * The run `ref` names, or the run of the execution it names (what `cronium history` lists).
   * @throws CroniumError not_found naming `ref`, or invalid_input for an ambiguous prefix.
   */
  private async runOrExecutionRun(ref: string): Promise<Run> {
    const run = await findRef(ref, this.runs);
    if (run) return run;
    const execution = await findRef(ref, {
      noun: 'execution',
      byId: (id) => this.deps.history.getExecution(id),
      idsByPrefix: (prefix) => this.deps.history.findExecutionIds(prefix),
    });
    if (!execution) throw new CroniumError('not_found', `No run or execution ${ref}.`);
    return this.run(execution.runId);
  }

  /**
   * Starts a run and returns at once; progress arrives as events, and wait() resolves at the end. Job and
   * servers are resolved here, once, and what they are travels with the run.
   * Targets may be `tag:NAME` entries, expanded here (so schedules get them too): see targets().
   * @throws CroniumError not_found for an unknown job or server, invalid_input for a bad request, a tag no
   * server has, or a server listed twice.
   */
  async start(request: unknown): Promise<Run> {
    const { team } = this.deps;
    // Refused before anything is read: outside team mode the job may not even be in this store.
    if (parseInput(runRequestSchema, request).via === 'workers') {
      if (!team) throw viaWorkersRefused();
      await team.assertEnabled();
    }
    const { spec, via, timeoutSec } = await this.prepare(request);
    if (via === 'workers') {
      // The job's default sent it there (a request that said so was checked above).
      if (!team) throw viaWorkersRefused();
      await team.assertEnabled();
      const run = await this.deps.manager.record(spec);
      await team.dispatch(run, timeoutSec);
      return run;
    }
    return this.deps.manager.start(spec);
  }

  /**
   * What start() runs: the request checked and resolved (job, servers, parameters, secrets) into a run's
   * spec, and where it runs. A worker prepares each execution it takes with it (its run's request, its
   * one server), so job, environment and secrets are read as they are when the execution starts.
   * @throws as start().
   */
  async prepare(request: unknown): Promise<{ spec: RunSpec; via: 'direct' | 'workers'; timeoutSec: number }> {
    const { jobs, secrets } = this.deps;
    const req = parseInput(runRequestSchema, request);
    const job = await jobs.record(req.jobId);
    const servers = await resolveTargets(this.deps.servers, req.serverIds);
    let chainDepth = 0;
    if (req.parentExecutionId !== undefined) {
      const parent = await this.deps.history.getExecution(req.parentExecutionId);
      if (!parent)
        throw new CroniumError('not_found', `No execution ${req.parentExecutionId}.`, {
          fields: { parentExecutionId: 'no such execution' },
        });
      chainDepth = ((await this.deps.history.getRun(parent.runId))?.chainDepth ?? 0) + 1;
    }
    const input = req.input === undefined ? job.defaultInput : req.input;
    const params = checkParams(job.params, req.params);
    const repeated = req.retryOf === undefined ? null : await this.run(req.retryOf);
    // A script that outlives its connection reports back through files (bundled mode): see JobService.
    if (job.keepRunning && req.helperMode === 'api')
      throw invalidInput({ helperMode: 'a keep-running job uses bundled helpers (choose auto or bundled)' });
    const spec: RunSpec = {
      job: {
        id: job.id,
        name: job.name,
        language: job.language,
        script: job.script,
        timeoutSec: job.timeoutSec,
        keepRunning: job.keepRunning,
      },
      env: await Promise.all(
        job.env.map(async (e) => ({
          key: e.key,
          secret: e.secret,
          value: e.secret ? await secrets.decrypt(e.value) : e.value,
        })),
      ),
      servers: servers.map((s) => ({ id: s.id, name: s.name, host: s.host, helperMode: s.helperMode })),
      secrets: await this.runSecrets(servers),
      input,
      params,
      scriptInput: mergeParams(input, params),
      trigger: repeated ? 'retry' : req.trigger,
      scheduleId: req.scheduleId ?? null,
      concurrency: req.concurrency,
      helperMode: job.keepRunning ? 'bundled' : (req.helperMode ?? job.helperMode),
      retryOf: repeated?.id ?? null,
      attempt: repeated ? repeated.attempt + 1 : 1,
      startedBy: this.deps.actor,
      parentExecutionId: req.parentExecutionId ?? null,
      chainDepth,
      afterExecution: (e) => followChain(this.deps, (r) => this.start(r), e, chainDepth),
      afterRun: (run) => sendRunNotices(this.deps, run),
    };
    return { spec, via: req.via ?? job.defaultVia, timeoutSec: job.timeoutSec };
  }

  /**
   * Runs a run again: its job, input, parameters, helper mode, concurrency and servers (all, the ones
   * that did not succeed with `failed`, or those named in `serverIds`), as attempt n+1 with trigger retry.
   * @throws CroniumError not_found for an unknown run, or a job or server removed since (by its name);
   * invalid_input when nothing is left to run.
   */
  async rerun(ref: string, options: unknown = {}): Promise<Run> {
    const opts = parseInput(rerunOptionsSchema, options ?? {});
    const run = await this.runOrExecutionRun(ref);
    const executions = await this.deps.history.runExecutions(run.id);
    const job = await orNull(() => this.deps.jobs.record(run.jobId));
    if (!job)
      throw new CroniumError(
        'not_found',
        `The job "${run.jobName}" was removed; its history is kept, but it cannot run again.`,
      );
    let targets = executions;
    if (opts.failed) {
      targets = targets.filter((e) => NOT_SUCCEEDED.has(e.status));
      if (targets.length === 0)
        throw new CroniumError(
          'invalid_input',
          executions.some((e) => e.status === 'succeeded')
            ? `Every host of run ${run.id.slice(0, 8)} succeeded: nothing failed to run again.`
            : `Run ${run.id.slice(0, 8)} has no host that ended without success yet.`,
        );
    }
    if (opts.serverIds) {
      const wanted = opts.serverIds;
      const unknown = wanted.filter((w) => !executions.some((e) => e.serverId === w || e.serverName === w));
      if (unknown.length) throw invalidInput({ serverIds: `${unknown[0]} is not one of this run's servers` });
      targets = targets.filter((e) => wanted.includes(e.serverId) || wanted.includes(e.serverName));
    }
    const servers: string[] = [];
    for (const e of targets) servers.push(await this.serverOf(e));
    return this.start({
      jobId: job.id,
      serverIds: servers,
      input: run.input ?? undefined,
      params: run.params,
      helperMode: run.helperMode,
      concurrency: run.concurrency,
      trigger: 'retry',
      retryOf: run.id,
    });
  }

  /** The server an execution ran on, by id; a server removed since is named by the name it had. */
  private async serverOf(e: Execution): Promise<string> {
    const server = await orNull(() => this.deps.servers.record(e.serverId));
    if (!server)
      throw new CroniumError(
        'not_found',
        `The server "${e.serverName}" was removed since this run; re-run without it (--failed, or pick servers).`,
      );
    return server.id;
  }

  /** A run, each host's execution and the groups of identical stdout. @throws CroniumError not_found. */
  async overview(ref: string): Promise<RunOverview> {
    const run = await this.runOrExecutionRun(ref);
    const executions = await this.deps.history.runExecutions(run.id);
    return { run, executions, groups: outputGroups(executions) };
  }

  /**
   * Stops one execution: here when this process runs it, else through the database for the process that
   * owns its run (it looks every 200 ms). False when the execution has already ended.
   * @throws CroniumError not_found.
   */
  async cancelExecution(executionId: string): Promise<boolean> {
    const { history, manager } = this.deps;
    const execution = await history.getExecution(executionId);
    if (!execution) throw new CroniumError('not_found', `No execution ${executionId}.`);
    if (FINAL.has(execution.status)) return false;
    if (manager.cancelExecution(execution.runId, execution.id)) return true;
    if (await this.isWorkerRun(execution.runId)) {
      void this.cancelOnWorkers(execution.runId, execution.id);
      return true;
    }
    return this.askOwner(execution.runId, execution.id);
  }

  /** Leaves a cancel request for the live process that owns a running run; false when there is none. */
  private async askOwner(runId: string, executionId: string | null): Promise<boolean> {
    const owner = await this.deps.history.runOwner(runId);
    if (!owner || owner.status !== 'running' || owner.pid === process.pid || owner.pid === null) return false;
    await this.deps.history.requestCancel(runId, executionId);
    return true;
  }

  /**
   * Resolves when a run and the runs its chain started (down the chain) have finished.
   * @throws CroniumError not_found.
   */
  async waitForChain(runId: string): Promise<Run[]> {
    // A worker run's chained runs start on the worker (direct there): the run itself is what is followed.
    if (await this.isWorkerRun(runId)) {
      if ((await this.deps.history.getRun(runId))?.status === 'running') await this.wait(runId);
      return [];
    }
    return this.deps.manager.waitForChain(runId);
  }

  /**
   * Sends a finished run's notices (desktop, webhook) as its job asks; true when it recorded them on the
   * run. The worker that ends a worker run calls it.
   */
  sendNotices(run: Run): Promise<boolean> {
    return sendRunNotices(this.deps, run);
  }

  /** Whether a run's executions were sent to workers (team mode). */
  private async isWorkerRun(runId: string): Promise<boolean> {
    return (await this.deps.team?.deps.repo.isViaWorkers(runId)) ?? false;
  }

  /** Cancels (part of) a worker run through the store and the queue's channel (see Team.cancel). */
  private async cancelOnWorkers(runId: string, executionId: string | null): Promise<void> {
    try {
      await this.deps.team!.cancel(runId, executionId);
    } catch (err) {
      log().error({ err }, `cancelling run ${runId} on the workers failed`);
    }
  }

  /**
   * Follows a detached execution again (`ref`: its id or a unique prefix): fetches the output it missed,
   * follows it to its end, and records its exit code, output and variables; resolves with it as written
   * (`detached` again when its host cannot be reached). Its output arrives as log events meanwhile, and
   * cancelRun(its runId) stops the script.
   * @throws CroniumError not_found; invalid_input for an ambiguous prefix; conflict when it is not
   * detached (it has ended, or another process follows it).
   */
  async attach(ref: string): Promise<Execution> {
    return (await this.claim(ref)).followed;
  }

  /** Claims a detached execution for this process; `followed` resolves when the follow ends. */
  private async claim(ref: string): Promise<{ followed: Promise<Execution> }> {
    const execution = await this.deps.execution(ref);
    return this.deps.manager.attach(execution.id, await this.executionSecrets(execution));
  }

  /**
   * Reattaches every detached execution in the background (what the desktop app on start and the daemon
   * call); returns the ids it started following. One that another process takes first is skipped.
   */
  async reattachDetached(detachedIds: string[]): Promise<string[]> {
    const started: string[] = [];
    for (const id of detachedIds) {
      try {
        const { followed } = await this.claim(id);
        // Followed in the background: its end (or failure) is written on the execution.
        followed.catch((err: unknown) => log().warn({ err }, `reattaching ${id} failed`));
        started.push(id);
      } catch (err) {
        log().debug({ err }, `not reattaching ${id}`);
      }
    }
    return started;
  }

  /** What an execution's log must not show, as for its start (the job's secrets as they are now). */
  private async executionSecrets(execution: Execution): Promise<string[]> {
    const { jobs, servers: serverService, secrets } = this.deps;
    const values: unknown[] = [];
    const job = await jobs.find(execution.jobId);
    if (job) for (const e of job.env) if (e.secret) values.push(await secrets.decrypt(e.value));
    const server = await serverService.find(execution.serverId);
    return values.concat(await this.runSecrets(server ? [server] : [])).flatMap(secretForms);
  }

  /**
   * Every other secret a run's output must not show: secret variables' values and the servers' passwords
   * and key passphrases (secret env values and the API token are added by the executor).
   */
  private async runSecrets(servers: ServerRecord[]): Promise<unknown[]> {
    const { secrets, variables } = this.deps;
    const values: unknown[] = [];
    for (const s of servers) if (s.secret) values.push(await secrets.decrypt(s.secret));
    return values.concat(await variables.secretValues());
  }

  /**
   * Resolves with the finished run (at once for a run already finished).
   * @throws CroniumError not_found.
   */
  async wait(runId: string): Promise<Run> {
    // A worker run is followed from the store (its events published on this process's hub meanwhile).
    if (!this.deps.manager.activeRunIds.includes(runId) && (await this.isWorkerRun(runId)))
      return this.deps.team!.wait(runId);
    return this.deps.manager.wait(runId);
  }

  /**
   * Asks a run to stop; a run another process owns (the CLI) is asked through the database. False when no
   * such run is going.
   */
  async cancel(runId: string): Promise<boolean> {
    if (this.deps.manager.cancel(runId)) return true;
    if (await this.isWorkerRun(runId)) {
      if ((await this.deps.history.getRun(runId))?.status !== 'running') return false;
      void this.cancelOnWorkers(runId, null);
      return true;
    }
    return this.askOwner(runId, null);
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
