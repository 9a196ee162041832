/**
 * OpenSSH client configuration (ssh_config(5)) as `ssh` itself reads it, for importing saved servers. The
 * npm `ssh-config` package parses the text (quoting, `=` separators, Host/Match sections); the resolution
 * on top follows OpenSSH's readconf.c:
 * - `Include` (several paths, glob(7) patterns sorted, relative paths under ~/.ssh, `~`, `${ENV}` and
 *   %-tokens, nested up to 16 deep); an Include inside a Host/Match block applies only when the block does,
 *   and an included file starts out active;
 * - for each setting the first value obtained wins, except IdentityFile (all values, in order);
 * - `Host` pattern lists (`*`, `?`, `!negation`: one negated match rules the block out), case-insensitive;
 * - `Match all`, `host`, `originalhost`, `user`, `localuser` (each may be negated with `!`); other criteria
 *   (`exec` is never run, `canonical`, `final`, `localnetwork`, `tagged`, …) make the block not apply, and
 *   are reported;
 * - %-tokens (ssh_config(5) TOKENS) in HostName (`%h`, `%%`) and IdentityFile/UserKnownHostsFile
 *   (`%C %d %h %i %j %k %L %l %n %p %r %u %%`), and `~`.
 * Servers are the names on Host lines without wildcards or negation; wildcard-only entries supply defaults.
 */
import { createHash } from 'node:crypto';
import { existsSync, globSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

import SSHConfig, { LineType, type Line } from 'ssh-config';

/** Who and where the configuration is read for: the values of `~` and the local %-tokens. */
export interface SshConfigContext {
  /** The local user's home directory (`~`, `%d`). */
  home: string;
  /** The local user's name (`%u`, the default User). */
  localUser: string;
  /** This machine's host name (`%l`; `%L` is its first label). */
  localHost: string;
  /** The local user's numeric id (`%i`). */
  uid: number;
  /** The environment `${NAME}` references read. */
  env: Record<string, string | undefined>;
}

/** One directive as read: its keyword in lower case and its arguments (quotes removed). */
interface Directive {
  kind: 'directive';
  key: string;
  args: string[];
  file: string;
}

/** A Host or Match line and the lines under it. */
interface Section {
  kind: 'host' | 'match';
  args: string[];
  body: Item[];
  file: string;
}

/** An Include line: the files it names, already read (each a list of items). */
interface Include {
  kind: 'include';
  files: { path: string; items: Item[] }[];
}

type Item = Directive | Section | Include;

/** A configuration file read with everything it includes. */
export interface SshConfigFile {
  path: string;
  items: Item[];
  /** Problems met while reading: an unreadable include, too deep a nesting. */
  notes: string[];
}

/** The settings OpenSSH would use to connect to one Host alias (only those an import needs). */
export interface ResolvedSshHost {
  /** The name as written on the Host line (what `ssh ALIAS` is typed with). */
  alias: string;
  /** HostName with its tokens expanded, else the alias. */
  hostName: string;
  /** User, else the local user. */
  user: string;
  /** Port, else 22; null when the value is not a port (see `problems`). */
  port: number | null;
  /** Every IdentityFile, in order, `~` and tokens expanded. */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** The ProxyJump value (hops separated by commas), null when none or `none`. */
  proxyJump: string | null;
  /** The ProxyCommand, null when none or `none`. */
  proxyCommand: string | null;
  /** HostKeyAlias: the name looked up in known_hosts instead of the host name. */
  hostKeyAlias: string | null;
  /** UserKnownHostsFile paths, expanded; null when not set (the defaults apply). */
  userKnownHostsFiles: string[] | null;
  /** Parts of the configuration that were not applied, and why (Match criteria, unknown tokens). */
  notes: string[];
  /** Values that make the host unusable (a bad Port, an unknown %-token). */
  problems: string[];
}

/** OpenSSH's limit on nested Include (READCONF_MAX_DEPTH). */
const MAX_INCLUDE_DEPTH = 16;

/** The settings kept from a directive: first value wins, except those listed as accumulating. */
const ACCUMULATING = new Set(['identityfile']);

/** Reads a configuration file and every file it includes (a missing top file is an error). */
export function readSshConfig(path: string, ctx: SshConfigContext): SshConfigFile {
  const text = readFileSync(path, 'utf8');
  const notes: string[] = [];
  return { path, items: parseItems(text, path, ctx, notes, 0), notes };
}

/** Parses configuration text (for tests and for files already read). */
export function parseSshConfig(text: string, path: string, ctx: SshConfigContext): SshConfigFile {
  const notes: string[] = [];
  return { path, items: parseItems(text, path, ctx, notes, 0), notes };
}

function argsOf(line: { value: unknown }): string[] {
  const { value } = line;
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value)) return (value as { val: string }[]).map((v) => v.val);
  return [];
}

function parseItems(text: string, file: string, ctx: SshConfigContext, notes: string[], depth: number) {
  const parsed = SSHConfig.parse(text);
  const convert = (lines: Line[]): Item[] => {
    const items: Item[] = [];
    for (const line of lines) {
      if (line.type !== LineType.DIRECTIVE) continue;
      const key = line.param.toLowerCase();
      const args = argsOf(line);
      if ('config' in line && (key === 'host' || key === 'match')) {
        items.push({ kind: key, args, body: convert(line.config), file });
      } else if (key === 'include') {
        items.push({ kind: 'include', files: readIncludes(args, ctx, notes, depth + 1) });
      } else {
        items.push({ kind: 'directive', key, args, file });
      }
    }
    return items;
  };
  return convert(parsed);
}

function readIncludes(
  patterns: string[],
  ctx: SshConfigContext,
  notes: string[],
  depth: number,
): Include['files'] {
  if (depth > MAX_INCLUDE_DEPTH) {
    notes.push(`Include nested more than ${MAX_INCLUDE_DEPTH} deep was not read.`);
    return [];
  }
  const files: Include['files'] = [];
  for (const pattern of patterns) {
    let expanded = expandTilde(expandEnv(pattern, ctx.env), ctx.home);
    expanded = expandTokens(expanded, localTokens(ctx)).text;
    // ssh_config(5): "Files without absolute paths are assumed to be in ~/.ssh" (for a user configuration).
    if (!isAbsolute(expanded)) expanded = join(ctx.home, '.ssh', expanded);
    // glob(3) returns its matches sorted; a pattern that matches nothing is not an error.
    const matches = /[*?[]/.test(expanded)
      ? globSync(expanded).sort()
      : existsSync(expanded)
        ? [expanded]
        : [];
    for (const match of matches) {
      try {
        files.push({ path: match, items: parseItems(readFileSync(match, 'utf8'), match, ctx, notes, depth) });
      } catch (err) {
        notes.push(`Include ${match} could not be read: ${(err as Error).message}.`);
      }
    }
  }
  return files;
}

/**
 * OpenSSH's match_pattern: `*` any run of characters, `?` exactly one; compared without case (host names).
 */
export function matchPattern(text: string, pattern: string): boolean {
  let re = PATTERNS.get(pattern);
  if (!re) {
    const source = pattern
      .toLowerCase()
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${source}$`, 's');
    // A config has a few hundred patterns at most; a bound keeps a long-lived process's cache small.
    if (PATTERNS.size > 10_000) PATTERNS.clear();
    PATTERNS.set(pattern, re);
  }
  return re.test(text.toLowerCase());
}

/** Compiled patterns: each host of a config is matched against every Host line. */
const PATTERNS = new Map<string, RegExp>();

/**
 * OpenSSH's match_pattern_list: a comma-separated list of patterns, each maybe negated with `!`. True when
 * some pattern matches and no negated one does.
 */
export function matchPatternList(text: string, list: string): boolean {
  let matched = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (!matchPattern(text, pattern)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** Whether a Host line's patterns (each its own argument) select `alias`. */
export function hostLineMatches(patterns: string[], alias: string): boolean {
  return matchPatternList(alias, patterns.join(','));
}

/** True for a Host pattern that names one host (no wildcard, no negation): an importable alias. */
export function isPlainAlias(pattern: string): boolean {
  return !/[*?!]/.test(pattern) && pattern.length > 0;
}

/**
 * The aliases a configuration defines, in the order they first appear (Host lines of every file read,
 * conditional Includes too); wildcard and negated patterns are not aliases.
 */
export function configAliases(config: SshConfigFile): string[] {
  const seen = new Map<string, string>();
  const walk = (items: Item[]) => {
    for (const item of items) {
      if (item.kind === 'host') {
        for (const pattern of item.args)
          if (isPlainAlias(pattern) && !seen.has(pattern.toLowerCase()))
            seen.set(pattern.toLowerCase(), pattern);
        walk(item.body);
      } else if (item.kind === 'match') walk(item.body);
      else if (item.kind === 'include') for (const f of item.files) walk(f.items);
    }
  };
  walk(config.items);
  return [...seen.values()];
}

/** Resolution state: the first value of each setting, every IdentityFile. */
interface Settings {
  values: Map<string, string[]>;
  identityFiles: string[];
  /** Which of ProxyJump / ProxyCommand came first: the other is then ignored (ssh_config(5)). */
  proxy: 'proxyjump' | 'proxycommand' | null;
}

/**
 * The settings OpenSSH would use for `ssh ALIAS`.
 * @param overrides what the command line would give (a ProxyJump hop's `user@` and `:port`): these win
 * over the file, as `-l` and `-p` do.
 */
export function resolveSshHost(
  config: SshConfigFile,
  alias: string,
  ctx: SshConfigContext,
  overrides: { user?: string; port?: number } = {},
): ResolvedSshHost {
  const settings: Settings = { values: new Map(), identityFiles: [], proxy: null };
  const notes: string[] = [];
  const problems: string[] = [];
  const host = alias.toLowerCase();

  const currentHostName = () => {
    const value = settings.values.get('hostname')?.[0];
    return value ? expandTokens(value, { h: host }).text.toLowerCase() : host;
  };
  const currentUser = () => overrides.user ?? settings.values.get('user')?.[0] ?? ctx.localUser;

  const matchApplies = (args: string[]): boolean => {
    let applies = true;
    for (let i = 0; i < args.length; i++) {
      const raw = args[i]!.toLowerCase();
      const negated = raw.startsWith('!');
      const criterion = negated ? raw.slice(1) : raw;
      if (criterion === 'all') continue;
      const arg = args[i + 1];
      let result: boolean;
      if (['host', 'originalhost', 'user', 'localuser'].includes(criterion) && arg !== undefined) {
        i++;
        const subject =
          criterion === 'host'
            ? currentHostName()
            : criterion === 'originalhost'
              ? host
              : criterion === 'user'
                ? currentUser()
                : ctx.localUser;
        result = matchPatternList(subject, arg);
      } else {
        // exec is never run (an import must not execute commands from a file); the others need what only
        // a connecting ssh knows (canonicalization, the final pass, the network, tags).
        if (['exec', 'localnetwork', 'tagged', 'version', 'sessiontype', 'command'].includes(criterion)) i++;
        notes.push(
          `Match ${criterion}${arg !== undefined && !['canonical', 'final'].includes(criterion) ? ' ' + arg : ''} is not evaluated here; that block was skipped.`,
        );
        return false;
      }
      if (negated) result = !result;
      if (!result) applies = false;
    }
    return applies;
  };

  const apply = (d: Directive) => {
    if (d.key === 'identityfile') {
      if (d.args[0]) settings.identityFiles.push(d.args[0]);
      return;
    }
    if (d.key === 'proxyjump' || d.key === 'proxycommand') {
      if (settings.proxy && settings.proxy !== d.key) return;
      settings.proxy ??= d.key;
    }
    if (ACCUMULATING.has(d.key) || settings.values.has(d.key)) return;
    settings.values.set(d.key, d.args);
  };

  const walk = (items: Item[], active: boolean, neverMatch: boolean) => {
    let on = active;
    for (const item of items) {
      if (item.kind === 'directive') {
        if (on) apply(item);
      } else if (item.kind === 'include') {
        for (const f of item.files) walk(f.items, on && !neverMatch, neverMatch || !on);
      } else {
        const applies = item.kind === 'host' ? hostLineMatches(item.args, host) : matchApplies(item.args);
        // A Host/Match line switches the rest of its file (ssh-config nests those lines under it).
        on = !neverMatch && applies;
        walk(item.body, on, neverMatch);
      }
    }
  };
  walk(config.items, true, false);

  const first = (key: string) => settings.values.get(key)?.[0];
  const hostName = currentHostName();
  const user = currentUser();
  let port: number | null = overrides.port ?? 22;
  if (overrides.port === undefined && first('port') !== undefined) {
    const text = first('port')!;
    port = /^[0-9]{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535 ? Number(text) : null;
    if (port === null) problems.push(`Port "${text}" is not a port number`);
  }
  const proxyJumpValue = settings.proxy === 'proxyjump' ? (settings.values.get('proxyjump') ?? []) : [];
  const proxyJump = proxyJumpValue.join(',');
  const proxyCommand =
    settings.proxy === 'proxycommand' ? (settings.values.get('proxycommand') ?? []).join(' ') : '';

  const tokens: Record<string, string> = {
    ...localTokens(ctx),
    h: hostName,
    n: host,
    p: String(port ?? 22),
    r: user,
    j: proxyJump.toLowerCase() === 'none' ? '' : proxyJump,
    k: first('hostkeyalias') ?? hostName,
  };
  tokens.C = createHash('sha1')
    .update(tokens.l! + tokens.h! + tokens.p! + tokens.r! + tokens.j!)
    .digest('hex');
  const expandPath = (value: string, what: string): string | null => {
    const expanded = expandTokens(expandTilde(expandEnv(value, ctx.env), ctx.home), tokens);
    if (expanded.unknown) {
      problems.push(`${what} "${value}" uses the unknown token %${expanded.unknown}`);
      return null;
    }
    return expanded.text;
  };
  const identityFiles = [...new Set(settings.identityFiles)]
    .map((f) => expandPath(f, 'IdentityFile'))
    .filter((f): f is string => f !== null);
  const knownHostsArgs = settings.values.get('userknownhostsfile');
  const userKnownHostsFiles =
    knownHostsArgs && knownHostsArgs[0]?.toLowerCase() !== 'none'
      ? knownHostsArgs.map((f) => expandPath(f, 'UserKnownHostsFile')).filter((f): f is string => f !== null)
      : knownHostsArgs
        ? []
        : null;
  const hostNameRaw = first('hostname');
  if (hostNameRaw) {
    const unknown = expandTokens(hostNameRaw, { h: host }).unknown;
    if (unknown)
      problems.push(`HostName "${hostNameRaw}" uses the token %${unknown}, which HostName does not accept`);
  }

  return {
    alias,
    hostName,
    user,
    port,
    identityFiles,
    identitiesOnly: first('identitiesonly')?.toLowerCase() === 'yes',
    proxyJump: proxyJump && proxyJump.toLowerCase() !== 'none' ? proxyJump : null,
    proxyCommand: proxyCommand && proxyCommand.toLowerCase() !== 'none' ? proxyCommand : null,
    hostKeyAlias: first('hostkeyalias') ?? null,
    userKnownHostsFiles,
    notes: [...new Set(notes)],
    problems,
  };
}

/** One ProxyJump hop: `[user@]host[:port]` or `ssh://[user@]host[:port]` (ssh_config(5) ProxyJump). */
export interface JumpHop {
  user?: string;
  host: string;
  port?: number;
}

/**
 * Splits a ProxyJump value into its hops, first hop first.
 * @throws Error naming the hop that is not `[user@]host[:port]`.
 */
export function parseProxyJump(value: string): JumpHop[] {
  return value.split(',').map((raw) => {
    const text = raw.trim().replace(/^ssh:\/\//i, '');
    const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:@[\]]+)(?::([0-9]{1,5}))?$/.exec(text);
    if (!m) throw new Error(`the ProxyJump hop "${raw.trim()}" is not [user@]host[:port]`);
    const port = m[3] === undefined ? undefined : Number(m[3]);
    if (port !== undefined && (port < 1 || port > 65535))
      throw new Error(`the ProxyJump hop "${raw.trim()}" has no valid port`);
    const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
    return { ...(m[1] ? { user: m[1] } : {}), host, ...(port !== undefined ? { port } : {}) };
  });
}

function localTokens(ctx: SshConfigContext): Record<string, string> {
  return {
    d: ctx.home,
    u: ctx.localUser,
    l: ctx.localHost,
    L: ctx.localHost.split('.')[0]!,
    i: String(ctx.uid),
  };
}

/** `%x` tokens replaced from `tokens` (`%%` is a percent sign); reports the first unknown one. */
export function expandTokens(
  text: string,
  tokens: Record<string, string>,
): { text: string; unknown?: string } {
  let unknown: string | undefined;
  const out = text.replace(/%(.)/g, (whole, ch: string) => {
    if (ch === '%') return '%';
    const value = tokens[ch];
    if (value === undefined) {
      unknown ??= ch;
      return whole;
    }
    return value;
  });
  return unknown ? { text: out, unknown } : { text: out };
}

/** `~` and `~/…` as the local user's home (OpenSSH's tilde_expand for the current user). */
export function expandTilde(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? home + path.slice(1) : path;
}

/** `${NAME}` references replaced from the environment (unset ones become empty, as in OpenSSH). */
export function expandEnv(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '');
}
