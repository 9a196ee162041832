import { randomUUID } from 'node:crypto';

import type { AuthType, Server, ServerHelperMode } from '../core/domain.ts';
import type { Database } from './database.ts';

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

export class ServerRepo {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  list(): ServerRecord[] {
    return (
      this.db.prepare('SELECT * FROM servers ORDER BY name COLLATE NOCASE').all() as unknown as ServerRow[]
    ).map(fromRow);
  }

  get(id: string): ServerRecord | null {
    const row = this.db.prepare('SELECT * FROM servers WHERE id = ?').get(id) as unknown as
      ServerRow | undefined;
    return row ? fromRow(row) : null;
  }

  getByName(name: string): ServerRecord | null {
    const row = this.db
      .prepare('SELECT * FROM servers WHERE name = ? COLLATE NOCASE')
      .get(name) as unknown as ServerRow | undefined;
    return row ? fromRow(row) : null;
  }

  insert(data: ServerWrite): ServerRecord {
    const now = Date.now();
    const id = randomUUID();
    this.db
      .prepare(
        `INSERT INTO servers (id, name, host, port, username, auth_type, key_path, secret, jump_server_id, tags, description, helper_mode, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
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
      );
    return this.get(id)!;
  }

  update(id: string, data: ServerWrite): ServerRecord {
    this.db
      .prepare(
        `UPDATE servers SET name = ?, host = ?, port = ?, username = ?, auth_type = ?, key_path = ?, secret = ?, jump_server_id = ?,
         tags = ?, description = ?, helper_mode = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
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
      );
    return this.get(id)!;
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM servers WHERE id = ?').run(id);
  }

  usedAsJumpBy(id: string): string[] {
    return (
      this.db.prepare('SELECT name FROM servers WHERE jump_server_id = ?').all(id) as { name: string }[]
    ).map((r) => r.name);
  }

  recordCheck(id: string, check: { online: boolean; os: string | null; error: string | null }): void {
    this.db
      .prepare(
        'UPDATE servers SET last_check_at = ?, last_check_online = ?, last_check_os = ?, last_check_error = ? WHERE id = ?',
      )
      .run(Date.now(), check.online ? 1 : 0, check.os, check.error, id);
  }
}
