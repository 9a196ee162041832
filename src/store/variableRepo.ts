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

  /**
   * Reads, changes and writes one variable atomically, whichever engine and however many processes share
   * the store: `change` gets the current record (an unset key reads as a placeholder holding JSON null, which
   * every change treats as unset) and returns the new stored text and
   * secrecy; its error rolls everything back (nothing written) and is rethrown.
   *
   * The first statement claims the row's write lock before anything is read: an upsert that inserts a
   * placeholder when the key is unset and otherwise rewrites a column with itself. On PostgreSQL
   * (READ COMMITTED) that upsert locks the row, so a concurrent increment waits for this transaction to
   * commit and then reads the committed value (each statement reads a fresh snapshot); a concurrent
   * insert of the same key waits on the unique index the same way. On SQLite the transaction is BEGIN
   * IMMEDIATE, which already holds the whole file's write lock. The placeholder never outlives a
   * refused change: the rollback removes it.
   */
  async update(
    key: string,
    change: (
      current: VariableRecord | null,
    ) => { value: string; secret: boolean } | Promise<{ value: string; secret: boolean }>,
    updatedBy: string,
  ): Promise<VariableRecord> {
    return this.db.transaction(async (tx) => {
      const now = Date.now();
      await tx.run(
        `INSERT INTO variables (key, value, secret, updated_at, updated_by) VALUES (?, 'null', 0, ?, ?)
         ON CONFLICT (key) DO UPDATE SET updated_at = variables.updated_at`,
        [key, now, updatedBy],
      );
      const next = await change(await new VariableRepo(tx).get(key));
      await tx.run(
        'UPDATE variables SET value = ?, secret = ?, updated_at = ?, updated_by = ? WHERE key = ?',
        [next.value, next.secret ? 1 : 0, now, updatedBy, key],
      );
      return { key, value: next.value, secret: next.secret, updatedAt: now, updatedBy };
    });
  }

  async remove(key: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM variables WHERE key = ?', [key])).changes > 0;
  }
}
