import type { ErrorKind } from './domain.ts';

export type { ErrorKind } from './domain.ts';

export interface ErrorValue {
  kind: ErrorKind;
  message: string;
  /** Per-field messages for invalid_input. */
  fields?: Record<string, string>;
  /** Extra facts, e.g. both fingerprints for host_key_mismatch. */
  details?: Record<string, string>;
}

export class CroniumError extends Error {
  readonly kind: ErrorKind;
  readonly fields?: Record<string, string>;
  readonly details?: Record<string, string>;

  constructor(
    kind: ErrorKind,
    message: string,
    extra: { fields?: Record<string, string>; details?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'CroniumError';
    this.kind = kind;
    this.fields = extra.fields;
    this.details = extra.details;
  }

  toValue(): ErrorValue {
    const value: ErrorValue = { kind: this.kind, message: this.message };
    if (this.fields) value.fields = this.fields;
    if (this.details) value.details = this.details;
    return value;
  }
}

/** Connection, authentication and host-key failures: the CLI exits 255 for these, like ssh(1). */
export const CONNECTION_KINDS: ReadonlySet<ErrorKind> = new Set([
  'auth_failed',
  'connection_refused',
  'connect_timeout',
  'dns',
  'host_key_unknown',
  'host_key_mismatch',
  'connection_lost',
]);

export function toErrorValue(err: unknown): ErrorValue {
  if (err instanceof CroniumError) return err.toValue();
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'internal', message };
}

export function invalidInput(fields: Record<string, string>): CroniumError {
  const summary = Object.entries(fields)
    .map(([field, msg]) => `${field}: ${msg}`)
    .join('; ');
  return new CroniumError('invalid_input', `Invalid input — ${summary}`, { fields });
}
