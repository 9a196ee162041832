/** Shared variables: JSON values scripts read and write through the helpers, secret ones sealed at rest. */
import { parseInput, variableInputSchema } from '../contract.ts';
import type { Variable } from '../core/domain.ts';
import { CroniumError, invalidInput } from '../core/errors.ts';
import type { VariableAccess } from '../runtime/executionRegistry.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { Database } from '../store/database.ts';
import type { VariableRecord, VariableRepo } from '../store/variableRepo.ts';

export interface VariableServiceDeps {
  db: Database;
  repo: VariableRepo;
  secrets: SecretStore;
}

export class VariableService {
  private readonly deps: VariableServiceDeps;

  constructor(deps: VariableServiceDeps) {
    this.deps = deps;
  }

  /** Every variable, secret values replaced by null (this list goes to every client). */
  list(): Variable[] {
    return this.deps.repo.list().map((v) => ({
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
  value(key: string): unknown {
    const v = this.deps.repo.get(key);
    if (!v) throw new CroniumError('not_found', `No variable "${key}".`);
    return this.decode(v);
  }

  /**
   * Sets a variable from a client's input; `updatedBy` says who ("user", or a job's name from a helper).
   * @throws CroniumError invalid_input.
   */
  set(input: unknown, updatedBy = 'user'): Variable {
    const data = parseInput(variableInputSchema, input);
    if (data.value === undefined) throw invalidInput({ value: 'a value is required' });
    this.write(data.key, data.value, data.secret, updatedBy);
    return this.list().find((v) => v.key === data.key)!;
  }

  /** @throws CroniumError not_found. */
  remove(key: string): void {
    if (!this.deps.repo.remove(key)) throw new CroniumError('not_found', `No variable "${key}".`);
  }

  /** The values of every secret variable this process can open (to mask them in a run's output). */
  secretValues(): unknown[] {
    const values: unknown[] = [];
    for (const v of this.deps.repo.list()) {
      if (!v.secret) continue;
      try {
        values.push(this.decode(v));
      } catch {
        // A value this process cannot open cannot reach a script either (the helpers fail on it).
      }
    }
    return values;
  }

  /** The shared variables as the runtime helpers see them: secret values decrypted, secrecy kept on set. */
  access(): VariableAccess {
    const { repo } = this.deps;
    const secretOf = (key: string) => repo.get(key)?.secret ?? false;
    return {
      get: (key) => {
        const v = repo.get(key);
        return v ? { value: this.decode(v) } : null;
      },
      set: (key, value, updatedBy) => this.write(key, value ?? null, secretOf(key), updatedBy),
      remove: (key) => repo.remove(key),
      all: () => repo.list().map((v) => ({ key: v.key, value: this.decode(v), secret: v.secret })),
      isSecret: secretOf,
      // One atomic read-change-write in the store (VariableRepo.update says how it locks on each engine).
      update: async (key, change, updatedBy) => {
        let next: unknown;
        await repo.update(
          key,
          (current) => {
            next = change(current ? this.decode(current) : undefined) ?? null;
            const secret = current?.secret ?? false;
            const json = JSON.stringify(next);
            return { value: secret ? this.deps.secrets.encrypt(json) : json, secret };
          },
          updatedBy,
        );
        return next;
      },
    };
  }

  private decode(v: VariableRecord): unknown {
    return JSON.parse(v.secret ? this.deps.secrets.decrypt(v.value) : v.value) as unknown;
  }

  private write(key: string, value: unknown, secret: boolean, updatedBy: string): void {
    const json = JSON.stringify(value);
    this.deps.repo.set(key, secret ? this.deps.secrets.encrypt(json) : json, secret, updatedBy);
  }
}
