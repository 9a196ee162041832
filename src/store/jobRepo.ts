import { randomUUID } from 'node:crypto';

import type {
  ChainLink,
  HelperMode,
  Job,
  JobParam,
  Language,
  NotifyWhen,
  RunVia,
  WebhookInfo,
} from '../core/domain.ts';
import type { Sql } from './sql.ts';

/** As stored: secret env values are sealed by the SecretStore. */
export interface StoredEnvVar {
  key: string;
  value: string;
  secret: boolean;
}

/** A job's webhook as stored: the URL sealed by the SecretStore (it may carry a token). */
export interface StoredWebhook {
  url: string;
  notify: WebhookInfo['notify'];
  origin: string;
}

export interface JobRecord extends Omit<Job, 'env' | 'webhook'> {
  env: StoredEnvVar[];
  webhook: StoredWebhook | null;
}

export type JobWrite = Omit<JobRecord, 'id' | 'createdAt' | 'updatedAt'>;

interface JobRow {
  id: string;
  name: string;
  language: Language;
  script: string;
  timeout_sec: number;
  env: string;
  default_input: string | null;
  default_server_ids: string;
  helper_mode: HelperMode;
  keep_running: number;
  default_via: RunVia;
  tags: string;
  chain: string;
  desktop_notify: NotifyWhen;
  webhook: string | null;
  params: string;
  created_at: number;
  updated_at: number;
}

function fromRow(row: JobRow): JobRecord {
  return {
    id: row.id,
    name: row.name,
    language: row.language,
    script: row.script,
    timeoutSec: row.timeout_sec,
    env: JSON.parse(row.env) as StoredEnvVar[],
    defaultInput: row.default_input === null ? null : (JSON.parse(row.default_input) as unknown),
    defaultServerIds: JSON.parse(row.default_server_ids) as string[],
    helperMode: row.helper_mode,
    keepRunning: row.keep_running === 1,
    defaultVia: row.default_via,
    tags: JSON.parse(row.tags) as string[],
    chain: JSON.parse(row.chain) as ChainLink[],
    desktopNotify: row.desktop_notify,
    webhook: row.webhook === null ? null : (JSON.parse(row.webhook) as StoredWebhook),
    params: JSON.parse(row.params) as JobParam[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** What clients may see: secret values blanked. */
export function publicJob(record: JobRecord): Job {
  return {
    ...record,
    env: record.env.map((e) => ({ key: e.key, secret: e.secret, value: e.secret ? null : e.value })),
    webhook: record.webhook && { notify: record.webhook.notify, origin: record.webhook.origin },
  };
}

/** The saved jobs (table `jobs`); names are unique case-blind (`lower(name)`). */
export class JobRepo {
  private readonly db: Sql;

  constructor(db: Sql) {
    this.db = db;
  }

  async list(): Promise<JobRecord[]> {
    return (await this.db.all<JobRow>('SELECT * FROM jobs ORDER BY lower(name), name')).map(fromRow);
  }

  async get(id: string): Promise<JobRecord | null> {
    const row = await this.db.get<JobRow>('SELECT * FROM jobs WHERE id = ?', [id]);
    return row ? fromRow(row) : null;
  }

  async getByName(name: string): Promise<JobRecord | null> {
    const row = await this.db.get<JobRow>('SELECT * FROM jobs WHERE lower(name) = lower(?)', [name]);
    return row ? fromRow(row) : null;
  }

  async insert(data: JobWrite): Promise<JobRecord> {
    const now = Date.now();
    const id = randomUUID();
    await this.db.run(
      `INSERT INTO jobs (id, name, language, script, timeout_sec, env, default_input, default_server_ids, helper_mode, tags,
         chain, desktop_notify, webhook, params, keep_running, default_via, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, ...this.values(data), now, now],
    );
    return (await this.get(id))!;
  }

  async update(id: string, data: JobWrite): Promise<JobRecord> {
    await this.db.run(
      `UPDATE jobs SET name = ?, language = ?, script = ?, timeout_sec = ?, env = ?, default_input = ?, default_server_ids = ?,
       helper_mode = ?, tags = ?, chain = ?, desktop_notify = ?, webhook = ?, params = ?, keep_running = ?, default_via = ?, updated_at = ? WHERE id = ?`,
      [...this.values(data), Date.now(), id],
    );
    return (await this.get(id))!;
  }

  async remove(id: string): Promise<void> {
    await this.db.run('DELETE FROM jobs WHERE id = ?', [id]);
  }

  /** Writes only a job's chain links (removing links to a job that goes). */
  async setChain(id: string, chain: ChainLink[]): Promise<void> {
    await this.db.run('UPDATE jobs SET chain = ?, updated_at = ? WHERE id = ?', [
      JSON.stringify(chain),
      Date.now(),
      id,
    ]);
  }

  private values(data: JobWrite): (string | number | null)[] {
    return [
      data.name,
      data.language,
      data.script,
      data.timeoutSec,
      JSON.stringify(data.env),
      data.defaultInput === undefined ? null : JSON.stringify(data.defaultInput),
      JSON.stringify(data.defaultServerIds),
      data.helperMode,
      JSON.stringify(data.tags),
      JSON.stringify(data.chain),
      data.desktopNotify,
      data.webhook === null ? null : JSON.stringify(data.webhook),
      JSON.stringify(data.params),
      data.keepRunning ? 1 : 0,
      data.defaultVia,
    ];
  }
}
