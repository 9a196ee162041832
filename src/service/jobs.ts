/** Saved jobs: a script, its language, environment, default servers and helper mode. */
import { jobInputSchema, parseInput } from '../contract.ts';
import { findChainCycle } from '../core/chains.ts';
import type { ChainLink, Job } from '../core/domain.ts';
import { CroniumError, invalidInput } from '../core/errors.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import {
  publicJob,
  type JobRecord,
  JobRepo,
  type JobWrite,
  type StoredEnvVar,
  type StoredWebhook,
} from '../store/jobRepo.ts';
import type { ServerRecord } from '../store/serverRepo.ts';
import type { Sql } from '../store/sql.ts';
import { findRef, resolveRef, writeUniqueName, type RefSource } from './refs.ts';

export interface JobServiceDeps {
  db: Sql;
  repo: JobRepo;
  secrets: SecretStore;
  /** How a job's default servers are named (see ServerService.refs). */
  serverRefs: RefSource<ServerRecord>;
}

export class JobService {
  private readonly deps: JobServiceDeps;
  private readonly refs: RefSource<JobRecord> & { byName(name: string): Promise<JobRecord | null> };

  constructor(deps: JobServiceDeps) {
    this.deps = deps;
    this.refs = { noun: 'job', byId: (id) => deps.repo.get(id), byName: (name) => deps.repo.getByName(name) };
  }

  async list(): Promise<Job[]> {
    return (await this.deps.repo.list()).map(publicJob);
  }

  /**
   * The stored record a reference (id or name) names, secret env values still sealed.
   * @throws CroniumError not_found.
   */
  record(ref: string): Promise<JobRecord> {
    return resolveRef(ref, this.refs);
  }

  /** The stored record of a job by id, or null when it is gone. */
  find(id: string): Promise<JobRecord | null> {
    return this.deps.repo.get(id);
  }

  async get(ref: string): Promise<Job> {
    return publicJob(await this.record(ref));
  }

  async create(input: unknown): Promise<Job> {
    const data = await this.toWrite(input, null);
    return publicJob(
      await writeUniqueName(
        this.deps.db,
        'job',
        (tx) => new JobRepo(tx),
        data.name,
        null,
        (repo) => repo.insert(data),
      ),
    );
  }

  /**
   * Changes a job; fields of the chain and notices left out are kept.
   * @throws CroniumError invalid_input (a message per field; `chain` names a loop the links would make).
   */
  async update(ref: string, input: unknown): Promise<Job> {
    const existing = await this.record(ref);
    const data = await this.toWrite(input, existing);
    return publicJob(
      await writeUniqueName(
        this.deps.db,
        'job',
        (tx) => new JobRepo(tx),
        data.name,
        existing.id,
        async (repo) => {
          // Checked inside the write transaction, against the links as stored now.
          await this.refuseLoop(repo, existing.id, data.name, data.chain);
          return repo.update(existing.id, data);
        },
      ),
    );
  }

  /**
   * Removes a job, and with it every other job's links to it (in the same transaction): a link to a job
   * that is gone could never run. Its history is kept.
   * @returns the jobs whose links were removed, by name (what the CLI and the app tell the user).
   */
  async remove(ref: string): Promise<{ unlinkedFrom: string[] }> {
    const id = (await this.record(ref)).id;
    return this.deps.db.transaction(async (tx) => {
      const repo = new JobRepo(tx);
      const unlinkedFrom: string[] = [];
      for (const other of await repo.list()) {
        if (other.id === id || !other.chain.some((l) => l.jobId === id)) continue;
        await repo.setChain(
          other.id,
          other.chain.filter((l) => l.jobId !== id),
        );
        unlinkedFrom.push(other.name);
      }
      await repo.remove(id);
      return { unlinkedFrom };
    });
  }

  /** The jobs with a link to this one, by name. */
  async linkedFrom(ref: string): Promise<string[]> {
    const id = (await this.record(ref)).id;
    return (await this.deps.repo.list())
      .filter((j) => j.chain.some((l) => l.jobId === id))
      .map((j) => j.name);
  }

  /**
   * Refuses links that would close a loop once job `id` has them (a job may not, through any chain of
   * links, start itself again: that would run for ever).
   * @throws CroniumError invalid_input `{ chain: 'these links make a loop: a → b → a' }`.
   */
  private async refuseLoop(repo: JobRepo, id: string, name: string, chain: ChainLink[]): Promise<void> {
    const jobs = (await repo.list()).map((j) => (j.id === id ? { ...j, name, chain } : j));
    const found = findChainCycle(jobs);
    // Told from the job being saved: "c → a → b → c" when c's new link closes it.
    const at = found ? found.indexOf(name) : -1;
    const loop = found && at > 0 ? [...found.slice(at, -1), ...found.slice(0, at), name] : found;
    if (loop)
      throw new CroniumError('invalid_input', `These chain links make a loop: ${loop.join(' → ')}.`, {
        fields: { chain: `these links make a loop: ${loop.join(' → ')}` },
      });
  }

  /**
   * Validates a job's input and turns it into the row to write: secret env values sealed (null keeps the
   * stored one), default servers resolved to ids.
   * @throws CroniumError invalid_input with a message per field.
   */
  private async toWrite(input: unknown, existing: JobRecord | null): Promise<JobWrite> {
    const data = parseInput(jobInputSchema, input);
    const fields: Record<string, string> = {};
    const seen = new Set<string>();
    const env: StoredEnvVar[] = [];
    for (const [i, entry] of data.env.entries()) {
      if (seen.has(entry.key)) fields[`env.${i}.key`] = `${entry.key} is set twice`;
      seen.add(entry.key);
      if (entry.value === null) {
        // The client never saw a secret's value: null means "keep what is stored".
        const kept = existing?.env.find((e) => e.key === entry.key && e.secret);
        if (!kept || !entry.secret) fields[`env.${i}.value`] = `a value for ${entry.key} is required`;
        else env.push(kept);
        continue;
      }
      env.push({
        key: entry.key,
        secret: entry.secret,
        value: entry.secret ? await this.deps.secrets.encrypt(entry.value) : entry.value,
      });
    }
    const serverIds: string[] = [];
    for (const [i, ref] of data.defaultServerIds.entries()) {
      const server = await findRef(ref, this.deps.serverRefs);
      if (!server) fields[`defaultServerIds.${i}`] = `no server named "${ref}"`;
      else serverIds.push(server.id);
    }
    const chain: ChainLink[] = [];
    for (const [i, link] of (data.chain ?? existing?.chain ?? []).entries()) {
      const target = await findRef(link.jobId, this.refs);
      if (!target) fields[`chain.${i}.jobId`] = `no job named "${link.jobId}"`;
      else if (target.id === existing?.id) fields[`chain.${i}.jobId`] = `a job cannot start itself`;
      else if (chain.some((l) => l.on === link.on && l.jobId === target.id))
        fields[`chain.${i}.jobId`] = `${target.name} is linked twice on ${link.on}`;
      else chain.push({ on: link.on, jobId: target.id, servers: link.servers ?? 'same' });
    }
    const webhook = await this.webhookFrom(data.webhook, existing, fields);
    // The API tunnel lives and dies with the connection: a script that outlives it reports back in files.
    if (data.keepRunning && data.helperMode === 'api')
      fields.helperMode = 'a keep-running job uses bundled helpers (choose auto or bundled)';
    if (Object.keys(fields).length) throw invalidInput(fields);
    return {
      name: data.name,
      language: data.language,
      script: data.script,
      timeoutSec: data.timeoutSec,
      env,
      defaultInput: data.defaultInput ?? null,
      defaultServerIds: serverIds,
      helperMode: data.helperMode,
      keepRunning: data.keepRunning,
      defaultVia: data.defaultVia ?? existing?.defaultVia ?? 'direct',
      tags: data.tags,
      chain,
      desktopNotify: data.desktopNotify ?? existing?.desktopNotify ?? 'never',
      webhook,
      params: data.params,
    };
  }

  /**
   * The webhook to store: the URL sealed (it may carry a token), its origin kept in clear to show.
   * Left out: kept; null: removed; a URL left out or null keeps the stored URL (the client never saw it).
   */
  private async webhookFrom(
    input: { url?: string | null; notify: 'failure' | 'always' } | null | undefined,
    existing: JobRecord | null,
    fields: Record<string, string>,
  ): Promise<StoredWebhook | null> {
    if (input === undefined) return existing?.webhook ?? null;
    if (input === null) return null;
    if (input.url === undefined || input.url === null) {
      if (!existing?.webhook) {
        fields['webhook.url'] = 'a webhook URL is required';
        return null;
      }
      return { ...existing.webhook, notify: input.notify };
    }
    return {
      url: await this.deps.secrets.encrypt(input.url),
      notify: input.notify,
      origin: new URL(input.url).origin,
    };
  }

  /** A job's webhook URL in clear, for sending; null when it has none. */
  async webhookUrl(record: JobRecord): Promise<string | null> {
    return record.webhook ? this.deps.secrets.decrypt(record.webhook.url) : null;
  }
}
