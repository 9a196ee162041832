/**
 * `cronium db migrate` and `cronium db copy --to postgres://… [--force]`: the store's schema, and moving a
 * local store into a shared PostgreSQL one (team mode, issue 13).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { Command } from 'commander';

import { CroniumError } from '../../core/errors.ts';
import { resolveDataDir } from '../../core/paths.ts';
import { osKeychain } from '../../secrets/keychain.ts';
import { DataKeySecretStore, sealV1, type SecretStore } from '../../secrets/secretStore.ts';
import {
  hasTeamKey,
  TEAM_KEY_CHECK,
  TEAM_KEY_ENV,
  TEAM_KEY_FILE_ENV,
  type TeamKey,
  teamKeyCheckValue,
  teamKeyFromEnv,
  TeamKeySecretStore,
} from '../../secrets/teamKey.ts';
import { copyStore } from '../../store/dbCopy.ts';
import { migrateSql, SCHEMA_VERSION } from '../../store/migrate.ts';
import { connectPostgres } from '../../store/postgresEngine.ts';
import type { SqlDatabase } from '../../store/sql.ts';
import { openSqlite, SqliteDatabase } from '../../store/sqliteEngine.ts';
import { databaseUrl, plainAction, type CommandContext } from '../context.ts';
import { out } from '../io.ts';

/**
 * The team key that seals secrets in the shared store: CRONIUM_TEAM_KEY or CRONIUM_TEAM_KEY_FILE, read by
 * the one rule of src/secrets/teamKey.ts. Throws invalid_input when neither is given (or either is bad).
 */
function requiredTeamKey(env: NodeJS.ProcessEnv): TeamKey {
  const found = teamKeyFromEnv(env);
  if (!found)
    throw new CroniumError(
      'invalid_input',
      `Secrets in a shared store are sealed with the team key: set ${TEAM_KEY_ENV} (or ${TEAM_KEY_FILE_ENV}) to the key \`cronium team-key new\` printed, the same for every member and worker.`,
    );
  return found;
}

export function register(cmd: Command, ctx: CommandContext): void {
  const { io } = ctx;
  cmd
    .command('migrate')
    .description('apply pending schema migrations (to --database-url, else to the local store)')
    .action(
      plainAction(ctx, async () => {
        const global = ctx.global();
        const url = databaseUrl(global, io.env);
        const db: SqlDatabase = url
          ? await connectPostgres(url, { env: io.env })
          : openSqlite(resolveDataDir(global.dataDir, io.env));
        try {
          const applied = await migrateSql(db);
          return out(
            io,
            global,
            { location: db.location, engine: db.engine, applied, version: SCHEMA_VERSION },
            () =>
              applied.length
                ? `Applied ${applied.length === 1 ? 'migration' : 'migrations'} ${applied.join(', ')} to ${db.location} (schema version ${SCHEMA_VERSION}).\n`
                : `${db.location} is up to date (schema version ${SCHEMA_VERSION}).\n`,
          );
        } finally {
          await db.close();
        }
      }),
    );
  cmd
    .command('copy')
    .description(
      'copy the local store (servers, jobs, schedules, tools, history, logs, variables, known hosts) into a shared PostgreSQL, secrets re-sealed with CRONIUM_TEAM_KEY',
    )
    .requiredOption('--to <url>', 'the shared store, postgres://USER@HOST:PORT/DB')
    .option(
      '--force',
      'delete everything the target holds and replace it with this store (else a target with servers, jobs or runs is refused)',
    )
    .action(
      plainAction(ctx, async (options: { to: string; force?: boolean }) => {
        const global = ctx.global();
        const dataDir = resolveDataDir(global.dataDir, io.env);
        const file = join(dataDir, 'cronium.db');
        if (!existsSync(file))
          throw new CroniumError(
            'not_found',
            `There is no local store to copy in ${dataDir} (no cronium.db).`,
          );
        // Asked for first: the shared store opens only with it, so a copy without it helps nobody.
        const teamKey = requiredTeamKey(io.env);
        const source = new SqliteDatabase(file);
        let target: SqlDatabase | null = null;
        try {
          await migrateSql(source);
          // The source's own sealing: its team key when it adopted one, else its data key.
          const found = osKeychain(io.env);
          const secrets: SecretStore = (await hasTeamKey(source))
            ? new TeamKeySecretStore({ db: source, teamKey: teamKeyFromEnv(io.env) })
            : new DataKeySecretStore({
                dataDir,
                db: source,
                keychain: found.keychain,
                noKeychainReason: found.reason ?? undefined,
              });
          target = await connectPostgres(options.to, { env: io.env });
          const into = target;
          // A target already sealed with a team key takes only that key: a wrong one is refused here.
          await migrateSql(into);
          if (await hasTeamKey(into)) await new TeamKeySecretStore({ db: into, teamKey }).info();
          const report = await copyStore(source, into, {
            force: options.force === true,
            reseal: async (sealed) => sealV1(teamKey.key, await secrets.decrypt(sealed)),
            // The key's check lands with the secrets: every member's process then opens them.
            settings: { [TEAM_KEY_CHECK]: teamKeyCheckValue(teamKey.key) },
          });
          const width = Math.max(...report.tables.map((t) => t.table.length));
          return out(io, global, { from: file, to: into.location, ...report }, () =>
            [
              `Copied ${file} to ${into.location} (schema version ${report.version}):`,
              ...report.tables.map((t) => `  ${t.table.padEnd(width)}  ${t.rows}`),
              `${report.secrets} ${report.secrets === 1 ? 'secret' : 'secrets'} re-sealed with the team key.`,
              ...(options.force ? [`--force: ${report.replaced} rows the target held were replaced.`] : []),
              '',
            ].join('\n'),
          );
        } finally {
          await source.close();
          await target?.close();
        }
      }),
    );
}
