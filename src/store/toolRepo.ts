import type { ToolType } from '../core/domain.ts';
import type { Database } from './database.ts';

/** A stored tool credential: `secret` is the credential's JSON, sealed by the SecretStore. */
export interface ToolRecord {
  id: string;
  name: string;
  type: ToolType;
  summary: string;
  secret: string;
  createdAt: number;
  updatedAt: number;
}

interface ToolRow {
  id: string;
  name: string;
  type: ToolType;
  summary: string;
  secret: string;
  created_at: number;
  updated_at: number;
}

const fromRow = (r: ToolRow): ToolRecord => ({
  id: r.id,
  name: r.name,
  type: r.type,
  summary: r.summary,
  secret: r.secret,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The `tools` table: credentials for the tool actions scripts ask the app to perform. */
export class ToolRepo {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  /** Every credential, by name. */
  list(): ToolRecord[] {
    return (this.db.prepare('SELECT * FROM tools ORDER BY name').all() as unknown as ToolRow[]).map(fromRow);
  }

  get(id: string): ToolRecord | null {
    const row = this.db.prepare('SELECT * FROM tools WHERE id = ?').get(id) as unknown as ToolRow | undefined;
    return row ? fromRow(row) : null;
  }

  getByName(name: string): ToolRecord | null {
    const row = this.db.prepare('SELECT * FROM tools WHERE name = ?').get(name) as unknown as
      ToolRow | undefined;
    return row ? fromRow(row) : null;
  }

  /** The most recently added credential of a type (Cronium's rule when there are several), or null. */
  newestOfType(type: ToolType): ToolRecord | null {
    const row = this.db
      .prepare('SELECT * FROM tools WHERE type = ? ORDER BY created_at DESC, rowid DESC LIMIT 1')
      .get(type) as unknown as ToolRow | undefined;
    return row ? fromRow(row) : null;
  }

  insert(record: ToolRecord): void {
    this.db
      .prepare(
        'INSERT INTO tools (id, name, type, summary, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        record.id,
        record.name,
        record.type,
        record.summary,
        record.secret,
        record.createdAt,
        record.updatedAt,
      );
  }

  remove(id: string): boolean {
    return Number(this.db.prepare('DELETE FROM tools WHERE id = ?').run(id).changes) > 0;
  }
}
