import type { Sql } from './sql.ts';

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

/** The variables scripts and people share (table `variables`), keyed by their exact key. */
export class VariableRepo {
  private readonly db: Sql;

  constructor(db: Sql) {
    this.db = db;
  }

  async list(): Promise<VariableRecord[]> {
    return (await this.db.all<VariableRow>('SELECT * FROM variables ORDER BY key')).map(fromRow);
  }

  async get(key: string): Promise<VariableRecord | null> {
    const row = await this.db.get<VariableRow>('SELECT * FROM variables WHERE key = ?', [key]);
    return row ? fromRow(row) : null;
  }

  async set(key: string, value: string, secret: boolean, updatedBy: string): Promise<void> {
    await this.db.run(
      `INSERT INTO variables (key, value, secret, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, secret = excluded.secret, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      [key, value, secret ? 1 : 0, Date.now(), updatedBy],
    );
  }

  async remove(key: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM variables WHERE key = ?', [key])).changes > 0;
  }
}
