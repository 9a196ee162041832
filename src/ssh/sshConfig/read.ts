/** Reading ssh_config files: the parsed items of a file with everything it includes. */
import { existsSync, globSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import SSHConfig, { type Line, LineType } from 'ssh-config';

import { expandEnv, expandTilde, expandTokens, localTokens, type SshConfigContext } from './tokens.ts';

/** One directive as read: its keyword in lower case and its arguments (quotes removed). */
export interface Directive {
  kind: 'directive';
  key: string;
  args: string[];
  file: string;
}

/** A Host or Match line and the lines under it. */
export interface Section {
  kind: 'host' | 'match';
  args: string[];
  body: Item[];
  file: string;
}

/** An Include line: the files it names, already read (each a list of items). */
export interface Include {
  kind: 'include';
  files: { path: string; items: Item[] }[];
}

export type Item = Directive | Section | Include;

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
export const ACCUMULATING = new Set(['identityfile']);

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
