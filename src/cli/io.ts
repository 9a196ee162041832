/**
 * What every CLI command shares: the option table and the process's streams and environment. Its own
 * module so the commands need not import main.ts (which imports them).
 */
import type { parseArgs, ParseArgsConfig } from 'node:util';

/** Every option of the command line (node:util parseArgs). */
export const OPTIONS = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  host: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string' },
  key: { type: 'string' },
  'passphrase-stdin': { type: 'boolean' },
  'password-stdin': { type: 'boolean' },
  agent: { type: 'boolean' },
  jump: { type: 'string' },
  tag: { type: 'string', multiple: true },
  description: { type: 'string' },
  lang: { type: 'string' },
  file: { type: 'string' },
  script: { type: 'string' },
  timeout: { type: 'string' },
  env: { type: 'string', multiple: true },
  'secret-env': { type: 'string', multiple: true },
  helpers: { type: 'string' },
  input: { type: 'string' },
  on: { type: 'string' },
  concurrency: { type: 'string' },
  job: { type: 'string' },
  server: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  secret: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

/** The parsed options of one invocation. */
export type CliValues = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>
>['values'];

/** The process's streams and environment, replaceable in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  readStdin: () => string;
  env: NodeJS.ProcessEnv;
  /** Set by main(): aborted once stdout or stderr can no longer be written (the reader went away). */
  outputClosed?: AbortSignal;
}
