/**
 * The engine matrix (issue 13, "the whole store suite on both engines"): `describeEngines(name, body)` runs
 * `body` twice, as `name [sqlite]` and `name [postgres]`, handing it an {@link EngineUnderTest} whose
 * `openStore` / `openService` take the same options as the real openStore / CroniumService.open and put the
 * store on that engine. On SQLite they are the real functions. On PostgreSQL each data directory gets a
 * database of its own on a throwaway server (test/support/postgres.ts) started once per test file on
 * first use and stopped after the file: a fresh data directory is a fresh, empty store on either engine,
 * and opening the same directory again reopens the same store. Those databases sort text linguistically
 * (STORE_COLLATION), as a team's server usually does. Services on PostgreSQL get the team key (a shared
 * store seals its secrets with it) and no keychain.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { afterAll, describe } from 'vitest';

import { CroniumService, type ServiceOptions } from '../../src/service/service.ts';
import { openStore, type StoreOptions } from '../../src/store/openStore.ts';
import { PostgresDatabase } from '../../src/store/postgresEngine.ts';
import { SQL_ENGINES, type SqlDatabase, type SqlEngine } from '../../src/store/sql.ts';
import { SqliteDatabase } from '../../src/store/sqliteEngine.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/** What a suite of the matrix is given: one engine, and the ways to open stores on it. */
export interface EngineUnderTest {
  readonly engine: SqlEngine;
  /** openStore on this engine: a migrated store for `options.dataDir` (see the module comment). */
  openStore(options: StoreOptions): Promise<SqlDatabase>;
  /** CroniumService.open on this engine (on PostgreSQL: with the team key and no keychain). */
  openService(options: ServiceOptions): Promise<CroniumService>;
  /** The options openService adds to, for code that composes the service itself (composeCore). */
  serviceOptions(options: ServiceOptions): Promise<ServiceOptions>;
  /**
   * A second, plain connection to the store of `dataDir` (which must have been opened first), for
   * reading and writing rows as they are stored; close it afterwards.
   */
  connect(dataDir: string): Promise<SqlDatabase>;
}

/** The team key every PostgreSQL service of the file shares (base64 of 32 bytes, as CRONIUM_TEAM_KEY). */
export const TEST_TEAM_KEY = randomBytes(32).toString('base64');

/**
 * The collation of every PostgreSQL store of the matrix: a linguistic one (ICU en-US), as a team's server
 * initialised in an English locale has, and unlike SQLite's byte order — so a query that only sorts or
 * compares text right in byte order fails here rather than on a team's server.
 */
export const STORE_COLLATION = 'en-US';

let server: Promise<TestPostgres> | null = null;
/** PostgreSQL suites of the file not finished yet: the last one to end stops the server. */
let postgresSuites = 0;
let databases = 0;
/** Data directory → its database URL on the file's server. */
const urls = new Map<string, string>();

function postgres(): Promise<TestPostgres> {
  server ??= startPostgres();
  return server;
}

/** The database URL of a data directory's store on PostgreSQL, created on first use. */
async function urlFor(dataDir: string): Promise<string> {
  const known = urls.get(dataDir);
  if (known) return known;
  const url = (await postgres()).createDatabase(`store_${++databases}`, { icuLocale: STORE_COLLATION });
  urls.set(dataDir, url);
  return url;
}

/** Stops the file's server (if one was started); a later suite would start a new one. */
async function stopServer(): Promise<void> {
  const running = server;
  server = null;
  urls.clear();
  if (running) (await running).stop();
}

/** Service options on the data directory's PostgreSQL database, with the team key and no keychain. */
async function postgresOptions(options: ServiceOptions): Promise<ServiceOptions> {
  return {
    keychain: null,
    ...options,
    databaseUrl: await urlFor(options.dataDir),
    env: { ...(options.env ?? process.env), CRONIUM_TEAM_KEY: TEST_TEAM_KEY },
  };
}

function engineUnderTest(engine: SqlEngine): EngineUnderTest {
  if (engine === 'sqlite')
    return {
      engine,
      openStore: (options) => openStore(options),
      openService: (options) => CroniumService.open(options),
      serviceOptions: (options) => Promise.resolve(options),
      connect: (dataDir) => Promise.resolve(new SqliteDatabase(join(dataDir, 'cronium.db'))),
    };
  return {
    engine,
    openStore: async (options) => openStore({ ...options, databaseUrl: await urlFor(options.dataDir) }),
    openService: async (options) => CroniumService.open(await postgresOptions(options)),
    serviceOptions: postgresOptions,
    connect: async (dataDir) => {
      const url = urls.get(dataDir);
      if (!url) throw new Error(`no PostgreSQL store was opened for ${dataDir}`);
      return new PostgresDatabase(url);
    },
  };
}

/**
 * Declares `body` once per engine, as `describe('name [engine]')`. The PostgreSQL server is started when
 * the first store asks for it and stopped after the file's last PostgreSQL suite; `body` may be async, as
 * a describe's may.
 */
export function describeEngines(
  name: string,
  body: (engine: EngineUnderTest) => void | Promise<void>,
  engines: readonly SqlEngine[] = SQL_ENGINES,
): void {
  for (const engine of engines)
    describe(`${name} [${engine}]`, () => {
      if (engine === 'postgres') {
        postgresSuites++;
        afterAll(async () => {
          if (--postgresSuites === 0) await stopServer();
        });
      }
      return body(engineUnderTest(engine));
    });
}
