/**
 * What the root gives a command module, and the one way a command opens the service, reports its errors
 * and returns an exit code.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Command } from 'commander';

import type { HostApi } from '../contract.ts';
import { drained, outputErrorExit, type CliIo, type GlobalOptions } from './io.ts';

/** The service as the CLI uses it: the contract for trusted local clients (HostApi in the contract). */
export type Host = HostApi;

/** Handed to a command module's register(). */
export interface CommandContext {
  io: CliIo;
  /** The global options (--data-dir, --database-url, --json, --verbose), once parsed. */
  global: () => GlobalOptions;
  /** Sets the process's exit code. */
  done: (code: number) => void;
}

/** A command module: declares its command's arguments, options and action on `command`. */
export interface CommandModule {
  register: (command: Command, ctx: CommandContext) => void;
}

/** The CLI's exit code for an error kind: 255 for connection failures, 2 for bad usage, else 1. */
export async function exitCodeFor(kind: string): Promise<number> {
  const { CONNECTION_KINDS } = await import('../core/errors.ts');
  if (CONNECTION_KINDS.has(kind as never)) return 255;
  if (kind === 'invalid_input' || kind === 'not_found' || kind === 'conflict') return 2;
  return 1;
}

/**
 * The contract's field names as the user typed them on the command line, for text-mode messages (--json
 * keeps the contract's names, which scripts may read). A nested field is named by its first part
 * (`tags.0` is `--tag`, `auth.keyPath` has its own entry).
 */
const OPTION_NAMES: Record<string, string> = {
  serverIds: '--on',
  defaultServerIds: '--on',
  jumpServerId: '--jump',
  host: '--host',
  port: '--port',
  metricsPort: '--metrics-port',
  username: '--user',
  keyPath: '--key',
  'auth.keyPath': '--key',
  'auth.password': '--password-stdin',
  'auth.passphrase': '--passphrase-stdin',
  tags: '--tag',
  description: '--description',
  timeoutSec: '--timeout',
  helperMode: '--helpers',
  defaultVia: '--via',
  defaultInput: '--input',
  language: '--lang',
  script: '--script',
  env: '--env',
  concurrency: '--concurrency',
  jobId: 'job',
  serverId: '--server',
  sshConfig: '--ssh-config',
  knownHosts: '--known-hosts',
  only: '--only',
  text: '--search',
  limit: '--limit',
  targets: '--on',
  params: '--set',
  param: '--param',
  cron: '--cron',
  timezone: '--tz',
  overlap: '--overlap',
  missed: '--missed',
  'webhook.url': '--webhook',
  'webhook.notify': '--notify',
  desktopNotify: '--desktop-notify',
  chain: '--on-success/--on-failure/--on-condition',
  webhookUrl: '--webhook-url-stdin',
  from: '--from',
  user: '--user',
  password: '--password-stdin',
  secure: '--secure',
  via: '--via',
};

/** The option a contract field (`port`, `tags.0`, `auth.keyPath`, `env.1.key`) was given with. */
function optionName(field: string): string {
  const [first, second] = field.split('.');
  return OPTION_NAMES[field] ?? OPTION_NAMES[`${first}.${second}`] ?? OPTION_NAMES[first!] ?? field;
}

/** Replaces the contract's field names in a message with the option the user typed. */
function inUserWords(text: string): string {
  return text.replace(/\b(?:\w+\.)*(\w+)\b/g, (path, field: string) =>
    path.includes('.') || /Ids?$|Sec$|Mode$|Input$|Path$/.test(field) ? (OPTION_NAMES[field] ?? path) : path,
  );
}

/**
 * An error's text for the terminal: an invalid_input summary is rebuilt from its fields in the user's
 * words (`--port: …`, `--tag: …`), other messages have the contract's names replaced.
 */
function userMessage(error: { kind: string; message: string; fields?: Record<string, string> }): string {
  if (error.kind === 'invalid_input' && error.fields && error.message.startsWith('Invalid input — '))
    return (
      'Invalid input — ' +
      Object.entries(error.fields)
        .map(([f, m]) => `${optionName(f)}: ${m}`)
        .join('; ')
    );
  return inUserWords(error.message);
}

/**
 * The shared store's URL: --database-url, else CRONIUM_DATABASE_URL; null for the local SQLite file. Its
 * password may be in the URL, or come from PGPASSWORD or the password file (PGPASSFILE, ~/.pgpass) as
 * libpq reads them (see clientConfig in src/store/postgresEngine.ts).
 */
export function databaseUrl(global: GlobalOptions, env: NodeJS.ProcessEnv): string | null {
  return global.databaseUrl || env.CRONIUM_DATABASE_URL || null;
}

/** Prints an error (as `{"error": …}` with --json) and hands its exit code to the root. */
export async function reportError(ctx: CommandContext, err: unknown): Promise<void> {
  const global = ctx.global();
  const { io } = ctx;
  const { toErrorValue } = await import('../core/errors.ts');
  const error = toErrorValue(err);
  if (global.json) io.stderr.write(JSON.stringify({ error }) + '\n');
  else {
    io.stderr.write(`cronium: ${userMessage(error)}\n`);
    if (error.fields && Object.keys(error.fields).length > 1)
      for (const [f, m] of Object.entries(error.fields)) io.stderr.write(`  ${optionName(f)}: ${m}\n`);
  }
  ctx.done(await exitCodeFor(error.kind));
}

/**
 * An action that opens no service (the `cronium db` commands open stores themselves): runs `fn`, prints
 * its error like action() does, and hands the exit code to the root.
 */
export function plainAction<A extends unknown[]>(
  ctx: CommandContext,
  fn: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const { configureCliLogger } = await import('../core/logger.ts');
      configureCliLogger(ctx.io.stderr, ctx.global().verbose ? 'debug' : 'warn');
      ctx.done(await fn(...args));
    } catch (err) {
      await reportError(ctx, err);
    }
  };
}

/** The commands that never write: run on a data directory that does not exist yet, they create none. */
const READ_ONLY_COMMANDS = new Set([
  'server list',
  'server show',
  'job list',
  'job show',
  'history',
  'show',
  'var list',
  'var get',
]);

/**
 * Whether an action's arguments (commander passes its options and the command last) are those of a
 * read-only command, or of a dry run.
 */
function readsOnly(args: unknown[]): boolean {
  const command = args[args.length - 1] as Command | undefined;
  const options = args[args.length - 2] as { dryRun?: unknown } | undefined;
  if (typeof command?.name !== 'function') return false;
  const path = [command.parent?.parent ? command.parent.name() : null, command.name()].filter(Boolean);
  return READ_ONLY_COMMANDS.has(path.join(' ')) || options?.dryRun === true;
}

/** What a command may set of the service it opens (see ServiceOptions in src/service/compose.ts). */
export interface CommandServiceOptions {
  teamSupervise?: boolean;
  scheduledVia?: 'direct' | 'workers';
  /** Who runs started by this process are recorded as (a worker: "worker NAME@host"). */
  actor?: string;
}

/**
 * Opens the service on the data directory, runs `fn`, closes the service, and hands the exit code to the
 * root. Errors are printed (as `{"error": …}` with --json) and mapped to an exit code; nothing throws out.
 */
export function action<A extends unknown[]>(
  ctx: CommandContext,
  fn: (host: Host, ...args: A) => Promise<number> | number,
  {
    serving = false,
    serviceOptions = {},
    endEarly = false,
  }: {
    serving?: boolean;
    /** Options of the service this command opens; a function of the command's arguments when they decide. */
    serviceOptions?: CommandServiceOptions | ((...args: A) => CommandServiceOptions);
    /**
     * When `fn` has returned, everything is stored, and the process's own streams are in use
     * (CliIo.exit): end the process as soon as the outputs are written, without the graceful close — no
     * SSH disconnect to wait for, no runtime or log thread to stop, no WAL checkpoint of the SQLite file
     * (what was committed is in its WAL, which the next open reads). Only with nothing left running here
     * (no active run: a detached keep-running one stays on its host either way) and on the local store
     * (a PostgreSQL pool is closed properly).
     */
    endEarly?: boolean;
  } = {},
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const global = ctx.global();
    const { io } = ctx;
    let host: Host | null = null;
    let scratch: string | null = null;
    try {
      const [{ CroniumService }, { resolveDataDir }, { runtimePortFromEnv }, { configureCliLogger, log }] =
        await Promise.all([
          import('../service/service.ts'),
          import('../core/paths.ts'),
          import('../core/rules.ts'),
          import('../core/logger.ts'),
        ]);
      configureCliLogger(io.stderr, global.verbose ? 'debug' : 'warn');
      // A PostgreSQL store (--database-url, CRONIUM_DATABASE_URL) is the team's: every command uses it.
      const url = databaseUrl(global, io.env);
      let dataDir = resolveDataDir(global.dataDir, io.env);
      log().debug(`data directory ${dataDir}`);
      // A command that only reads answers from an empty store when there is none yet, leaving no data
      // directory behind (opening the database would create it).
      if (!url && readsOnly(args) && !existsSync(join(dataDir, 'cronium.db'))) {
        dataDir = scratch = mkdtempSync(join(tmpdir(), 'cronium-empty-'));
        log().debug('no data directory yet: answering from an empty one');
      }
      // Browser mode asks before trusting a new host key (the UI shows the fingerprint); the CLI accepts
      // new keys like OpenSSH's accept-new.
      host = await CroniumService.open({
        dataDir,
        unknownHostKeys: serving ? 'ask' : 'accept-new',
        appMode: 'web',
        runtimePort: runtimePortFromEnv(io.env),
        env: io.env,
        databaseUrl: url ?? undefined,
        ...(typeof serviceOptions === 'function' ? serviceOptions(...args) : serviceOptions),
      });
      const code = await fn(host, ...args);
      ctx.done(code);
      if (endEarly && io.exit && !url && host.activeRunIds().length === 0) {
        await drained(io.stdout);
        await drained(io.stderr);
        io.exit(io.outputClosed?.aborted ? outputErrorExit(io.outputClosed.reason) : code);
      }
    } catch (err) {
      await reportError(ctx, err);
    } finally {
      await host?.close();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  };
}
