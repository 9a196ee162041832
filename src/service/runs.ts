/** Starting, waiting for and cancelling runs: a job on one or many servers. */
import { parseInput, runRequestSchema } from '../contract.ts';
import { chainEventsOf, DEFAULT_MAX_CHAIN_DEPTH } from '../core/chains.ts';
import type { ChainLink, ChainStep, Execution, Run } from '../core/domain.ts';
import { CroniumError, invalidInput, toErrorValue } from '../core/errors.ts';
import type { EventHub } from '../core/eventHub.ts';
import { log } from '../core/logger.ts';
import { shouldNotify } from '../core/notices.ts';
import type { RunManager } from '../exec/runManager.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';
import type { JobRecord } from '../store/jobRepo.ts';
import type { ServerRecord } from '../store/serverRepo.ts';
import type { JobService } from './jobs.ts';
import { sendWebhook, webhookPayload, type WebhookOptions } from './notices.ts';
import type { ServerService } from './servers.ts';
import type { VariableService } from './variables.ts';

export interface RunServiceDeps {
  manager: RunManager;
  jobs: JobService;
  servers: ServerService;
  variables: VariableService;
  secrets: SecretStore;
  history: HistoryRepo;
  hub: EventHub;
  /** How many links deep a chain may go before the next link is skipped (DEFAULT_MAX_CHAIN_DEPTH). */
  maxChainDepth?: number;
  webhook?: WebhookOptions;
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
    let chainDepth = 0;
    if (req.parentExecutionId !== undefined) {
      const parent = this.deps.history.getExecution(req.parentExecutionId);
      if (!parent)
        throw new CroniumError('not_found', `No execution ${req.parentExecutionId}.`, {
          fields: { parentExecutionId: 'no such execution' },
        });
      chainDepth = (this.deps.history.getRun(parent.runId)?.chainDepth ?? 0) + 1;
    }
    return this.deps.manager.start({
      job: {
        id: job.id,
        name: job.name,
        language: job.language,
        script: job.script,
        timeoutSec: job.timeoutSec,
      },
      env: job.env.map((e) => ({
        key: e.key,
        secret: e.secret,
        value: e.secret ? secrets.decrypt(e.value) : e.value,
      })),
      servers: servers.map((s) => ({ id: s.id, name: s.name, host: s.host, helperMode: s.helperMode })),
      secrets: this.runSecrets(servers),
      input: req.input === undefined ? job.defaultInput : req.input,
      trigger: req.trigger,
      scheduleId: req.scheduleId ?? null,
      concurrency: req.concurrency,
      helperMode: req.helperMode ?? job.helperMode,
      parentExecutionId: req.parentExecutionId ?? null,
      chainDepth,
      afterExecution: (e) => this.followChain(e, chainDepth),
      afterRun: (run) => this.sendNotices(run),
    });
  }

  /**
   * Starts the runs an ended execution's chain links call for, as the job's links are now (an edit made
   * while it ran counts): each on the execution's server (`same`) or the chained job's own default servers
   * (`own`), with the execution's output as input (the chained job's default input when it set none), as
   * trigger `chain` with the execution as parent. A link past the depth limit, or whose job or servers are
   * gone, starts nothing and says why. What each link did is written on the execution.
   * @returns the ids of the runs started.
   */
  private followChain(execution: Execution, depth: number): string[] {
    const job = this.deps.jobs.find(execution.jobId);
    const events = chainEventsOf(execution);
    const links = (job?.chain ?? []).filter((l) => events.includes(l.on));
    if (links.length === 0) return [];
    const limit = this.deps.maxChainDepth ?? DEFAULT_MAX_CHAIN_DEPTH;
    const steps = links.map((link) => this.startLink(link, execution, depth + 1, limit));
    this.deps.history.setExecutionChain(execution.id, steps);
    const updated = this.deps.history.getExecution(execution.id);
    if (updated) this.deps.hub.emit({ type: 'execution', execution: updated });
    return steps.flatMap((s) => (s.runId ? [s.runId] : []));
  }

  private startLink(link: ChainLink, execution: Execution, depth: number, limit: number): ChainStep {
    const next = this.deps.jobs.find(link.jobId);
    const step: ChainStep = {
      on: link.on,
      jobId: link.jobId,
      jobName: next?.name ?? link.jobId,
      servers: link.servers,
      runId: null,
      executionIds: [],
      skipped: null,
    };
    const skip = (why: string) => {
      log().warn(`chain from ${execution.jobName} to ${step.jobName} skipped: ${why}`);
      return { ...step, skipped: why };
    };
    if (!next) return skip('the job was removed');
    if (depth > limit) return skip(`the chain depth limit (${limit}) was reached`);
    const serverIds = link.servers === 'same' ? [execution.serverId] : next.defaultServerIds;
    if (serverIds.length === 0) return skip(`${next.name} has no default servers`);
    try {
      const run = this.start({
        jobId: next.id,
        serverIds,
        input: execution.output === null || execution.output === undefined ? undefined : execution.output,
        trigger: 'chain',
        parentExecutionId: execution.id,
      });
      return { ...step, runId: run.id, executionIds: run.executionIds };
    } catch (err) {
      return skip(toErrorValue(err).message);
    }
  }

  /**
   * Sends a finished run's webhook when its job wants one for this outcome, and records how it went.
   * @returns whether a result was recorded on the run.
   */
  private async sendNotices(run: Run): Promise<boolean> {
    const job: JobRecord | null = this.deps.jobs.find(run.jobId);
    if (!job?.webhook || !shouldNotify(job.webhook.notify, run.status)) return false;
    const url = this.deps.jobs.webhookUrl(job)!;
    const executions = run.executionIds.flatMap((id) => this.deps.history.getExecution(id) ?? []);
    const result = await sendWebhook(url, webhookPayload(run, executions), this.deps.webhook);
    if (!result.ok) log().warn(`the webhook of ${run.jobName} (run ${run.id}) failed: ${result.error}`);
    this.deps.history.setRunNotifications(run.id, [...run.notifications, result]);
    return true;
  }

  /**
   * Resolves when a run and the runs its chain started (down the chain) have finished.
   * @throws CroniumError not_found.
   */
  waitForChain(runId: string): Promise<Run[]> {
    return this.deps.manager.waitForChain(runId);
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
