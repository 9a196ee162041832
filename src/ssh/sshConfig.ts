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

import { hostLineMatches, isPlainAlias, matchPatternList } from './sshConfig/patterns.ts';
import {
  ACCUMULATING,
  type Directive,
  type Item,
  type ResolvedSshHost,
  type SshConfigFile,
} from './sshConfig/read.ts';
import {
  expandEnv,
  expandTilde,
  expandTokens,
  localTokens,
  type SshConfigContext,
} from './sshConfig/tokens.ts';

export * from './sshConfig/read.ts';
export * from './sshConfig/patterns.ts';
export * from './sshConfig/tokens.ts';

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
