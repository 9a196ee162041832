import type { Database } from './database.ts';

export interface VariableRecord {
  key: string;
  /** JSON text, sealed by the SecretStore when secret. */
  value: string;
  secret: boolean;
  updatedAt: number;
  updatedBy: string;
}

interface VariableRow {
  key: string;
  value: string;
  secret: number;
  updated_at: number;
  updated_by: string;
}

const fromRow = (r: VariableRow): VariableRecord => ({
  key: r.key,
  value: r.value,
  secret: r.secret === 1,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

export class VariableRepo {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  list(): VariableRecord[] {
    return (this.db.prepare('SELECT * FROM variables ORDER BY key').all() as unknown as VariableRow[]).map(
      fromRow,
    );
  }

  get(key: string): VariableRecord | null {
    const row = this.db.prepare('SELECT * FROM variables WHERE key = ?').get(key) as unknown as
      VariableRow | undefined;
    return row ? fromRow(row) : null;
  }

  set(key: string, value: string, secret: boolean, updatedBy: string): void {
    this.db
      .prepare(
        `INSERT INTO variables (key, value, secret, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, secret = excluded.secret, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      )
      .run(key, value, secret ? 1 : 0, Date.now(), updatedBy);
  }

  remove(key: string): boolean {
    return Number(this.db.prepare('DELETE FROM variables WHERE key = ?').run(key).changes) > 0;
  }
}
