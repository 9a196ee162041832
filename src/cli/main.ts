#!/usr/bin/env node
/**
 * The `cronium` command line: the headless door to the same service facade the desktop app uses. This root
 * only declares the global options and the command names; a command's module (src/cli/commands/<name>.ts,
 * with its own options) is loaded when that command runs, so `cronium --version` loads almost nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { enableCompileCache } from './compileCache.ts';
import {
  defaultIo,
  outputErrorExit,
  packageRoot,
  watchOutputs,
  type CliIo,
  type GlobalOptions,
} from './io.ts';
import type { CommandModule } from './context.ts';
import type { Command as CommandType } from 'commander';

export { CLOSED_OUTPUT_EXIT, outputErrorExit, type CliIo } from './io.ts';

/** Each command: its one-line summary (for `cronium --help`) and its module, loaded on use. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  server: {
    summary: 'add, edit, import, list, show, remove, test or trust servers',
    load: () => import('./commands/server.ts'),
  },
  job: { summary: 'add, edit, list, show or remove jobs', load: () => import('./commands/job.ts') },
  run: {
    summary: 'run a job on one or more servers, streaming its output',
    load: () => import('./commands/run.ts'),
  },
  rerun: {
    summary: 'run a past run again (--failed: only the hosts that did not succeed)',
    load: () => import('./commands/rerun.ts'),
  },
  history: { summary: 'list past executions', load: () => import('./commands/history.ts') },
  show: {
    summary: 'one execution and its whole log, or a run (--run)',
    load: () => import('./commands/show.ts'),
  },
  attach: { summary: 'follow a detached execution again', load: () => import('./commands/attach.ts') },
  var: { summary: 'list, get, set or remove variables', load: () => import('./commands/var.ts') },
  schedule: {
    summary: 'add, list, show, remove, pause or resume schedules',
    load: () => import('./commands/schedule.ts'),
  },
  daemon: {
    summary: 'fire schedules without the app (logs on stdout)',
    load: () => import('./commands/daemon.ts'),
  },
  worker: {
    summary: 'team mode: run queued executions from the team queue (logs on stdout)',
    load: () => import('./commands/worker.ts'),
  },
  tool: {
    summary: 'add, list or remove Slack, Discord and email credentials',
    load: () => import('./commands/tool.ts'),
  },
  serve: { summary: 'the app in your browser, on 127.0.0.1 only', load: () => import('./commands/serve.ts') },
  'team-key': {
    summary: 'make a team key for shared secrets (new), or re-seal this store with one (adopt)',
    load: () => import('./commands/teamKey.ts'),
  },
  db: {
    summary: 'migrate a store, or copy the local one into a shared PostgreSQL (team mode)',
    load: () => import('./commands/db.ts'),
  },
  doctor: {
    summary: 'data directory, secret store in use and why, SQLite, runtime port',
    load: () => import('./commands/doctor.ts'),
  },
};

const EPILOG = `
Every command takes --data-dir DIR (or CRONIUM_DATA_DIR), --json and -v/--verbose; "cronium <command> --help"
lists its own options. --database-url postgres://… (or CRONIUM_DATABASE_URL) names a shared store (team mode).
Exit codes of run: the script's own for one server; for several, 0 when all succeeded, else 1;
255 for connection, authentication and host-key failures; 124 for a timeout; 2 for bad usage.
`;

/** This package's version, from its package.json. */
function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The first argument that is not an option (or an option's value): the command's name. */
function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return argv[i + 1];
    if (arg === '--data-dir' || arg === '--database-url') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** Commander's "error: unknown option '--x'" as "cronium: Unknown option '--x'". */
function usageError(message: string): string {
  const text = message.replace(/^error: /, '').trimEnd();
  return `cronium: ${text.charAt(0).toUpperCase()}${text.slice(1)}\n`;
}

/** Runs one command and returns its exit code. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const outputClosed = watchOutputs(io);
  const code = await command(argv, { ...io, outputClosed });
  return outputClosed.aborted ? outputErrorExit(outputClosed.reason) : code;
}

async function command(argv: string[], io: CliIo): Promise<number> {
  // The fastest answer for the commonest probe: no parser loaded at all.
  if (argv.length === 1 && argv[0] === '--version') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  const { Command, CommanderError } = await import('commander');
  const program: CommandType = new Command('cronium')
    .description('cronium — run scripts on your SSH servers')
    // The version is read only when asked for.
    .version(argv.includes('--version') ? version() : '', '--version', 'print the version and exit')
    .option(
      '--data-dir <dir>',
      'data directory (default: CRONIUM_DATA_DIR, else the app-data folder, e.g. ~/.config/Cronium)',
    )
    .option(
      '--database-url <url>',
      'a shared PostgreSQL store, postgres://USER@HOST:PORT/DB (default: CRONIUM_DATABASE_URL; password from the URL, PGPASSWORD or ~/.pgpass)',
    )
    .option('--json', 'machine-readable output')
    .option('-v, --verbose', 'debug log on stderr')
    .helpOption('-h, --help', 'show help')
    .addHelpText('after', EPILOG)
    .helpCommand(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(usageError(s)),
    });

  const name = commandName(argv);
  const state = { code: 0 };
  for (const [cmd, { summary }] of Object.entries(COMMANDS)) {
    const sub = program.command(cmd).description(summary).helpCommand(false);
    if (cmd === name) {
      const mod = await COMMANDS[cmd]!.load();
      mod.register(sub, {
        io,
        global: () => program.opts<GlobalOptions>(),
        done: (code) => (state.code = code),
      });
    }
  }
  if (name !== undefined && !(name in COMMANDS)) {
    io.stderr.write(`cronium: Unknown command "${name}". Run "cronium --help" for usage.\n`);
    return 2;
  }
  const asksHelp = argv.includes('--help') || argv.includes('-h') || argv.includes('--version');
  if (name === undefined && !asksHelp) {
    try {
      program.parse(argv, { from: 'user' }); // refuses unknown options first
    } catch (err) {
      if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
      throw err;
    }
    io.stderr.write(program.helpInformation() + EPILOG);
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return state.code;
}

if (import.meta.main) {
  // V8's compiled code for the modules loaded from here on is kept on disk (Node's compile cache, in a
  // per-user cache folder, checked against each file's content): a start compiles only what changed.
  enableCompileCache();
  process.exitCode = await main(process.argv.slice(2));
  // Output still queued when the command returned can fail later (the reader went away meanwhile).
  for (const stream of [process.stdout, process.stderr])
    stream.once('error', (err) => (process.exitCode = outputErrorExit(err)));
}
