import type { KnownHost } from '../core/domain.ts';
import type { Sql } from './sql.ts';

interface KnownHostRow {
  host: string;
  port: number;
  key_type: string;
  fingerprint: string;
  first_seen: number;
}

/** The host keys this app trusts (table `known_hosts`), by lower-cased host and port. */
export class KnownHostRepo {
  private readonly db: Sql;

  constructor(db: Sql) {
    this.db = db;
  }

  async get(host: string, port: number): Promise<KnownHost | null> {
    const row = await this.db.get<KnownHostRow>('SELECT * FROM known_hosts WHERE host = ? AND port = ?', [
      host.toLowerCase(),
      port,
    ]);
    return row
      ? {
          host: row.host,
          port: row.port,
          keyType: row.key_type,
          fingerprint: row.fingerprint,
          firstSeen: row.first_seen,
        }
      : null;
  }

  /** Records (or, when the user re-trusts a changed key, replaces) the key for host:port. */
  async trust(host: string, port: number, keyType: string, fingerprint: string): Promise<void> {
    await this.db.run(
      `INSERT INTO known_hosts (host, port, key_type, fingerprint, first_seen) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (host, port) DO UPDATE SET key_type = excluded.key_type, fingerprint = excluded.fingerprint, first_seen = excluded.first_seen`,
      [host.toLowerCase(), port, keyType, fingerprint, Date.now()],
    );
  }

  async forget(host: string, port: number): Promise<void> {
    await this.db.run('DELETE FROM known_hosts WHERE host = ? AND port = ?', [host.toLowerCase(), port]);
  }
}
