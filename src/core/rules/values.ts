/** Rules for the plain values: ports, names, hosts, users, secrets, env, scripts, limits, keys, JSON. */
import * as z from 'zod';

import { invalidInput } from '../errors.ts';
import { CONTROL, NUL } from './chars.ts';

/**
 * A whole number written in decimal digits (or given as a JSON number). Accepts an optional "-" (so a negative number gets the range message); refuses what `Number()` would
 * quietly accept: `1e3`, `0x16`, `" 22 "`, `22.0`, `""`. `messages.format` says what was wrong with the
 * writing; `messages.min` / `messages.max` (default: `messages.range`) what was out of range.
 */
export function decimalInt(
  min: number,
  max: number,
  messages: { format: string; range: string; min?: string; max?: string },
) {
  const { format } = messages;
  return z
    .union(
      [
        z.number(),
        z
          .string()
          .regex(/^-?[0-9]{1,15}$/, format)
          .transform(Number),
      ],
      { message: format },
    )
    .pipe(
      z
        .number({ message: format })
        .int(format)
        .min(min, messages.min ?? messages.range)
        .max(max, messages.max ?? messages.range),
    );
}

/** A TCP port: decimal 1–65535 (RFC 6335 §6; 0 is reserved and means "any" to the OS). */
export const PORT_MESSAGE = 'port must be 1–65535';
export const port = decimalInt(1, 65535, {
  format: 'port is a whole number in decimal digits, 1–65535',
  range: PORT_MESSAGE,
});

/** A port to listen on, where 0 asks the OS for any free one (CRONIUM_RUNTIME_PORT, `serve --port`). */
export const LISTEN_PORT_MESSAGE = 'port must be 0 (any free port) to 65535';
export const listenPort = decimalInt(0, 65535, {
  format: 'port is a whole number in decimal digits, 0 (any free port) to 65535',
  range: LISTEN_PORT_MESSAGE,
});

/**
 * CRONIUM_RUNTIME_PORT (unset or empty: the default). The CLI and the desktop app read it with this.
 * @throws CroniumError invalid_input naming the variable.
 */
export function runtimePortFromEnv(env: Record<string, string | undefined>): number | undefined {
  const raw = env.CRONIUM_RUNTIME_PORT;
  if (raw === undefined || raw === '') return undefined;
  return parseField(listenPort, raw, 'CRONIUM_RUNTIME_PORT');
}

/** Server and job names: shown in prefixes and tables and typed on the command line. */
export const NAME_MESSAGE = 'use letters, digits, ".", "_" or "-", starting with a letter or digit';
export const name = z
  .string()
  .trim()
  .min(1, 'name is required')
  .max(64, 'name is at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, NAME_MESSAGE);

// zod's address checks rather than node:net's: the renderer type-checks this file without Node's types.
const ipv4 = z.ipv4();
const ipv6 = z.ipv6();
const isIPv4 = (text: string) => ipv4.safeParse(text).success;
const isIPv6 = (text: string) => ipv6.safeParse(text).success;

const HOST_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const ZONE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Normalizes a host, or returns why it is not one. Accepted:
 * - a host name per RFC 1123 §2.1 (labels of letters, digits and "-", 1–63 each, 253 in all; "_" too, as
 *   resolvers accept it, RFC 2181 §11), lower-cased, one trailing dot dropped; a last label of digits only
 *   is refused (RFC 3696 §2: it would be read as an IPv4 address);
 * - an IPv4 address in dotted decimal;
 * - an IPv6 address (RFC 4291 §2.2), bare or in brackets (RFC 3986 §3.2.2), with an optional zone id
 *   (`fe80::1%eth0`, RFC 6874), stored without brackets, lower-cased.
 * Refused with its own message: `[fd00::2]:2222` and `host:22` (the port has its own field), `user@host`.
 */
export function normalizeHost(input: string): { host: string } | { error: string } {
  let text = input.trim();
  if (!text) return { error: 'host is required' };
  if (CONTROL.test(text) || /\s/.test(text)) return { error: 'a host has no spaces or control characters' };
  if (text.includes('@')) return { error: 'give the user separately, not user@host' };
  if (text.startsWith('[')) {
    const bracketed = /^\[([^\]]*)\](.*)$/.exec(text);
    if (!bracketed) return { error: 'an IPv6 address in brackets needs its closing "]"' };
    if (bracketed[2]) return { error: 'give the port in the port field, not after the address' };
    const inner = bracketed[1]!;
    if (!isIPv6WithZone(inner)) return { error: `"${inner}" is not an IPv6 address` };
    return { host: lowerAddress(inner) };
  }
  if (text.includes(':')) {
    if (isIPv6WithZone(text)) return { host: lowerAddress(text) };
    return /^[^:]+:[0-9]*$/.test(text)
      ? { error: 'give the port in the port field, not after the host' }
      : { error: `"${text}" is not an IPv6 address` };
  }
  if (isIPv4(text)) return { host: text };
  text = text.toLowerCase().replace(/\.$/, '');
  if (text.length > 253) return { error: 'a host name is at most 253 characters' };
  const labels = text.split('.');
  if (/^[0-9]+$/.test(labels[labels.length - 1]!))
    return { error: `"${text}" is not an IPv4 address (four numbers 0–255) nor a host name` };
  if (!labels.every((l) => HOST_LABEL.test(l)))
    return {
      error: 'a host name is letters, digits and "-" between dots (at most 63 each), or an IP address',
    };
  return { host: text };
}

/** Lower-cases an IPv6 address but not its zone id (an interface name, which is case-sensitive). */
function lowerAddress(text: string): string {
  const at = text.indexOf('%');
  return at < 0 ? text.toLowerCase() : text.slice(0, at).toLowerCase() + text.slice(at);
}

function isIPv6WithZone(text: string): boolean {
  const at = text.indexOf('%');
  if (at < 0) return isIPv6(text);
  return isIPv6(text.slice(0, at)) && ZONE.test(text.slice(at + 1));
}

/** A server's address: see normalizeHost. The parsed value is the normalized host. */
export const host = z.string().transform((value, ctx) => {
  const result = normalizeHost(value);
  if ('error' in result) {
    ctx.addIssue({ code: 'custom', message: result.error });
    return z.NEVER;
  }
  return result.host;
});

/**
 * The login name on the server. No system-wide standard bounds it (POSIX only names a portable character
 * set; Windows accepts `DOMAIN\user`), so: 1–64 characters, no spaces or control characters, no "@" or
 * ":" (they would make `user@host:port` ambiguous), not starting with "-".
 */
export const username = z
  .string()
  .trim()
  .min(1, 'user is required')
  .max(64, 'user is at most 64 characters')
  .refine((u) => !CONTROL.test(u) && !/[\s@:]/.test(u), 'no spaces, control characters, "@" or ":"')
  .refine((u) => !u.startsWith('-'), 'a user name does not start with "-"');

/**
 * A password or key passphrase. OpenSSH refuses passwords over 1024 characters (MAX_PASSWORD_LEN in
 * auth-passwd.c) and passes them to crypt(3)/PAM as C strings, where a NUL would end them early: a
 * password holding one could never log in.
 */
export const SECRET_MAX = 1024;
export const secret = z
  .string()
  .max(SECRET_MAX, `at most ${SECRET_MAX} characters (OpenSSH's limit)`)
  .refine((s) => !s.includes(NUL), 'a password or passphrase cannot contain a NUL character');

/** A private key file's path (PATH_MAX is 4096 on Linux; a NUL cannot be in a path). */
export const keyPath = z
  .string()
  .trim()
  .min(1, 'key file is required')
  .max(4096, 'a path is at most 4096 characters')
  .refine((p) => !p.includes(NUL), 'a path cannot contain a NUL character');

/**
 * Environment names per POSIX (Base Definitions §8.1: letters, digits and "_", not starting with a digit);
 * CRONIUM_ names are the app's own.
 */
export const envKey = z
  .string()
  .max(255, 'an environment name is at most 255 characters')
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'environment names are letters, digits and "_", not starting with a digit',
  )
  .refine((k) => !k.startsWith('CRONIUM_'), 'CRONIUM_ names are reserved');

/**
 * An environment value: no NUL (execve(2) passes C strings), and at most 128 KiB, Linux's limit on one
 * "KEY=VALUE" string (MAX_ARG_STRLEN), past which the interpreter would not start.
 */
export const ENV_VALUE_MAX = 128 * 1024 - 512;
export const envValue = z
  .string()
  .max(ENV_VALUE_MAX, 'an environment value is at most 127.5 KiB (the OS limit for one variable)')
  .refine((v) => !v.includes(NUL), 'an environment value cannot contain a NUL character');

/** A job's script: not empty, at most 1 MB, no NUL (bash drops it, python3 and node refuse the file). */
export const script = z
  .string()
  .min(1, 'script is empty')
  .max(1_000_000, 'script is over 1 MB')
  .refine((s) => !s.includes(NUL), 'a script cannot contain a NUL character');

/** Seconds a job may run: 1 second to 7 days. */
export const timeoutSec = decimalInt(1, 7 * 24 * 3600, {
  format: 'timeout is a whole number of seconds in decimal digits',
  range: 'timeout is 1 second to 7 days',
  min: 'timeout must be at least 1 second',
  max: 'timeout is at most 7 days',
});

/** Servers a run works on at once. */
export const concurrency = decimalInt(1, 500, {
  format: 'concurrency is a whole number in decimal digits',
  range: 'concurrency must be 1–500',
});

/** How many history rows a page holds. */
export const pageLimit = decimalInt(1, 1000, {
  format: 'limit is a whole number in decimal digits',
  range: 'limit must be 1–1000',
});

/** Tags: short labels, no control characters. */
export const tags = z
  .array(
    z
      .string()
      .trim()
      .min(1, 'a tag is not empty')
      .max(40, 'a tag is at most 40 characters')
      .refine((t) => !CONTROL.test(t), 'a tag has no control characters'),
  )
  .max(20, 'at most 20 tags')
  .default([]);

/** Free text shown beside a server (newlines and tabs allowed, other control characters not). */
export const description = z
  .string()
  .max(2000, 'a description is at most 2000 characters')
  // eslint-disable-next-line no-control-regex -- control characters other than tab and newline
  .refine((d) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(d), 'no control characters')
  .default('');

/**
 * Shared variable keys: 1–100 characters of letters, digits, ".", "_", "-" and ":". Bundled mode names a
 * file on the server by the key's hex (`.cronium.var.<hex>.json`), so 100 ASCII characters make a name of
 * 218 bytes, within the 255 bytes every common file system allows (ext4, XFS, APFS, NTFS).
 */
export const VARIABLE_KEY_MAX = 100;
export const VARIABLE_KEY_MESSAGE = `a key is 1–${VARIABLE_KEY_MAX} letters, digits, ".", "_", "-" or ":"`;
/**
 * The key rule as one regular expression, written so that JavaScript, Python's `re` and POSIX ERE (Bash's
 * `[[ =~ ]]`, under LC_ALL=C) read it alike: the helpers get it through CRONIUM_KEY_PATTERN
 * (src/runtime/helperRules.ts) and check a key before anything is written or sent.
 */
export const VARIABLE_KEY_PATTERN = `^[A-Za-z0-9._:-]{1,${VARIABLE_KEY_MAX}}$`;
export const variableKey = z
  .string()
  .min(1, VARIABLE_KEY_MESSAGE)
  .max(VARIABLE_KEY_MAX, VARIABLE_KEY_MESSAGE)
  .regex(new RegExp(VARIABLE_KEY_PATTERN), VARIABLE_KEY_MESSAGE);

/**
 * A field of a script's output set on its own (Bash `cronium.output <key> <value>`, the runtime's
 * `POST output?key=`, bundled mode's per-field files): the variable key rule, and not one of the names
 * that would reach an object's prototype when a reader copies the output into a plain object.
 */
export const RESERVED_FIELD_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
export const FIELD_KEY_RESERVED_MESSAGE = 'a field key is not __proto__, constructor or prototype';
export const outputFieldKey = variableKey.refine(
  (k) => !(RESERVED_FIELD_KEYS as readonly string[]).includes(k),
  FIELD_KEY_RESERVED_MESSAGE,
);

/**
 * JSON values (a run's input, a variable's value): at most 1 MiB once serialized, the runtime API's body
 * limit, so whatever is stored can also be read and written back by a script.
 */
export const JSON_VALUE_MAX = 1024 * 1024;
export const jsonValue = z.unknown().superRefine((value, ctx) => {
  if (value === undefined) return;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a JSON value' });
    return;
  }
  if (text !== undefined && new TextEncoder().encode(text).length > JSON_VALUE_MAX)
    ctx.addIssue({ code: 'custom', message: 'over 1 MiB as JSON' });
});

/**
 * Parses one value with its rule. @throws CroniumError invalid_input `{ [field]: the rule's message }`.
 */
export function parseField<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalidInput({ [field]: parsed.error.issues[0]?.message ?? 'invalid' });
}

/** `host:port` for display, with an IPv6 address in brackets (RFC 3986 §3.2.2) so the port stays apart. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
