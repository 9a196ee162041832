/**
 * The one logger (pino) of the core, the CLI, browser mode and the desktop app. Until a client configures
 * it, it logs nothing. The CLI logs to stderr as plain lines ("cronium: …"; warnings and errors, debug too
 * with -v/--verbose); the desktop app and `cronium serve` log to a rotating file in the data directory
 * (logs/cronium.N.log, 10 MB each, the last 5 kept). Secret-looking fields are redacted, and nothing logs a
 * secret's value in the first place.
 */
import { join } from 'node:path';

import pino, { type Level, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Fields never written to a log, wherever they appear one level deep. */
const REDACT = [
  'password',
  'passphrase',
  'token',
  'secret',
  'value',
  '*.password',
  '*.passphrase',
  '*.token',
  '*.secret',
];

let current: Logger = pino({ level: 'silent' });

/**
 * The process's logger. Call it at the moment of logging (`log().warn(…)`), not once at import, so a
 * client's configuration applies.
 */
export function log(): Logger {
  return current;
}

/** Sets the process's logger (tests; clients use the configure functions). */
export function setLogger(logger: Logger): void {
  current = logger;
}

/**
 * CLI logging: each record as one line on `stderr`, "cronium: <message>" for warnings and errors,
 * "cronium: debug: <message>" below that, with an error's message appended.
 */
export function configureCliLogger(stderr: NodeJS.WritableStream, level: Level): Logger {
  const lines = {
    write(record: string): void {
      const {
        level: n,
        msg,
        err,
      } = JSON.parse(record) as { level: number; msg?: string; err?: { message?: string } };
      const label = n >= 40 ? '' : `${pino.levels.labels[n] ?? 'debug'}: `;
      stderr.write(`cronium: ${label}${msg ?? ''}${err?.message ? `: ${err.message}` : ''}\n`);
    },
  };
  current = pino({ level, base: null, timestamp: false, redact: REDACT }, lines);
  return current;
}

/**
 * Logs to a stream as JSON lines, one per record, with time and level (`cronium daemon` on stdout, where a
 * service manager such as systemd's journal collects it).
 */
export function configureStreamLogger(stream: NodeJS.WritableStream, level: Level): Logger {
  current = pino({ level, redact: REDACT }, stream);
  return current;
}

/** Options of the rotating log file. */
export interface FileLogOptions {
  /** The data directory; the log goes to `<dataDir>/logs/cronium.N.log`. */
  dataDir: string;
  level?: Level;
  /** Bytes or a size such as "10m" before the file rotates (default 10 MB). */
  size?: string | number;
  /** Rotated files kept beside the current one (default 5). */
  keep?: number;
}

/**
 * Logs to a rotating file in the data directory (desktop app, browser mode): JSON lines, one per record,
 * with time and level. Resolves once the file is open; throws when the directory cannot be created.
 */
export async function configureFileLogger(options: FileLogOptions): Promise<Logger> {
  const { default: roll } = await import('pino-roll');
  const stream = await roll({
    file: join(options.dataDir, 'logs', 'cronium'),
    extension: '.log',
    size: options.size ?? '10m',
    limit: { count: options.keep ?? 5 },
    mkdir: true,
  });
  current = pino({ level: options.level ?? 'info', redact: REDACT }, stream);
  return current;
}

/** Writes what is buffered and stops writing to the log file (before the process exits). */
export function closeLogger(): void {
  current.flush();
  current = pino({ level: 'silent' });
}
