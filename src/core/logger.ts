/**
 * The one logger (pino) of the core, the CLI, browser mode and the desktop app. Until a client configures
 * it, it logs nothing. The CLI logs to stderr as plain lines ("cronium: …"; warnings and errors, debug too
 * with -v/--verbose); the desktop app and `cronium serve` log to a rotating file in the data directory
 * (logs/cronium.N.log, 10 MB each, the last 5 kept). Secret-looking fields are redacted, and nothing logs a
 * secret's value in the first place.
 *
 * pino is loaded only by the clients that write JSON (the daemon, the log file): the CLI's lines need none
 * of it, and loading it is some 10 ms of every command's start.
 */
import { join } from 'node:path';

import type { Level, LogFn, Logger } from 'pino';

export type { Logger } from 'pino';

/** What the core calls on the process's logger: pino's four levels, `(fields, message)` or `(message)`. */
export type CoreLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** pino's level numbers (pino.levels.values), for the CLI's filter and labels. */
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

const ignore: LogFn = () => {};
const SILENT: CoreLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

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

let current: CoreLogger = SILENT;

/**
 * The process's logger. Call it at the moment of logging (`log().warn(…)`), not once at import, so a
 * client's configuration applies.
 */
export function log(): CoreLogger {
  return current;
}

/** Sets the process's logger (tests; clients use the configure functions). */
export function setLogger(logger: CoreLogger): void {
  current = logger;
}

/**
 * CLI logging: each record as one line on `stderr`, "cronium: <message>" for warnings and errors,
 * "cronium: debug: <message>" below that, with an error's message appended.
 */
export function configureCliLogger(stderr: NodeJS.WritableStream, level: Level): CoreLogger {
  const min = LEVELS[level] ?? LEVELS.warn!;
  // As pino reads its arguments: an Error first is the record's err (and its message when none is given),
  // an object first holds the fields (err among them), a string is the message. Only the message and the
  // error's message are printed, so no field (nor a secret in one) ever reaches the terminal.
  const at =
    (name: string): LogFn =>
    (first: unknown, second?: unknown) => {
      if (LEVELS[name]! < min) return;
      const err = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
      const message = typeof first === 'string' ? first : typeof second === 'string' ? second : undefined;
      const errText = err instanceof Error ? err.message : undefined;
      const label = LEVELS[name]! >= LEVELS.warn! ? '' : `${name}: `;
      const text = message ?? (first instanceof Error ? errText : undefined) ?? '';
      stderr.write(`cronium: ${label}${text}${errText ? `: ${errText}` : ''}\n`);
    };
  current = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return current;
}

/**
 * Logs to a stream as JSON lines, one per record, with time and level (`cronium daemon` on stdout, where a
 * service manager such as systemd's journal collects it). Resolves once pino is loaded.
 */
export async function configureStreamLogger(stream: NodeJS.WritableStream, level: Level): Promise<Logger> {
  const { default: pino } = await import('pino');
  const logger = pino({ level, redact: REDACT }, stream);
  current = logger;
  return logger;
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
  const [{ default: pino }, { default: roll }] = await Promise.all([import('pino'), import('pino-roll')]);
  const stream = await roll({
    file: join(options.dataDir, 'logs', 'cronium'),
    extension: '.log',
    size: options.size ?? '10m',
    limit: { count: options.keep ?? 5 },
    mkdir: true,
  });
  const logger = pino({ level: options.level ?? 'info', redact: REDACT }, stream);
  current = logger;
  return logger;
}

/** Writes what is buffered and stops writing to the log file (before the process exits). */
export function closeLogger(): void {
  (current as Partial<Logger>).flush?.();
  current = SILENT;
}
