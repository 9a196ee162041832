/** The CLI's outputs and inputs, in one place every command module shares (no module imports main.ts). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a command reads and writes; tests pass their own streams to `main(argv, io)`. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  readStdin: () => string;
  env: NodeJS.ProcessEnv;
  /** Set by main(): aborted once stdout or stderr can no longer be written (the reader went away). */
  outputClosed?: AbortSignal;
  /**
   * The directory relative paths (`--file`, `--key`) are resolved against: the caller's working directory.
   * Defaults to process.cwd().
   */
  cwd?: string;
  /**
   * Ends the process at once with this exit code: set only for the process's own streams (defaultIo), so
   * that a command whose result is stored can end without the graceful close (see action()'s
   * `endEarly`). Tests that call main() with streams of their own leave it out.
   */
  exit?: (code: number) => void;
}

/** The options every command takes (declared once on the root command). */
export interface GlobalOptions {
  dataDir?: string;
  /** --database-url: a shared PostgreSQL store (read through databaseUrl() in context.ts, with its env). */
  databaseUrl?: string;
  json?: boolean;
  verbose?: boolean;
}

/**
 * Exit code when a reader closes the CLI's output early (`cronium show ID --json | head -c 300`): what a
 * shell reports for coreutils killed by SIGPIPE (128 + 13). Node ignores SIGPIPE, so the CLI exits quietly
 * with this code itself; a `run` is cancelled first (its remote processes end, as on Ctrl-C).
 */
export const CLOSED_OUTPUT_EXIT = 141;

/** The exit code for a failed write to stdout or stderr: EPIPE as SIGPIPE would give, else 1. */
export function outputErrorExit(err: unknown): number {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE' ? CLOSED_OUTPUT_EXIT : 1;
}

/**
 * Handles write errors on the CLI's outputs (an unhandled 'error' event would print a stack trace): the
 * returned signal aborts with the first error as its reason. EPIPE stays quiet; another error (a full disk
 * behind stdout) is said once on stderr.
 */
export function watchOutputs(io: CliIo): AbortSignal {
  const controller = new AbortController();
  for (const stream of [io.stdout, io.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (controller.signal.aborted) return;
      controller.abort(err);
      if (err.code !== 'EPIPE' && stream !== io.stderr)
        io.stderr.write(`cronium: cannot write the output: ${err.message}\n`);
    });
  }
  return controller.signal;
}

/**
 * The directory the user typed the command in: `npm run cronium` runs in the package's directory and says
 * where it was started in INIT_CWD; otherwise the process's own.
 */
export function callerDir(env: NodeJS.ProcessEnv): string {
  return env.npm_lifecycle_event === 'cronium' && env.INIT_CWD ? env.INIT_CWD : process.cwd();
}

/** The process's own streams, stdin and environment. */
export const defaultIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin: () => readFileSync(0, 'utf8'),
  env: process.env,
  cwd: callerDir(process.env),
  exit: (code) => process.exit(code),
};

/** Resolves once everything written to `stream` so far has been handed to the system (or it failed). */
export function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}

/** Prints `json` (with --json) or the text form, and returns exit code 0. */
export function out(io: CliIo, global: GlobalOptions, json: unknown, text: () => string): number {
  io.stdout.write(global.json ? JSON.stringify(json, null, 2) + '\n' : text());
  return 0;
}

/**
 * The directory holding this package's package.json: found from this module's own place, which differs
 * between the sources (src/cli/) and the bundle (out/cli/ or out/app/).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}
