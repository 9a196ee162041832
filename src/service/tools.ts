/**
 * Tool credentials (Cronium's tool connections): Slack and Discord incoming webhooks and SMTP servers that
 * scripts' tool actions are sent through. The secret parts are sealed by the secret store; clients only
 * ever see a name, a type and a summary without secrets.
 */
import { randomUUID } from 'node:crypto';

import { parseInput, toolInputSchema } from '../contract.ts';
import type { ToolCredential, ToolType } from '../core/domain.ts';
import { hostPort } from '../core/rules.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { Sql } from '../store/sql.ts';
import { type ToolRecord, ToolRepo } from '../store/toolRepo.ts';
import { toolActionPerformer, type ToolActionPerformer, type ToolCredentials } from '../tools/toolActions.ts';
import { resolveRef, writeUniqueName, type RefSource } from './refs.ts';

export interface ToolServiceDeps {
  db: Sql;
  repo: ToolRepo;
  secrets: SecretStore;
}

const toCredential = (r: ToolRecord): ToolCredential => ({
  id: r.id,
  name: r.name,
  type: r.type,
  summary: r.summary,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export class ToolService {
  private readonly deps: ToolServiceDeps;
  private readonly refs: RefSource<ToolRecord> & { byName(name: string): Promise<ToolRecord | null> };

  constructor(deps: ToolServiceDeps) {
    this.deps = deps;
    this.refs = {
      noun: 'tool',
      byId: (id) => deps.repo.get(id),
      byName: (name) => deps.repo.getByName(name),
    };
  }

  /** Every stored credential, without its secrets (this list goes to every client). */
  async list(): Promise<ToolCredential[]> {
    return (await this.deps.repo.list()).map(toCredential);
  }

  /**
   * Stores a credential from a client's input (see toolInputSchema), its secret parts sealed.
   * @throws CroniumError invalid_input (a bad field, a name in use), secrets_unavailable.
   */
  async create(input: unknown): Promise<ToolCredential> {
    const data = parseInput(toolInputSchema, input);
    const credentials: ToolCredentials =
      data.type === 'email'
        ? {
            type: 'email',
            host: data.host,
            port: data.port,
            secure: data.secure ?? data.port === 465,
            user: data.user,
            password: data.password,
            from: data.from,
          }
        : { type: data.type, webhookUrl: data.webhookUrl };
    const now = Date.now();
    const record: ToolRecord = {
      id: randomUUID(),
      name: data.name,
      type: data.type,
      summary: summaryOf(credentials),
      // Sealed before the write: a store that cannot seal leaves nothing half-written.
      secret: await this.deps.secrets.encrypt(JSON.stringify(credentials)),
      createdAt: now,
      updatedAt: now,
    };
    return writeUniqueName(
      this.deps.db,
      'tool',
      (tx) => new ToolRepo(tx),
      data.name,
      null,
      async (repo) => {
        await repo.insert(record);
        return toCredential(record);
      },
    );
  }

  /** @throws CroniumError not_found. */
  async remove(ref: string): Promise<void> {
    const record = await resolveRef(ref, this.refs);
    await this.deps.repo.remove(record.id);
  }

  /** Performs tool actions with the stored credentials (the runtime API and bundled-mode collection). */
  performer(): ToolActionPerformer {
    return toolActionPerformer({
      newestOfType: async (type: ToolType) => {
        const record = await this.deps.repo.newestOfType(type);
        if (!record) return null;
        return {
          name: record.name,
          credentials: JSON.parse(await this.deps.secrets.decrypt(record.secret)) as ToolCredentials,
        };
      },
    });
  }
}

/** What a credential points at, without its secrets: a webhook's host; an SMTP server, its user, the sender. */
function summaryOf(c: ToolCredentials): string {
  if (c.type !== 'email') return `webhook on ${new URL(c.webhookUrl).host}`;
  const tls = c.secure ? ', TLS' : '';
  return `${c.user ? `${c.user} at ` : ''}${hostPort(c.host, c.port)}${tls}, from ${c.from}`;
}
