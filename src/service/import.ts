/**
 * Importing servers from OpenSSH's own files: ~/.ssh/config (resolved as `ssh` would, src/ssh/sshConfig.ts)
 * becomes saved servers (each ProxyJump hop a saved server, chained by jump server), and known_hosts
 * (src/ssh/knownHostsFile.ts) becomes trusted host keys, so an imported host connects without asking.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { type ImportedServer, type ImportPlan, importRequestSchema, parseInput } from '../contract.ts';
import { invalidInput } from '../core/errors.ts';
import { normalizeHost, username as usernameRule } from '../core/rules.ts';
import {
  hostKeyFor,
  readKnownHostsFiles,
  revokedKeysFor,
  type KnownHostsEntry,
} from '../ssh/knownHostsFile.ts';
import {
  configAliases,
  expandTilde,
  type JumpHop,
  matchPatternList,
  parseProxyJump,
  parseSshConfig,
  readSshConfig,
  resolveSshHost,
  type SshConfigContext,
  type SshConfigFile,
} from '../ssh/sshConfig.ts';
import type { Sql } from '../store/sql.ts';
import type { KnownHostRepo } from '../store/knownHostRepo.ts';
import {
  DEFAULT_IDENTITIES,
  defaultContext,
  hopText,
  identity,
  MAX_JUMP_DEPTH,
  nameFor,
  type Spec,
  Unimportable,
} from './importSpecs.ts';
import { checkPrivateKey } from './serverAuth.ts';
import { writeImport } from './importWriter.ts';
import type { ServerService } from './servers.ts';

export interface ImportServiceDeps {
  db: Sql;
  servers: ServerService;
  knownHosts: KnownHostRepo;
  /** The SSH agent's socket now (undefined: none running). */
  agentSocket: () => string | undefined;
  /** The local user and machine (tests give their own); default: this process's. */
  context?: () => SshConfigContext;
}

export class ImportService {
  private readonly deps: ImportServiceDeps;
  /**
   * For the import under way: the config's aliases (lower case), each key file's check, and the
   * known_hosts files' entries (each file read once per import).
   */
  private aliases = new Set<string>();
  private keyChecks = new Map<string, string | null>();
  private readKnown: (files: string[]) => KnownHostsEntry[] = (files) => readKnownHostsFiles(files).entries;

  constructor(deps: ImportServiceDeps) {
    this.deps = deps;
  }

  /**
   * Plans the import and, unless `dryRun`, carries it out in one transaction.
   * @throws CroniumError invalid_input for a bad request, or an ssh_config path that cannot be read.
   */
  async run(request: unknown): Promise<ImportPlan> {
    const req = parseInput(importRequestSchema, request);
    const ctx = (this.deps.context ?? defaultContext)();
    // `~/…` as typed in the app's dialog; the CLI has made relative paths absolute already.
    const path = (p: string) => resolve(expandTilde(p, ctx.home));
    const configPath = req.sshConfig ? path(req.sshConfig) : join(ctx.home, '.ssh', 'config');
    let config: SshConfigFile;
    let configRead: string | null = configPath;
    try {
      config = readSshConfig(configPath, ctx);
    } catch (err) {
      if (req.sshConfig || (err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw invalidInput({ sshConfig: `cannot read ${configPath}: ${(err as Error).message}` });
      config = parseSshConfig('', configPath, ctx);
      configRead = null;
    }
    const explicitKnownHosts = req.knownHosts?.map(path);
    const knownHostsCache = new Map<string, KnownHostsEntry[]>();
    const notes = [...config.notes];
    const readKnown = (files: string[]) =>
      files.flatMap((f) => {
        let entries = knownHostsCache.get(f);
        if (!entries) {
          const read = readKnownHostsFiles([f]);
          notes.push(...read.notes);
          entries = read.entries;
          knownHostsCache.set(f, entries);
        }
        return entries;
      });
    this.readKnown = readKnown;
    if (explicitKnownHosts)
      for (const f of explicitKnownHosts)
        if (!existsSync(f)) throw invalidInput({ knownHosts: `cannot read ${f}: no such file` });

    const allAliases = configAliases(config);
    this.aliases = new Set(allAliases.map((a) => a.toLowerCase()));
    this.keyChecks = new Map();
    const aliases = allAliases.filter(
      (a) => !req.only.length || req.only.some((pattern) => matchPatternList(a, pattern)),
    );
    const skipped: ImportPlan['skipped'] = [];
    const specs = new Map<string, Spec>();
    for (const alias of aliases) {
      try {
        specs.set(alias, this.specOf(config, ctx, alias, {}, undefined, [], explicitKnownHosts));
      } catch (err) {
        if (!(err instanceof Unimportable)) throw err;
        skipped.push({ name: alias, reason: err.message });
      }
    }

    // Names: each alias its own; a hop the same spec as an alias takes the alias's name, else a new one.
    const named = new Map<string, string>(); // identity → name
    // A hop that names a Host alias is that alias's server, even when another alias has the same address.
    const aliasNames = new Map<string, string>(); // alias (lower case) → name
    const taken = new Set<string>();
    const entries: { name: string; spec: Spec; hop: boolean }[] = [];
    for (const [alias, spec] of specs) {
      const name = nameFor(alias);
      if (!name || taken.has(name.toLowerCase())) {
        skipped.push({
          name: alias,
          reason: name ? `another Host alias is also saved as "${name}"` : 'no usable server name in it',
        });
        specs.delete(alias);
        continue;
      }
      taken.add(name.toLowerCase());
      if (!named.has(identity(spec))) named.set(identity(spec), name);
      aliasNames.set(alias.toLowerCase(), name);
      entries.push({ name, spec, hop: false });
    }
    const nameOf = (spec: Spec): string => {
      const ofAlias = spec.alias ? aliasNames.get(spec.alias.toLowerCase()) : undefined;
      if (ofAlias) return ofAlias;
      const id = identity(spec);
      const known = named.get(id);
      if (known) return known;
      const base = nameFor(spec.alias ?? spec.host) ?? 'jump';
      const jumpName = spec.jump ? nameOf(spec.jump) : null;
      const candidates = [base, ...(jumpName ? [`${base}-via-${jumpName}`] : [])];
      let name = candidates.find((c) => !taken.has(c.toLowerCase()));
      for (let i = 2; !name; i++) if (!taken.has(`${base}-${i}`.toLowerCase())) name = `${base}-${i}`;
      taken.add(name.toLowerCase());
      named.set(id, name);
      entries.push({ name, spec, hop: true });
      return name;
    };
    for (const { spec } of [...entries]) for (let j = spec.jump; j; j = j.jump) nameOf(j);

    // Selection: what was asked for (all by default), and every hop those need.
    const byName = new Map(entries.map((e) => [e.name.toLowerCase(), e]));
    if (req.select)
      for (const s of req.select)
        if (!byName.has(s.toLowerCase()))
          throw invalidInput({ select: `"${s}" is not among the hosts found` });
    const requiredBy = new Map<string, Set<string>>();
    for (const e of entries)
      for (let j = e.spec.jump, by = e.name; j; by = nameOf(j), j = j.jump) {
        const n = nameOf(j);
        if (!requiredBy.has(n)) requiredBy.set(n, new Set());
        requiredBy.get(n)!.add(by);
      }
    const chosen = new Set<string>();
    for (const e of entries) {
      const wanted = req.select ? req.select.some((s) => s.toLowerCase() === e.name.toLowerCase()) : !e.hop;
      if (!wanted) continue;
      chosen.add(e.name);
      for (let j = e.spec.jump; j; j = j.jump) chosen.add(nameOf(j));
    }

    const servers: ImportedServer[] = [];
    for (const { name, spec, hop } of entries) {
      const existing = await this.deps.servers.refs.byName(name);
      const jump = spec.jump ? nameOf(spec.jump) : null;
      const existingJump = existing?.jumpServerId
        ? ((await this.deps.servers.refs.byId(existing.jumpServerId))?.name ?? null)
        : null;
      const same =
        existing &&
        existing.host === spec.host &&
        existing.port === spec.port &&
        existing.username === spec.username &&
        existing.authType === spec.auth.type &&
        (spec.auth.type !== 'key' || existing.keyPath === spec.auth.keyPath) &&
        (existingJump?.toLowerCase() ?? null) === (jump?.toLowerCase() ?? null);
      const key = hostKeyFor(readKnown(spec.knownHostsFiles), spec.lookupHost, spec.port);
      const trusted = await this.deps.knownHosts.get(spec.host, spec.port);
      const noteKeys = [...spec.notes];
      if (key && key.others)
        noteKeys.push(
          `known_hosts has ${key.others + 1} keys for it; the ${key.keyType} key is trusted (asked for first)`,
        );
      servers.push({
        name,
        source: spec.source,
        action: !existing ? 'create' : same ? 'unchanged' : 'update',
        host: spec.host,
        port: spec.port,
        username: spec.username,
        authType: spec.auth.type,
        keyPath: spec.auth.type === 'key' ? spec.auth.keyPath : null,
        jump,
        hostKey: key
          ? {
              keyType: key.keyType,
              fingerprint: key.fingerprint,
              status: !trusted ? 'new' : trusted.fingerprint === key.fingerprint ? 'trusted' : 'differs',
            }
          : null,
        hop,
        requiredBy: [...(requiredBy.get(name) ?? [])],
        selected: chosen.has(name),
        notes: noteKeys,
      });
    }
    for (const s of servers)
      if (s.hostKey?.status === 'differs')
        s.notes.push(
          `known_hosts has another key (${s.hostKey.fingerprint}) than the one trusted here for ${s.host}:${s.port}; the trusted one is kept`,
        );

    const plan: ImportPlan = {
      sshConfig: configRead,
      knownHosts: [...knownHostsCache.keys()].filter((f) => existsSync(f)),
      servers,
      skipped,
      notes: [...new Set(notes)],
      applied: false,
    };
    if (req.dryRun) return plan;
    await writeImport(this.deps, plan);
    return { ...plan, applied: true };
  }

  /**
   * The spec of one host: its resolved settings, login, jump chain and known_hosts files.
   * @param forcedJump for a hop after the first of a ProxyJump list: the hop before it (its own ProxyJump
   * is not used, as `ssh -J a,b` passes `-J a` to the ssh that reaches b).
   * @throws Unimportable with the reason.
   */
  private specOf(
    config: SshConfigFile,
    ctx: SshConfigContext,
    alias: string,
    overrides: { user?: string; port?: number },
    forcedJump: Spec | null | undefined,
    chain: string[],
    explicitKnownHosts: string[] | undefined,
  ): Spec {
    if (chain.length > MAX_JUMP_DEPTH || chain.includes(alias.toLowerCase()))
      throw new Unimportable(`its ProxyJump chain loops or is too long (${[...chain, alias].join(' → ')})`);
    const r = resolveSshHost(config, alias, ctx, overrides);
    if (r.problems.length) throw new Unimportable(r.problems.join('; '));
    if (r.proxyCommand)
      throw new Unimportable(
        `ProxyCommand is not supported (the app connects with its own SSH client, not a command); use ProxyJump instead`,
      );
    const host = normalizeHost(r.hostName);
    if ('error' in host) throw new Unimportable(`HostName "${r.hostName}": ${host.error}`);
    const user = usernameRule.safeParse(r.user);
    if (!user.success) throw new Unimportable(`User "${r.user}": ${user.error.issues[0]!.message}`);
    const notes = [...r.notes];
    const auth = this.authOf(r.identityFiles, r.identitiesOnly, ctx, notes);

    let jump: Spec | null = null;
    if (forcedJump !== undefined) jump = forcedJump;
    else if (r.proxyJump) {
      let hops: JumpHop[];
      try {
        hops = parseProxyJump(r.proxyJump);
      } catch (err) {
        throw new Unimportable((err as Error).message);
      }
      const inner = [...chain, alias.toLowerCase()];
      for (const [i, hop] of hops.entries()) {
        let hopSpec: Spec;
        try {
          hopSpec = this.specOf(
            config,
            ctx,
            hop.host,
            { user: hop.user, port: hop.port },
            i === 0 ? undefined : jump,
            inner,
            explicitKnownHosts,
          );
        } catch (err) {
          if (!(err instanceof Unimportable)) throw err;
          throw new Unimportable(`its jump host ${hopText(hop)}: ${err.message}`);
        }
        hopSpec.source = hopText(hop);
        jump = hopSpec;
      }
    }
    const home = ctx.home;
    const knownHostsFiles = explicitKnownHosts ??
      r.userKnownHostsFiles ?? [
        join(home, '.ssh', 'known_hosts'),
        join(home, '.ssh', 'known_hosts2'),
        '/etc/ssh/ssh_known_hosts',
        '/etc/ssh/ssh_known_hosts2',
      ];
    const lookupHost = r.hostKeyAlias ?? host.host;
    // A revoked key must never be trusted on first connect: such a host is not imported (OpenSSH refuses it).
    const revoked = revokedKeysFor(this.readKnown(knownHostsFiles), lookupHost, r.port!);
    if (revoked.length)
      throw new Unimportable(
        `known_hosts marks its host key ${revoked[0]} @revoked: check the host and its known_hosts before saving it`,
      );
    return {
      source: alias,
      alias: this.aliases.has(alias.toLowerCase()) ? alias : null,
      host: host.host,
      port: r.port!,
      username: user.data,
      auth,
      jump,
      lookupHost,
      knownHostsFiles,
      notes,
    };
  }

  /**
   * The login a host gets. One key per server here: the first IdentityFile that exists and opens without
   * a passphrase; an encrypted or missing key, or none named, falls back to ssh-agent (as ssh would try
   * the agent's keys), unless IdentitiesOnly forbids the agent.
   * @throws Unimportable when IdentitiesOnly leaves no usable key.
   */
  private authOf(
    files: string[],
    identitiesOnly: boolean,
    ctx: SshConfigContext,
    notes: string[],
  ): Spec['auth'] {
    const named = files.length > 0;
    const candidates = named ? files : DEFAULT_IDENTITIES.map((f) => join(ctx.home, '.ssh', f));
    const existing = candidates.filter((f) => existsSync(f));
    const agent = this.deps.agentSocket();
    if (!named && agent && !identitiesOnly) return { type: 'agent' };
    for (const file of existing) {
      if (!this.keyChecks.has(file)) this.keyChecks.set(file, checkPrivateKey(file, undefined));
      const problem = this.keyChecks.get(file)!;
      if (!problem) {
        if (named && files.length > 1)
          notes.push(`logs in with ${file}, the first usable IdentityFile (one key per server here)`);
        return { type: 'key', keyPath: file };
      }
      notes.push(`${file}: ${problem}`);
    }
    const why = named
      ? existing.length
        ? `no IdentityFile opens without a passphrase (${existing.join(', ')})`
        : `its IdentityFile ${files.join(', ')} does not exist`
      : 'no key file found in ~/.ssh';
    if (identitiesOnly)
      throw new Unimportable(
        `IdentitiesOnly yes, and ${why}; import it after fixing that, or save it with "cronium server add --key PATH --passphrase-stdin"`,
      );
    notes.push(`${why}: logs in through ssh-agent`);
    return { type: 'agent' };
  }
}
