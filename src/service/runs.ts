/** Starting, waiting for and cancelling runs: a job on one or many servers. */
import { parseInput, runRequestSchema } from '../contract.ts';
import type { Run } from '../core/domain.ts';
import { invalidInput } from '../core/errors.ts';
import type { RunManager } from '../exec/runManager.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { ServerRecord } from '../store/serverRepo.ts';
import type { JobService } from './jobs.ts';
import type { ServerService } from './servers.ts';
import type { VariableService } from './variables.ts';

/** A run target naming a tag: `tag:NAME` (RunRequest.serverIds; schedules store them as such). */
export const TAG_PREFIX = 'tag:';
const TAG_TARGET = /^tag:(.+)$/s;

export interface RunServiceDeps {
  manager: RunManager;
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
   * Targets may be `tag:NAME` entries, expanded here (so schedules get them too): see targets().
   * @throws CroniumError not_found for an unknown job or server, invalid_input for a bad request, a tag no
   * server has, or a server listed twice.
   */
  start(request: unknown): Run {
    const { jobs, secrets } = this.deps;
    const req = parseInput(runRequestSchema, request);
    const job = jobs.record(req.jobId);
    const servers = this.targets(req.serverIds);
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
      servers: servers.map((s) => ({ id: s.id, name: s.name, host: s.host })),
      secrets: this.runSecrets(servers),
      input: req.input === undefined ? job.defaultInput : req.input,
      trigger: req.trigger,
      concurrency: req.concurrency,
      helperMode: req.helperMode ?? job.helperMode,
    });
  }

  /**
   * The servers a run's targets name, in order: each entry a server (id or name) or `tag:NAME`, every
   * server with that tag (by name). A server reached through a tag and also named, or through two tags,
   * runs once; one named twice is refused.
   * @throws CroniumError not_found for an unknown server, invalid_input for a tag no server has or a
   * server named twice.
   */
  private targets(refs: string[]): ServerRecord[] {
    const { servers: serverService } = this.deps;
    const chosen: ServerRecord[] = [];
    const named = new Set<string>();
    for (const ref of refs) {
      const tag = TAG_TARGET.exec(ref)?.[1]?.trim();
      if (ref.startsWith(TAG_PREFIX) && !tag) throw invalidInput({ serverIds: `"${ref}" names no tag` });
      const found = tag ? serverService.recordsTagged(tag) : [serverService.record(ref)];
      if (tag && !found.length)
        throw invalidInput({
          serverIds: `no server is tagged "${tag}"${serverService.knownTags().length ? ` (tags in use: ${serverService.knownTags().join(', ')})` : ''}`,
        });
      for (const server of found) {
        if (!tag) {
          if (named.has(server.id)) throw invalidInput({ serverIds: `${server.name} is listed twice` });
          named.add(server.id);
        }
        if (!chosen.some((c) => c.id === server.id)) chosen.push(server);
      }
    }
    return chosen;
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
