import { randomUUID } from 'node:crypto';

import type { AuthType, Server, ServerHelperMode } from '../core/domain.ts';
import type { Sql } from './sql.ts';

export interface ServerRecord extends Server {
  /** Sealed password (password auth) or passphrase (key auth); never leaves the core. */
  secret: string | null;
}

export interface ServerWrite {
  name: string;
  host: string;
  port: number;
  username: string;
  authType: AuthType;
  keyPath: string | null;
  secret: string | null;
  jumpServerId: string | null;
  tags: string[];
  description: string;
  helperMode: ServerHelperMode;
}

interface ServerRow {
  id: string;
  name: string;
  host: string;
  port: number;
  username: string;
  auth_type: AuthType;
  key_path: string | null;
  secret: string | null;
  jump_server_id: string | null;
  tags: string;
  description: string;
  helper_mode: ServerHelperMode;
  last_check_at: number | null;
  last_check_online: number | null;
  last_check_os: string | null;
  last_check_error: string | null;
  created_at: number;
  updated_at: number;
}

function fromRow(row: ServerRow): ServerRecord {
  return {
    id: row.id,
    name: row.name,
    host: row.host,
    port: row.port,
    username: row.username,
    authType: row.auth_type,
    keyPath: row.key_path,
    secret: row.secret,
    hasSecret: row.secret !== null,
    jumpServerId: row.jump_server_id,
    tags: JSON.parse(row.tags) as string[],
    description: row.description,
    helperMode: row.helper_mode,
    lastCheck:
      row.last_check_at === null
        ? null
        : {
            online: row.last_check_online === 1,
            os: row.last_check_os,
            at: row.last_check_at,
            error: row.last_check_error,
          },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Strips the sealed secret: what clients may see. */
export function publicServer(record: ServerRecord): Server {
  const { secret: _secret, ...server } = record;
  return server;
}

/** The saved servers (table `servers`); names are unique case-blind (`lower(name)`). */
export class ServerRepo {
  private readonly db: Sql;

  constructor(db: Sql) {
    this.db = db;
  }

  async list(): Promise<ServerRecord[]> {
    return (await this.db.all<ServerRow>('SELECT * FROM servers ORDER BY lower(name), name')).map(fromRow);
  }

  async get(id: string): Promise<ServerRecord | null> {
    const row = await this.db.get<ServerRow>('SELECT * FROM servers WHERE id = ?', [id]);
    return row ? fromRow(row) : null;
  }

  async getByName(name: string): Promise<ServerRecord | null> {
    const row = await this.db.get<ServerRow>('SELECT * FROM servers WHERE lower(name) = lower(?)', [name]);
    return row ? fromRow(row) : null;
  }

  async insert(data: ServerWrite): Promise<ServerRecord> {
    const now = Date.now();
    const id = randomUUID();
    await this.db.run(
      `INSERT INTO servers (id, name, host, port, username, auth_type, key_path, secret, jump_server_id, tags, description, helper_mode, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        data.name,
        data.host,
        data.port,
        data.username,
        data.authType,
        data.keyPath,
        data.secret,
        data.jumpServerId,
        JSON.stringify(data.tags),
        data.description,
        data.helperMode,
        now,
        now,
      ],
    );
    return (await this.get(id))!;
  }

  async update(id: string, data: ServerWrite): Promise<ServerRecord> {
    await this.db.run(
      `UPDATE servers SET name = ?, host = ?, port = ?, username = ?, auth_type = ?, key_path = ?, secret = ?, jump_server_id = ?,
       tags = ?, description = ?, helper_mode = ?, updated_at = ? WHERE id = ?`,
      [
        data.name,
        data.host,
        data.port,
        data.username,
        data.authType,
        data.keyPath,
        data.secret,
        data.jumpServerId,
        JSON.stringify(data.tags),
        data.description,
        data.helperMode,
        Date.now(),
        id,
      ],
    );
    return (await this.get(id))!;
  }

  async remove(id: string): Promise<void> {
    await this.db.run('DELETE FROM servers WHERE id = ?', [id]);
  }

  /**
   * The names of the servers that hop through server `id`, by name (a message lists them): without ORDER
   * BY, PostgreSQL returns rows in their heap order, where an updated row moves to the end.
   */
  async usedAsJumpBy(id: string): Promise<string[]> {
    return (
      await this.db.all<{ name: string }>(
        'SELECT name FROM servers WHERE jump_server_id = ? ORDER BY lower(name), name',
        [id],
      )
    ).map((r) => r.name);
  }

  async recordCheck(
    id: string,
    check: { online: boolean; os: string | null; error: string | null },
  ): Promise<void> {
    await this.db.run(
      'UPDATE servers SET last_check_at = ?, last_check_online = ?, last_check_os = ?, last_check_error = ? WHERE id = ?',
      [Date.now(), check.online ? 1 : 0, check.os, check.error, id],
    );
  }
}
