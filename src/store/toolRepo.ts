import type { ToolType } from '../core/domain.ts';
import type { Sql } from './sql.ts';

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
  private readonly db: Sql;

  constructor(db: Sql) {
    this.db = db;
  }

  /**
   * Every credential, by name case-blind (as servers and jobs): SQLite's column is COLLATE NOCASE, so a
   * plain `ORDER BY name` sorted case-blind there and by case on PostgreSQL.
   */
  async list(): Promise<ToolRecord[]> {
    return (await this.db.all<ToolRow>('SELECT * FROM tools ORDER BY lower(name), name')).map(fromRow);
  }

  async get(id: string): Promise<ToolRecord | null> {
    const row = await this.db.get<ToolRow>('SELECT * FROM tools WHERE id = ?', [id]);
    return row ? fromRow(row) : null;
  }

  /** The credential named `name`, case-blind on both engines (names are unique by lower(name)). */
  async getByName(name: string): Promise<ToolRecord | null> {
    const row = await this.db.get<ToolRow>('SELECT * FROM tools WHERE lower(name) = lower(?)', [name]);
    return row ? fromRow(row) : null;
  }

  /** The most recently added credential of a type (Cronium's rule when there are several), or null. */
  async newestOfType(type: ToolType): Promise<ToolRecord | null> {
    // Two added in the same millisecond: SQLite's rowid is the insertion order; PostgreSQL has none, so
    // there the id breaks the tie (arbitrary but stable).
    const tie = this.db.engine === 'sqlite' ? 'rowid' : 'id';
    const row = await this.db.get<ToolRow>(
      `SELECT * FROM tools WHERE type = ? ORDER BY created_at DESC, ${tie} DESC LIMIT 1`,
      [type],
    );
    return row ? fromRow(row) : null;
  }

  async insert(record: ToolRecord): Promise<void> {
    await this.db.run(
      'INSERT INTO tools (id, name, type, summary, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [
        record.id,
        record.name,
        record.type,
        record.summary,
        record.secret,
        record.createdAt,
        record.updatedAt,
      ],
    );
  }

  async remove(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM tools WHERE id = ?', [id])).changes > 0;
  }
}
