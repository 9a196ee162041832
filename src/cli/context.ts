/**
 * What the root gives a command module, and the one way a command opens the service, reports its errors
 * and returns an exit code.
 */
import type { Command } from 'commander';

import type { HostApi } from '../contract.ts';
import type { CliIo, GlobalOptions } from './io.ts';

/** The service as the CLI uses it: the contract for trusted local clients (HostApi in the contract). */
export type Host = HostApi;

/** Handed to a command module's register(). */
export interface CommandContext {
  io: CliIo;
  /** The global options (--data-dir, --json, --verbose), once parsed. */
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
 * keeps the contract's names, which scripts may read).
 */
const OPTION_NAMES: Record<string, string> = {
  serverIds: '--on',
  defaultServerIds: '--on',
  jumpServerId: '--jump',
  username: '--user',
  keyPath: '--key',
  timeoutSec: '--timeout',
  helperMode: '--helpers',
  defaultInput: '--input',
  language: '--lang',
  jobId: 'job',
  serverId: '--server',
};

/** Replaces the contract's field names in a message with the option the user typed. */
function inUserWords(text: string): string {
  return text.replace(/\b(?:\w+\.)*(\w+)\b/g, (path, field: string) =>
    path.includes('.') || /Ids?$|Sec$|Mode$|Input$|Path$/.test(field) ? (OPTION_NAMES[field] ?? path) : path,
  );
}

/**
 * Opens the service on the data directory, runs `fn`, closes the service, and hands the exit code to the
 * root. Errors are printed (as `{"error": …}` with --json) and mapped to an exit code; nothing throws out.
 */
export function action<A extends unknown[]>(
  ctx: CommandContext,
  fn: (host: Host, ...args: A) => Promise<number> | number,
  { serving = false } = {},
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const global = ctx.global();
    const { io } = ctx;
    let host: Host | null = null;
    try {
      const [{ CroniumService }, { resolveDataDir }, { runtimePortFromEnv }, { configureCliLogger, log }] =
        await Promise.all([
          import('../service/service.ts'),
          import('../core/paths.ts'),
          import('../core/rules.ts'),
          import('../core/logger.ts'),
        ]);
      configureCliLogger(io.stderr, global.verbose ? 'debug' : 'warn');
      const dataDir = resolveDataDir(global.dataDir, io.env);
      log().debug(`data directory ${dataDir}`);
      // Browser mode asks before trusting a new host key (the UI shows the fingerprint); the CLI accepts
      // new keys like OpenSSH's accept-new.
      host = new CroniumService({
        dataDir,
        unknownHostKeys: serving ? 'ask' : 'accept-new',
        appMode: 'web',
        runtimePort: runtimePortFromEnv(io.env),
      });
      ctx.done(await fn(host, ...args));
    } catch (err) {
      const { toErrorValue } = await import('../core/errors.ts');
      const error = toErrorValue(err);
      if (global.json) io.stderr.write(JSON.stringify({ error }) + '\n');
      else {
        io.stderr.write(`cronium: ${inUserWords(error.message)}\n`);
        if (error.fields && Object.keys(error.fields).length > 1)
          for (const [f, m] of Object.entries(error.fields))
            io.stderr.write(`  ${OPTION_NAMES[f] ?? f}: ${m}\n`);
      }
      ctx.done(await exitCodeFor(error.kind));
    } finally {
      await host?.close();
    }
  };
}
