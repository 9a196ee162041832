import type { KnownHost } from '../core/domain.ts';
import type { Database } from './database.ts';

interface KnownHostRow {
  host: string;
  port: number;
  key_type: string;
  fingerprint: string;
  first_seen: number;
}

export class KnownHostRepo {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  get(host: string, port: number): KnownHost | null {
    const row = this.db
      .prepare('SELECT * FROM known_hosts WHERE host = ? AND port = ?')
      .get(host.toLowerCase(), port) as unknown as KnownHostRow | undefined;
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
  trust(host: string, port: number, keyType: string, fingerprint: string): void {
    this.db
      .prepare(
        `INSERT INTO known_hosts (host, port, key_type, fingerprint, first_seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (host, port) DO UPDATE SET key_type = excluded.key_type, fingerprint = excluded.fingerprint, first_seen = excluded.first_seen`,
      )
      .run(host.toLowerCase(), port, keyType, fingerprint, Date.now());
  }

  forget(host: string, port: number): void {
    this.db.prepare('DELETE FROM known_hosts WHERE host = ? AND port = ?').run(host.toLowerCase(), port);
  }
}
