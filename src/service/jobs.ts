/** Saved jobs: a script, its language, environment, default servers and helper mode. */
import { jobInputSchema, parseInput } from '../contract.ts';
import type { Job } from '../core/domain.ts';
import { invalidInput } from '../core/errors.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { Database } from '../store/database.ts';
import {
  publicJob,
  type JobRecord,
  type JobRepo,
  type JobWrite,
  type StoredEnvVar,
} from '../store/jobRepo.ts';
import type { ServerRecord } from '../store/serverRepo.ts';
import { findRef, resolveRef, writeUniqueName, type RefSource } from './refs.ts';

export interface JobServiceDeps {
  db: Database;
  repo: JobRepo;
  secrets: SecretStore;
  /** How a job's default servers are named (see ServerService.refs). */
  serverRefs: RefSource<ServerRecord>;
}

export class JobService {
  private readonly deps: JobServiceDeps;
  private readonly refs: RefSource<JobRecord> & { byName(name: string): JobRecord | null };

  constructor(deps: JobServiceDeps) {
    this.deps = deps;
    this.refs = { noun: 'job', byId: (id) => deps.repo.get(id), byName: (name) => deps.repo.getByName(name) };
  }

  list(): Job[] {
    return this.deps.repo.list().map(publicJob);
  }

  /**
   * The stored record a reference (id or name) names, secret env values still sealed.
   * @throws CroniumError not_found.
   */
  record(ref: string): JobRecord {
    return resolveRef(ref, this.refs);
  }

  /** The stored record with this id, or null (it may have been removed since). */
  find(id: string): JobRecord | null {
    return this.deps.repo.get(id);
  }

  get(ref: string): Job {
    return publicJob(this.record(ref));
  }

  create(input: unknown): Job {
    const data = this.toWrite(input, null);
    return publicJob(
      writeUniqueName(this.deps.db, this.refs, data.name, null, () => this.deps.repo.insert(data)),
    );
  }

  update(ref: string, input: unknown): Job {
    const existing = this.record(ref);
    const data = this.toWrite(input, existing);
    return publicJob(
      writeUniqueName(this.deps.db, this.refs, data.name, existing.id, () =>
        this.deps.repo.update(existing.id, data),
      ),
    );
  }

  remove(ref: string): void {
    this.deps.repo.remove(this.record(ref).id);
  }

  /**
   * Validates a job's input and turns it into the row to write: secret env values sealed (null keeps the
   * stored one), default servers resolved to ids.
   * @throws CroniumError invalid_input with a message per field.
   */
  private toWrite(input: unknown, existing: JobRecord | null): JobWrite {
    const data = parseInput(jobInputSchema, input);
    const fields: Record<string, string> = {};
    const seen = new Set<string>();
    const env: StoredEnvVar[] = [];
    data.env.forEach((entry, i) => {
      if (seen.has(entry.key)) fields[`env.${i}.key`] = `${entry.key} is set twice`;
      seen.add(entry.key);
      if (entry.value === null) {
        // The client never saw a secret's value: null means "keep what is stored".
        const kept = existing?.env.find((e) => e.key === entry.key && e.secret);
        if (!kept || !entry.secret) fields[`env.${i}.value`] = `a value for ${entry.key} is required`;
        else env.push(kept);
        return;
      }
      env.push({
        key: entry.key,
        secret: entry.secret,
        value: entry.secret ? this.deps.secrets.encrypt(entry.value) : entry.value,
      });
    });
    const serverIds: string[] = [];
    data.defaultServerIds.forEach((ref, i) => {
      const server = findRef(ref, this.deps.serverRefs);
      if (!server) fields[`defaultServerIds.${i}`] = `no server named "${ref}"`;
      else serverIds.push(server.id);
    });
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
      tags: data.tags,
    };
  }
}
