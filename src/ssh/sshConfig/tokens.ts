/** ssh_config(5) value expansion (TOKENS, `~`, `${NAME}`) and ProxyJump hops. */

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

export function localTokens(ctx: SshConfigContext): Record<string, string> {
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
