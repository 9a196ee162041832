/**
 * A throwaway PostgreSQL server for one test file (or bench): `initdb` into a temporary directory owned by
 * the `postgres` user (initdb refuses root), `pg_ctl start` on a free loopback port with its socket in that
 * directory, trust authentication for the role `cronium`; stopped and removed by `stop()`. Never touches the
 * machine's own cluster. Needs root (to act as `postgres`) and Debian's `postgresql` package.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPostgres {
  /** The server's URL for the `cronium` role's own database `cronium`: postgres://cronium@127.0.0.1:PORT/cronium */
  url: string;
  port: number;
  /**
   * Creates an empty database and returns its URL (one per test, so tests never see each other's rows).
   * `icuLocale` (e.g. `en-US`) gives it that ICU collation instead of the cluster's C order, as a team's
   * server set up in a language's locale has: text then sorts and compares linguistically.
   */
  createDatabase(name: string, options?: { icuLocale?: string }): string;
  /** Stops the server (fast shutdown) and removes its directory. */
  stop(): void;
}

/** The directory of PostgreSQL's server binaries (initdb, pg_ctl): Debian's newest installed major. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => existsSync(join(root, d, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0)
    throw new Error(
      'PostgreSQL is not installed (apt-get install postgresql): no /usr/lib/postgresql/*/bin/pg_ctl',
    );
  return join(root, majors[0]!, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** As the postgres user: initdb refuses root, and the data directory must belong to the server's user. */
function asPostgres(command: string, args: string[]): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts a fresh server; resolves when it accepts connections (pg_ctl -w). */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'cronium-pg-'));
  chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 0);
  const data = join(dir, 'data');
  asPostgres(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'cronium', '--no-sync', '-E', 'UTF8']);
  let port = 0;
  // A free port can be taken between the probe and the start: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      asPostgres(join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-o',
        `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
        '-l',
        join(dir, 'log'),
        '-w',
        'start',
      ]);
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  const psql = join(bin, 'psql');
  const urlOf = (db: string) => `postgres://cronium@127.0.0.1:${port}/${db}`;
  asPostgres(psql, [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    'cronium',
    '-d',
    'postgres',
    '-qc',
    'CREATE DATABASE cronium',
  ]);
  return {
    url: urlOf('cronium'),
    port,
    createDatabase(name: string, options: { icuLocale?: string } = {}) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const icu = options.icuLocale;
      if (icu !== undefined && !/^[A-Za-z0-9-]+$/.test(icu)) throw new Error(`not an ICU locale: ${icu}`);
      const locale = icu ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${icu}'` : '';
      asPostgres(psql, [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'cronium',
        '-d',
        'postgres',
        '-qc',
        `CREATE DATABASE ${name}${locale}`,
      ]);
      return urlOf(name);
    },
    stop() {
      try {
        asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
