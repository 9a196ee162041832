/** Saved SSH servers: their records, logins, host keys and the checks the UI runs on them. */
import { parseInput, serverInputSchema, type ServerTestResult } from '../contract.ts';
import type { Server } from '../core/domain.ts';
import { CroniumError, invalidInput, toErrorValue } from '../core/errors.ts';
import { readOs } from '../exec/deploy.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import { ConnectionPool } from '../ssh/connectionPool.ts';
import { HostKeyVerifier, type UnknownKeyPolicy } from '../ssh/hostKeys.ts';
import type { Sql } from '../store/sql.ts';
import type { KnownHostRepo } from '../store/knownHostRepo.ts';
import { publicServer, type ServerRecord, ServerRepo, type ServerWrite } from '../store/serverRepo.ts';
import { findRef, resolveRef, writeUniqueName, type RefSource } from './refs.ts';
import { checkPrivateKey, expandHome, poolTargetOf } from './serverAuth.ts';

export interface ServerServiceDeps {
  db: Sql;
  repo: ServerRepo;
  knownHosts: KnownHostRepo;
  secrets: SecretStore;
  /** The shared pool: a server whose login or key changes loses its pooled connections. */
  pool: ConnectionPool;
  unknownHostKeys: UnknownKeyPolicy;
  readyTimeoutMs?: number;
  /** The SSH agent's socket now (undefined: none running). */
  agentSocket: () => string | undefined;
}

/** The rule for naming a server: by id or by its unique name. */
export function serverRefs(
  repo: ServerRepo,
): RefSource<ServerRecord> & { byName(name: string): Promise<ServerRecord | null> } {
  return { noun: 'server', byId: (id) => repo.get(id), byName: (name) => repo.getByName(name) };
}

export class ServerService {
  private readonly deps: ServerServiceDeps;
  readonly refs: ReturnType<typeof serverRefs>;

  constructor(deps: ServerServiceDeps) {
    this.deps = deps;
    this.refs = serverRefs(deps.repo);
  }

  /**
   * The same service with every statement on `sql` (a transaction's handle): for writes that must land
   * together with others (the import). Its pool, secrets and settings are this one's.
   */
  on(sql: Sql): ServerService {
    return new ServerService({ ...this.deps, db: sql, repo: new ServerRepo(sql) });
  }

  /**
   * Finds the data key now when one of these servers (by name) holds a sealed secret, so that a
   * transaction that updates them never waits on the store for it. Failures are left for the write.
   */
  async unlockSecrets(names: string[]): Promise<void> {
    for (const name of names) {
      const record = await this.deps.repo.getByName(name);
      if (!record?.secret) continue;
      await this.deps.secrets.decrypt(record.secret).catch(() => undefined);
      return;
    }
  }

  async list(): Promise<Server[]> {
    return (await this.deps.repo.list()).map(publicServer);
  }

  /** The servers that have `tag` (compared without case), by name. */
  async recordsTagged(tag: string): Promise<ServerRecord[]> {
    const wanted = tag.toLowerCase();
    return (await this.deps.repo.list()).filter((s) => s.tags.some((t) => t.toLowerCase() === wanted));
  }

  /** Every tag some server has, sorted. */
  async knownTags(): Promise<string[]> {
    return [...new Set((await this.deps.repo.list()).flatMap((s) => s.tags))].sort();
  }

  /**
   * The stored record a reference (id or name) names, secrets still sealed.
   * @throws CroniumError not_found.
   */
  record(ref: string): Promise<ServerRecord> {
    return resolveRef(ref, this.refs);
  }

  /** The stored record with this id, or null (it may have been removed since). */
  find(id: string): Promise<ServerRecord | null> {
    return this.deps.repo.get(id);
  }

  async get(ref: string): Promise<Server> {
    return publicServer(await this.record(ref));
  }

  async create(input: unknown): Promise<Server> {
    const data = await this.toWrite(input, null);
    return publicServer(
      await writeUniqueName(
        this.deps.db,
        'server',
        (tx) => new ServerRepo(tx),
        data.name,
        null,
        (repo) => repo.insert(data),
      ),
    );
  }

  async update(ref: string, input: unknown): Promise<Server> {
    const existing = await this.record(ref);
    const data = await this.toWrite(input, existing);
    return publicServer(
      await writeUniqueName(
        this.deps.db,
        'server',
        (tx) => new ServerRepo(tx),
        data.name,
        existing.id,
        async (repo) => {
          const updated = await repo.update(existing.id, data);
          this.deps.pool.closeServer(existing.id);
          return updated;
        },
      ),
    );
  }

  /** Drops pooled connections to a server, so the next use connects (and checks its host key) afresh. */
  async disconnect(ref: string): Promise<void> {
    this.deps.pool.closeServer((await this.record(ref)).id);
  }

  async remove(ref: string): Promise<void> {
    const server = await this.record(ref);
    const dependants = await this.deps.repo.usedAsJumpBy(server.id);
    if (dependants.length) {
      throw new CroniumError(
        'conflict',
        `${server.name} is the jump server of ${dependants.join(', ')}; change those first.`,
      );
    }
    this.deps.pool.closeServer(server.id);
    await this.deps.repo.remove(server.id);
  }

  /**
   * Connects and logs in afresh (never through a pooled connection, so a changed password, key or host key
   * shows at once), reads the OS, and records the check on the server. A server that refuses the login or
   * its host key also loses its pooled connections, so runs meet the same check on their next connection.
   */
  async test(ref: string): Promise<ServerTestResult> {
    const server = await this.record(ref);
    const started = performance.now();
    const fresh = this.oneShotPool(new HostKeyVerifier(this.deps.knownHosts, this.deps.unknownHostKeys));
    try {
      const lease = await fresh.acquire(server.id);
      try {
        const os = await readOs(lease.connection);
        await this.deps.repo.recordCheck(server.id, { online: true, os, error: null });
        return {
          online: true,
          os,
          latencyMs: Math.round(performance.now() - started),
          fingerprint: (await this.deps.knownHosts.get(server.host, server.port))?.fingerprint ?? null,
          error: null,
        };
      } finally {
        lease.release();
      }
    } catch (err) {
      const error = toErrorValue(err);
      if (['auth_failed', 'host_key_mismatch', 'host_key_unknown'].includes(error.kind))
        this.deps.pool.closeServer(server.id);
      await this.deps.repo.recordCheck(server.id, { online: false, os: null, error: error.message });
      return {
        online: false,
        os: null,
        latencyMs: null,
        fingerprint: error.details?.fingerprint ?? null,
        error: { kind: error.kind, message: error.message },
      };
    } finally {
      fresh.closeAll();
    }
  }

  /**
   * Trusts the key a server offers now (first use, or after it changed). With a fingerprint, only that key
   * is trusted: the UI passes the one it showed the user, so a key swapped in between is not.
   * @throws CroniumError host_key_mismatch when the server offers another key than `fingerprint`.
   */
  async trustHostKey(ref: string, fingerprint?: string): Promise<ServerTestResult> {
    const { knownHosts } = this.deps;
    const server = await this.record(ref);
    const previous = await knownHosts.get(server.host, server.port);
    await knownHosts.forget(server.host, server.port);
    const oneShot = this.oneShotPool(new HostKeyVerifier(knownHosts, 'accept-new'));
    try {
      const lease = await oneShot.acquire(server.id);
      lease.release();
      const trusted = await knownHosts.get(server.host, server.port);
      if (fingerprint && trusted?.fingerprint !== fingerprint) {
        await knownHosts.forget(server.host, server.port);
        if (previous)
          await knownHosts.trust(previous.host, previous.port, previous.keyType, previous.fingerprint);
        throw new CroniumError(
          'host_key_mismatch',
          `${server.name} now offers ${trusted?.fingerprint}, not the ${fingerprint} you accepted; nothing was trusted.`,
        );
      }
      return this.test(server.id);
    } catch (err) {
      if (!(await knownHosts.get(server.host, server.port)) && previous)
        await knownHosts.trust(previous.host, previous.port, previous.keyType, previous.fingerprint);
      throw err;
    } finally {
      oneShot.closeAll();
    }
  }

  /** A pool of its own for one check: every connection it makes (jump servers too) is new, and closed after. */
  private oneShotPool(hostKeys: HostKeyVerifier): ConnectionPool {
    return new ConnectionPool({
      hostKeys,
      resolve: async (id) => poolTargetOf(await this.record(id), this.deps.secrets, this.deps.agentSocket()),
      readyTimeoutMs: this.deps.readyTimeoutMs,
      idleMs: 1,
    });
  }

  /**
   * Validates a server's input and turns it into the row to write: jump server resolved, key file checked,
   * secrets sealed (a left-out password or passphrase keeps the stored one).
   * @throws CroniumError invalid_input with a message per field.
   */
  private async toWrite(input: unknown, existing: ServerRecord | null): Promise<ServerWrite> {
    const data = parseInput(serverInputSchema, input);
    let jumpServerId: string | null = null;
    if (data.jumpServerId) {
      const jump = await findRef(data.jumpServerId, this.refs);
      if (!jump) throw invalidInput({ jumpServerId: `no server named "${data.jumpServerId}"` });
      if (existing && (jump.id === existing.id || (await this.jumpChainIncludes(jump.id, existing.id))))
        throw invalidInput({ jumpServerId: 'a server cannot hop through itself' });
      jumpServerId = jump.id;
    }
    let secret: string | null = null;
    let keyPath: string | null = null;
    const { secrets } = this.deps;
    if (data.auth.type === 'key') {
      keyPath = expandHome(data.auth.keyPath);
      const { passphrase } = data.auth;
      // Left out, the stored passphrase of the same key is kept, and the key is checked with it.
      const kept =
        passphrase === undefined && existing?.authType === 'key' && existing.keyPath === keyPath
          ? existing.secret
          : null;
      const problem = checkPrivateKey(
        keyPath,
        passphrase ?? (kept ? await secrets.decrypt(kept) : undefined),
      );
      if (problem && passphrase === null && existing?.secret)
        throw invalidInput({
          'auth.passphrase': `${problem.replace(/: give its passphrase$/, '')}: its passphrase cannot be removed`,
        });
      if (problem) throw invalidInput({ 'auth.keyPath': problem });
      secret = passphrase ? await secrets.encrypt(passphrase) : kept;
    } else if (data.auth.type === 'password') {
      if (data.auth.password === null)
        throw invalidInput({
          'auth.password':
            'a password login needs its password: to remove it, log in with a key or the SSH agent',
        });
      if (data.auth.password) secret = await secrets.encrypt(data.auth.password);
      else if (existing?.authType === 'password' && existing.secret) secret = existing.secret;
      else throw invalidInput({ 'auth.password': 'password is required' });
    }
    return {
      name: data.name,
      host: data.host,
      port: data.port,
      username: data.username,
      authType: data.auth.type,
      keyPath,
      secret,
      jumpServerId,
      tags: data.tags,
      description: data.description,
      helperMode: data.helperMode,
    };
  }

  private async jumpChainIncludes(start: string, target: string): Promise<boolean> {
    const seen = new Set<string>();
    for (
      let id: string | null = start;
      id && !seen.has(id);
      id = (await this.deps.repo.get(id))?.jumpServerId ?? null
    ) {
      if (id === target) return true;
      seen.add(id);
    }
    return false;
  }
}
