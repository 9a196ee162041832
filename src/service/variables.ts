/** Shared variables: JSON values scripts read and write through the helpers, secret ones sealed at rest. */
import { parseInput, variableInputSchema } from '../contract.ts';
import type { Variable } from '../core/domain.ts';
import { CroniumError, invalidInput } from '../core/errors.ts';
import type { VariableAccess } from '../runtime/executionRegistry.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { Sql } from '../store/sql.ts';
import type { VariableRecord, VariableRepo } from '../store/variableRepo.ts';

export interface VariableServiceDeps {
  db: Sql;
  repo: VariableRepo;
  secrets: SecretStore;
}

export class VariableService {
  private readonly deps: VariableServiceDeps;

  constructor(deps: VariableServiceDeps) {
    this.deps = deps;
  }

  /** Every variable, secret values replaced by null (this list goes to every client). */
  async list(): Promise<Variable[]> {
    return (await this.deps.repo.list()).map((v) => ({
      key: v.key,
      value: v.secret ? null : (JSON.parse(v.value) as unknown),
      secret: v.secret,
      updatedAt: v.updatedAt,
      updatedBy: v.updatedBy,
    }));
  }

  /**
   * The value (secret values decrypted: for the local user, never for the renderer).
   * @throws CroniumError not_found.
   */
  async value(key: string): Promise<unknown> {
    const v = await this.deps.repo.get(key);
    if (!v) throw new CroniumError('not_found', `No variable "${key}".`);
    return this.decode(v);
  }

  /**
   * Sets a variable from a client's input; `updatedBy` says who ("user", or a job's name from a helper).
   * @throws CroniumError invalid_input.
   */
  async set(input: unknown, updatedBy = 'user'): Promise<Variable> {
    const data = parseInput(variableInputSchema, input);
    if (data.value === undefined) throw invalidInput({ value: 'a value is required' });
    await this.write(this.deps.repo, data.key, data.value, data.secret, updatedBy);
    return (await this.list()).find((v) => v.key === data.key)!;
  }

  /** @throws CroniumError not_found. */
  async remove(key: string): Promise<void> {
    if (!(await this.deps.repo.remove(key))) throw new CroniumError('not_found', `No variable "${key}".`);
  }

  /** The values of every secret variable this process can open (to mask them in a run's output). */
  async secretValues(): Promise<unknown[]> {
    const values: unknown[] = [];
    for (const v of await this.deps.repo.list()) {
      if (!v.secret) continue;
      try {
        values.push(await this.decode(v));
      } catch {
        // A value this process cannot open cannot reach a script either (the helpers fail on it).
      }
    }
    return values;
  }

  /** The shared variables as the runtime helpers see them: secret values decrypted, secrecy kept on set. */
  access(): VariableAccess {
    const { repo } = this.deps;
    const secretOf = async (key: string) => (await repo.get(key))?.secret ?? false;
    return {
      get: async (key) => {
        const v = await repo.get(key);
        return v ? { value: await this.decode(v) } : null;
      },
      set: async (key, value, updatedBy) =>
        this.write(repo, key, value ?? null, await secretOf(key), updatedBy),
      remove: (key) => repo.remove(key),
      all: async () => {
        const all: { key: string; value: unknown; secret: boolean }[] = [];
        for (const v of await repo.list())
          all.push({ key: v.key, value: await this.decode(v), secret: v.secret });
        return all;
      },
      isSecret: secretOf,
      // One atomic read-change-write in the store (VariableRepo.update says how it locks on each engine).
      update: async (key, change, updatedBy) => {
        // A secret one needs the data key, which is found through the store: find it before the
        // transaction, whose statements would otherwise wait on a lookup that waits on them.
        const peek = await repo.get(key);
        if (peek?.secret) await this.decode(peek);
        let next: unknown;
        await repo.update(
          key,
          async (current) => {
            next = change(current ? await this.decode(current) : undefined) ?? null;
            const secret = current?.secret ?? false;
            const json = JSON.stringify(next);
            return { value: secret ? await this.deps.secrets.encrypt(json) : json, secret };
          },
          updatedBy,
        );
        return next;
      },
    };
  }

  private async decode(v: VariableRecord): Promise<unknown> {
    return JSON.parse(v.secret ? await this.deps.secrets.decrypt(v.value) : v.value) as unknown;
  }

  private async write(
    repo: VariableRepo,
    key: string,
    value: unknown,
    secret: boolean,
    updatedBy: string,
  ): Promise<void> {
    const json = JSON.stringify(value);
    await repo.set(key, secret ? await this.deps.secrets.encrypt(json) : json, secret, updatedBy);
  }
}
