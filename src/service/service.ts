/**
 * The service facade: the only door to the core. The CLI, the Electron IPC adapter and the web-mode server
 * all call these methods; inputs from outside are validated here with the contract's schemas.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import ssh2 from 'ssh2';

import {
  historyQuerySchema,
  jobInputSchema,
  parseInput,
  runRequestSchema,
  serverInputSchema,
  variableInputSchema,
  type AppInfo,
  type CoreEvent,
  type CroniumApi,
  type HistoryPage,
  type ServerTestResult,
} from '../contract.ts';
import type { Execution, Job, LogChunk, Run, Server, Variable } from '../core/domain.ts';
import { CroniumError, invalidInput, toErrorValue } from '../core/errors.ts';
import { EventHub } from '../core/eventHub.ts';
import { log as logger } from '../core/logger.ts';
import { readOs } from '../exec/deploy.ts';
import { Executor } from '../exec/executor.ts';
import { RunManager } from '../exec/runManager.ts';
import { remoteBundle } from '../remote/assets.ts';
import { osKeychain, type Keychain } from '../secrets/keychain.ts';
import { resealLegacySecrets } from '../secrets/reseal.ts';
import { DataKeySecretStore, type SecretStoreInfo } from '../secrets/secretStore.ts';
import { ConnectionPool, type PoolTarget } from '../ssh/connectionPool.ts';
import { HostKeyVerifier, type UnknownKeyPolicy } from '../ssh/hostKeys.ts';
import type { SshAuth } from '../ssh/sshConnection.ts';
import { openDatabase, transaction, type Database } from '../store/database.ts';
import { HistoryRepo } from '../store/historyRepo.ts';
import { JobRepo, publicJob, type JobRecord, type StoredEnvVar } from '../store/jobRepo.ts';
import { KnownHostRepo } from '../store/knownHostRepo.ts';
import { LogWriter } from '../store/logWriter.ts';
import { publicServer, ServerRepo, type ServerRecord } from '../store/serverRepo.ts';
import { VariableRepo, type VariableRecord } from '../store/variableRepo.ts';
import { ExecutionRegistry, type RateLimit, type VariableAccess } from '../runtime/executionRegistry.ts';
import { DEFAULT_RUNTIME_PORT, RuntimeServer } from '../runtime/runtimeServer.ts';
import { TokenService } from '../runtime/tokens.ts';
import { TunnelManager } from '../runtime/tunnelManager.ts';

export interface ServiceOptions {
  dataDir: string;
  /**
   * The OS keychain holding the data key (default: the real one through @napi-rs/keyring; null: none, so
   * the key file). See DataKeySecretStore.
   */
  keychain?: Keychain | null;
  /** Opens the desktop app's old "ss1:" values (Electron safeStorage), so they can be re-sealed. */
  legacyDecrypt?: (sealed: string) => string;
  unknownHostKeys?: UnknownKeyPolicy;
  killGraceSec?: number;
  readyTimeoutMs?: number;
  idleMs?: number;
  /** Milliseconds unused after which a pooled connection is checked before reuse (see PoolOptions). */
  checkIdleAfterMs?: number;
  /** Milliseconds a server has to answer a request for a new session before its connection is replaced. */
  sessionAnswerMs?: number;
  /** The SSH agent socket for agent auth (defaults to SSH_AUTH_SOCK). */
  agentSocket?: string;
  /** The runtime API's port on 127.0.0.1 (8089; a free one when taken; 0 for any). */
  runtimePort?: number;
  /** The port of the reverse tunnel on hosts' loopback (0: chosen by the server, so runs never collide). */
  tunnelPort?: number;
  /** How long an unused tunnel stays open for the next execution (10 s). */
  tunnelLingerMs?: number;
  /** Who is asking: what appInfo() reports. */
  appMode?: AppInfo['mode'];
  appVersion?: string;
  rateLimit?: RateLimit;
  maxBodyBytes?: number;
}

export class CroniumService implements CroniumApi {
  readonly db: Database;
  readonly dataDir: string;
  private readonly secrets: DataKeySecretStore;
  private readonly servers: ServerRepo;
  private readonly jobs: JobRepo;
  private readonly history: HistoryRepo;
  private readonly variables: VariableRepo;
  private readonly knownHosts: KnownHostRepo;
  private readonly hub = new EventHub();
  private readonly pool: ConnectionPool;
  private readonly runs: RunManager;
  private readonly logs: LogWriter;
  readonly runtime: RuntimeServer;
  private runtimeStart: Promise<{ port: number; note: string | null }> | null = null;
  private readonly options: ServiceOptions;

  constructor(options: ServiceOptions) {
    this.options = options;
    this.dataDir = options.dataDir;
    this.db = openDatabase(options.dataDir);
    const found = options.keychain === undefined ? osKeychain() : null;
    this.secrets = new DataKeySecretStore({
      dataDir: options.dataDir,
      db: this.db,
      keychain: found ? found.keychain : (options.keychain ?? null),
      noKeychainReason: found?.reason ?? undefined,
      legacyDecrypt: options.legacyDecrypt,
    });
    this.servers = new ServerRepo(this.db);
    this.jobs = new JobRepo(this.db);
    this.history = new HistoryRepo(this.db);
    this.variables = new VariableRepo(this.db);
    this.knownHosts = new KnownHostRepo(this.db);
    this.history.failOrphans(isProcessAlive);
    this.pool = new ConnectionPool({
      hostKeys: new HostKeyVerifier(this.knownHosts, options.unknownHostKeys ?? 'ask'),
      resolve: (id) => this.poolTarget(id),
      readyTimeoutMs: options.readyTimeoutMs,
      idleMs: options.idleMs,
      checkIdleAfterMs: options.checkIdleAfterMs,
      sessionAnswerMs: options.sessionAnswerMs,
    });
    this.logs = new LogWriter(join(options.dataDir, 'cronium.db'));
    const registry = new ExecutionRegistry(options.rateLimit);
    const tokens = new TokenService(this.db, this.secrets);
    const variables = this.variableAccess();
    this.runtime = new RuntimeServer({ tokens, registry, variables, maxBodyBytes: options.maxBodyBytes });
    const executor = new Executor({
      pool: this.pool,
      history: this.history,
      logs: this.logs,
      hub: this.hub,
      bundle: remoteBundle(),
      killGraceSec: options.killGraceSec,
      helpers: {
        runtime: this.runtime,
        runtimeReady: () =>
          this.startRuntime().then(
            ({ note }) => ({ listening: this.runtime.listening, note }),
            () => ({ listening: false, note: null }),
          ),
        tokens,
        registry,
        tunnels: new TunnelManager(this.runtime, this.hub, {
          remotePort: options.tunnelPort,
          lingerMs: options.tunnelLingerMs,
        }),
        variables,
      },
    });
    this.runs = new RunManager(executor, this.history, this.hub);
  }

  /**
   * Starts the runtime API the helpers call (once; later calls return the same answer). Runs start it
   * themselves when first needed; the desktop app starts it at launch.
   */
  startRuntime(): Promise<{ port: number; note: string | null }> {
    // The note (the port was taken) is said once per process, here, not in every execution's log.
    this.runtimeStart ??= this.runtime
      .listen(this.options.runtimePort ?? DEFAULT_RUNTIME_PORT)
      .then((started) => {
        if (started.note) logger().warn(started.note);
        else logger().debug(`runtime API on 127.0.0.1:${started.port}`);
        return started;
      });
    return this.runtimeStart;
  }

  /** Where this data directory's data key is, and why there (finds it now if no secret was used yet). */
  secretStoreInfo(): SecretStoreInfo {
    return this.secrets.info();
  }

  /**
   * Converts secrets the desktop app stored in its old "ss1:" format to the shared one (needs
   * legacyDecrypt); returns how many. The desktop app calls this at start.
   */
  resealLegacySecrets(): number {
    return resealLegacySecrets(this.db, this.secrets);
  }

  appInfo(): AppInfo {
    return {
      version: this.options.appVersion ?? packageVersion(),
      mode: this.options.appMode ?? 'web',
      runtimePort: this.runtime.port,
      dataDir: this.dataDir,
    };
  }

  subscribe(listener: (event: CoreEvent) => void): () => void {
    return this.hub.subscribe(listener);
  }

  /**
   * A subscriber that cannot keep up with log events (the CLI's stdout is full) pauses the running
   * scripts' output until `until` settles; see EventHub.slowDown.
   */
  slowDown(until: Promise<void>): void {
    this.hub.slowDown(until);
  }

  // ---- servers ------------------------------------------------------------------------------------------

  listServers(): Server[] {
    return this.servers.list().map(publicServer);
  }

  getServer(ref: string): Server {
    return publicServer(this.serverRecord(ref));
  }

  createServer(input: unknown): Server {
    const data = this.serverWrite(input, null);
    return transaction(this.db, () => {
      if (this.servers.getByName(data.name))
        throw invalidInput({ name: `a server named "${data.name}" already exists` });
      return publicServer(this.servers.insert(data));
    });
  }

  updateServer(ref: string, input: unknown): Server {
    const existing = this.serverRecord(ref);
    const data = this.serverWrite(input, existing);
    return transaction(this.db, () => {
      const clash = this.servers.getByName(data.name);
      if (clash && clash.id !== existing.id)
        throw invalidInput({ name: `a server named "${data.name}" already exists` });
      const updated = publicServer(this.servers.update(existing.id, data));
      this.pool.closeServer(existing.id);
      return updated;
    });
  }

  /** Drops pooled connections to a server, so the next use connects (and checks its host key) afresh. */
  disconnectServer(ref: string): void {
    this.pool.closeServer(this.serverRecord(ref).id);
  }

  removeServer(ref: string): void {
    const server = this.serverRecord(ref);
    const dependants = this.servers.usedAsJumpBy(server.id);
    if (dependants.length) {
      throw new CroniumError(
        'conflict',
        `${server.name} is the jump server of ${dependants.join(', ')}; change those first.`,
      );
    }
    this.pool.closeServer(server.id);
    this.servers.remove(server.id);
  }

  /**
   * Connects and logs in afresh (never through a pooled connection, so a changed password, key or host key
   * shows at once), reads the OS, and records the check on the server. A server that refuses the login or
   * its host key also loses its pooled connections, so runs meet the same check on their next connection.
   */
  async testServer(ref: string): Promise<ServerTestResult> {
    const server = this.serverRecord(ref);
    const started = performance.now();
    const fresh = this.oneShotPool(
      new HostKeyVerifier(this.knownHosts, this.options.unknownHostKeys ?? 'ask'),
    );
    try {
      const lease = await fresh.acquire(server.id);
      try {
        const os = await readOs(lease.connection);
        this.servers.recordCheck(server.id, { online: true, os, error: null });
        return {
          online: true,
          os,
          latencyMs: Math.round(performance.now() - started),
          fingerprint: this.knownHosts.get(server.host, server.port)?.fingerprint ?? null,
          error: null,
        };
      } finally {
        lease.release();
      }
    } catch (err) {
      const error = toErrorValue(err);
      if (['auth_failed', 'host_key_mismatch', 'host_key_unknown'].includes(error.kind))
        this.pool.closeServer(server.id);
      this.servers.recordCheck(server.id, { online: false, os: null, error: error.message });
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

  /** A pool of its own for one check: every connection it makes (jump servers too) is new, and closed after. */
  private oneShotPool(hostKeys: HostKeyVerifier): ConnectionPool {
    return new ConnectionPool({
      hostKeys,
      resolve: (id) => this.poolTarget(id),
      readyTimeoutMs: this.options.readyTimeoutMs,
      idleMs: 1,
    });
  }

  /**
   * Trusts the key a server offers now (first use, or after it changed). With a fingerprint, only that key
   * is trusted: the UI passes the one it showed the user, so a key swapped in between is not.
   */
  async trustHostKey(ref: string, fingerprint?: string): Promise<ServerTestResult> {
    const server = this.serverRecord(ref);
    const previous = this.knownHosts.get(server.host, server.port);
    this.knownHosts.forget(server.host, server.port);
    const oneShot = this.oneShotPool(new HostKeyVerifier(this.knownHosts, 'accept-new'));
    try {
      const lease = await oneShot.acquire(server.id);
      lease.release();
      const trusted = this.knownHosts.get(server.host, server.port);
      if (fingerprint && trusted?.fingerprint !== fingerprint) {
        this.knownHosts.forget(server.host, server.port);
        if (previous)
          this.knownHosts.trust(previous.host, previous.port, previous.keyType, previous.fingerprint);
        throw new CroniumError(
          'host_key_mismatch',
          `${server.name} now offers ${trusted?.fingerprint}, not the ${fingerprint} you accepted; nothing was trusted.`,
        );
      }
      return this.testServer(server.id);
    } catch (err) {
      if (!this.knownHosts.get(server.host, server.port) && previous)
        this.knownHosts.trust(previous.host, previous.port, previous.keyType, previous.fingerprint);
      throw err;
    } finally {
      oneShot.closeAll();
    }
  }

  private serverRecord(ref: string): ServerRecord {
    const server = this.servers.get(ref) ?? this.servers.getByName(ref);
    if (!server) throw new CroniumError('not_found', `No server named "${ref}".`);
    return server;
  }

  private serverWrite(input: unknown, existing: ServerRecord | null) {
    const data = parseInput(serverInputSchema, input);
    let jumpServerId: string | null = null;
    if (data.jumpServerId) {
      const jump = this.servers.get(data.jumpServerId) ?? this.servers.getByName(data.jumpServerId);
      if (!jump) throw invalidInput({ jumpServerId: `no server named "${data.jumpServerId}"` });
      if (existing && (jump.id === existing.id || this.jumpChainIncludes(jump.id, existing.id)))
        throw invalidInput({ jumpServerId: 'a server cannot hop through itself' });
      jumpServerId = jump.id;
    }
    let secret: string | null = null;
    let keyPath: string | null = null;
    if (data.auth.type === 'key') {
      keyPath = expandHome(data.auth.keyPath);
      const problem = checkPrivateKey(keyPath, data.auth.passphrase);
      if (problem) throw invalidInput({ 'auth.keyPath': problem });
      if (data.auth.passphrase) secret = this.secrets.encrypt(data.auth.passphrase);
      else if (existing?.authType === 'key' && existing.keyPath === keyPath) secret = existing.secret;
    } else if (data.auth.type === 'password') {
      if (data.auth.password) secret = this.secrets.encrypt(data.auth.password);
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
    };
  }

  private jumpChainIncludes(start: string, target: string): boolean {
    const seen = new Set<string>();
    for (
      let id: string | null = start;
      id && !seen.has(id);
      id = this.servers.get(id)?.jumpServerId ?? null
    ) {
      if (id === target) return true;
      seen.add(id);
    }
    return false;
  }

  /** Connection details for the pool, with secrets decrypted only now. */
  private poolTarget(id: string): PoolTarget {
    const server = this.serverRecord(id);
    let auth: SshAuth;
    if (server.authType === 'key') {
      let privateKey: Buffer;
      try {
        privateKey = readFileSync(server.keyPath!);
      } catch (err) {
        throw new CroniumError(
          'auth_failed',
          `The key file ${server.keyPath} for ${server.name} cannot be read: ${(err as Error).message}.`,
        );
      }
      auth = {
        type: 'key',
        privateKey,
        passphrase: server.secret ? this.secrets.decrypt(server.secret) : undefined,
      };
    } else if (server.authType === 'password') {
      auth = { type: 'password', password: this.secrets.decrypt(server.secret!) };
    } else {
      const agentSocket = this.options.agentSocket ?? process.env.SSH_AUTH_SOCK;
      if (!agentSocket)
        throw new CroniumError(
          'auth_failed',
          `${server.name} uses the SSH agent, but no agent is running (SSH_AUTH_SOCK is not set).`,
        );
      auth = { type: 'agent', agentSocket };
    }
    return {
      target: { label: server.name, host: server.host, port: server.port, username: server.username, auth },
      jumpServerId: server.jumpServerId,
    };
  }

  // ---- jobs ---------------------------------------------------------------------------------------------

  listJobs(): Job[] {
    return this.jobs.list().map(publicJob);
  }

  getJob(ref: string): Job {
    return publicJob(this.jobRecord(ref));
  }

  createJob(input: unknown): Job {
    const data = this.jobWrite(input, null);
    return transaction(this.db, () => {
      if (this.jobs.getByName(data.name))
        throw invalidInput({ name: `a job named "${data.name}" already exists` });
      return publicJob(this.jobs.insert(data));
    });
  }

  updateJob(ref: string, input: unknown): Job {
    const existing = this.jobRecord(ref);
    const data = this.jobWrite(input, existing);
    return transaction(this.db, () => {
      const clash = this.jobs.getByName(data.name);
      if (clash && clash.id !== existing.id)
        throw invalidInput({ name: `a job named "${data.name}" already exists` });
      return publicJob(this.jobs.update(existing.id, data));
    });
  }

  removeJob(ref: string): void {
    this.jobs.remove(this.jobRecord(ref).id);
  }

  private jobRecord(ref: string): JobRecord {
    const job = this.jobs.get(ref) ?? this.jobs.getByName(ref);
    if (!job) throw new CroniumError('not_found', `No job named "${ref}".`);
    return job;
  }

  private jobWrite(input: unknown, existing: JobRecord | null) {
    const data = parseInput(jobInputSchema, input);
    const fields: Record<string, string> = {};
    const seen = new Set<string>();
    const env: StoredEnvVar[] = [];
    data.env.forEach((entry, i) => {
      if (seen.has(entry.key)) fields[`env.${i}.key`] = `${entry.key} is set twice`;
      seen.add(entry.key);
      if (entry.value === null) {
        // The client never saw a secret's value: null means "keep what is stored".
        const kept = existing?.env.find((e) => e.key === entry.key && e.secret);
        if (!kept || !entry.secret) fields[`env.${i}.value`] = `a value for ${entry.key} is required`;
        else env.push(kept);
        return;
      }
      env.push({
        key: entry.key,
        secret: entry.secret,
        value: entry.secret ? this.secrets.encrypt(entry.value) : entry.value,
      });
    });
    const serverIds: string[] = [];
    data.defaultServerIds.forEach((ref, i) => {
      const server = this.servers.get(ref) ?? this.servers.getByName(ref);
      if (!server) fields[`defaultServerIds.${i}`] = `no server named "${ref}"`;
      else serverIds.push(server.id);
    });
    if (Object.keys(fields).length) throw invalidInput(fields);
    return {
      name: data.name,
      language: data.language,
      script: data.script,
      timeoutSec: data.timeoutSec,
      env,
      defaultInput: data.defaultInput ?? null,
      defaultServerIds: serverIds,
      helperMode: data.helperMode,
      tags: data.tags,
    };
  }

  // ---- runs ---------------------------------------------------------------------------------------------

  /** Starts a run and returns at once; progress arrives as events, and waitForRun() resolves at the end. */
  startRun(request: unknown): Run {
    const req = parseInput(runRequestSchema, request);
    const job = this.jobRecord(req.jobId);
    const servers = req.serverIds.map((ref) => this.serverRecord(ref));
    const duplicates = servers.filter((s, i) => servers.findIndex((o) => o.id === s.id) !== i);
    if (duplicates.length) throw invalidInput({ serverIds: `${duplicates[0]!.name} is listed twice` });
    return this.runs.start({
      job: {
        id: job.id,
        name: job.name,
        language: job.language,
        script: job.script,
        timeoutSec: job.timeoutSec,
      },
      env: job.env.map((e) => ({
        key: e.key,
        secret: e.secret,
        value: e.secret ? this.secrets.decrypt(e.value) : e.value,
      })),
      servers: servers.map((s) => ({ id: s.id, name: s.name, host: s.host })),
      secrets: this.runSecrets(servers),
      input: req.input === undefined ? job.defaultInput : req.input,
      trigger: req.trigger,
      concurrency: req.concurrency,
      helperMode: req.helperMode ?? job.helperMode,
    });
  }

  /**
   * Every other secret a run's output must not show: secret variables' values and the servers' passwords
   * and key passphrases (secret env values and the API token are added by the executor).
   */
  private runSecrets(servers: ServerRecord[]): unknown[] {
    const values: unknown[] = servers.filter((s) => s.secret).map((s) => this.secrets.decrypt(s.secret!));
    for (const v of this.variables.list()) {
      if (!v.secret) continue;
      try {
        values.push(JSON.parse(this.secrets.decrypt(v.value)) as unknown);
      } catch {
        // A value this process cannot open cannot reach a script either (the helpers fail on it).
      }
    }
    return values;
  }

  waitForRun(runId: string): Promise<Run> {
    return this.runs.wait(runId);
  }

  cancelRun(runId: string): boolean {
    return this.runs.cancel(runId);
  }

  getRun(runId: string): Run {
    const run = this.history.getRun(runId);
    if (!run) throw new CroniumError('not_found', `No run ${runId}.`);
    return run;
  }

  // ---- history ------------------------------------------------------------------------------------------

  queryHistory(query: unknown): HistoryPage {
    const q = parseInput(historyQuerySchema, query);
    const before = q.cursor ? decodeCursor(q.cursor) : undefined;
    const items = this.history.listExecutions({
      jobId: q.jobId,
      serverId: q.serverId,
      status: q.status,
      from: q.from,
      to: q.to,
      limit: q.limit + 1,
      before,
    });
    const page = items.slice(0, q.limit);
    const last = page[page.length - 1];
    return { items: page, nextCursor: items.length > q.limit && last ? encodeCursor(last) : null };
  }

  /** An execution by id or by a unique prefix of it. */
  getExecution(ref: string): Execution {
    const direct = this.history.getExecution(ref);
    if (direct) return direct;
    const matches = ref.length >= 4 ? this.history.findExecutionIds(ref) : [];
    if (matches.length === 1) return this.history.getExecution(matches[0]!)!;
    if (matches.length > 1)
      throw new CroniumError('invalid_input', `"${ref}" matches several executions; give more of the id.`);
    throw new CroniumError('not_found', `No execution ${ref}.`);
  }

  readLog(executionId: string, afterSeq = -1, limit?: number): LogChunk[] {
    return this.history.readLog(executionId, afterSeq, limit);
  }

  // ---- variables ----------------------------------------------------------------------------------------

  listVariables(): Variable[] {
    return this.variables.list().map((v) => ({
      key: v.key,
      value: v.secret ? null : (JSON.parse(v.value) as unknown),
      secret: v.secret,
      updatedAt: v.updatedAt,
      updatedBy: v.updatedBy,
    }));
  }

  /** The value (secret values decrypted: for the local CLI, never for the renderer). */
  getVariableValue(key: string): unknown {
    const v = this.variables.get(key);
    if (!v) throw new CroniumError('not_found', `No variable "${key}".`);
    return JSON.parse(v.secret ? this.secrets.decrypt(v.value) : v.value) as unknown;
  }

  setVariable(input: unknown, updatedBy = 'user'): Variable {
    const data = parseInput(variableInputSchema, input);
    if (data.value === undefined) throw invalidInput({ value: 'a value is required' });
    const json = JSON.stringify(data.value);
    this.variables.set(data.key, data.secret ? this.secrets.encrypt(json) : json, data.secret, updatedBy);
    return this.listVariables().find((v) => v.key === data.key)!;
  }

  /** The shared variables as the runtime helpers see them: secret values decrypted, secrecy kept on set. */
  private variableAccess(): VariableAccess {
    const decode = (v: VariableRecord) =>
      JSON.parse(v.secret ? this.secrets.decrypt(v.value) : v.value) as unknown;
    return {
      get: (key) => {
        const v = this.variables.get(key);
        return v ? { value: decode(v) } : null;
      },
      set: (key, value, updatedBy) => {
        const secret = this.variables.get(key)?.secret ?? false;
        const json = JSON.stringify(value ?? null);
        this.variables.set(key, secret ? this.secrets.encrypt(json) : json, secret, updatedBy);
      },
      remove: (key) => this.variables.remove(key),
      all: () => this.variables.list().map((v) => ({ key: v.key, value: decode(v), secret: v.secret })),
      isSecret: (key) => this.variables.get(key)?.secret ?? false,
      // BEGIN IMMEDIATE takes the write lock first: a CLI or app sharing the file waits, never interleaves.
      update: (key, change, updatedBy) =>
        transaction(this.db, () => {
          const current = this.variables.get(key);
          const next = change(current ? decode(current) : undefined);
          const secret = current?.secret ?? false;
          const json = JSON.stringify(next ?? null);
          this.variables.set(key, secret ? this.secrets.encrypt(json) : json, secret, updatedBy);
          return next;
        }),
    };
  }

  removeVariable(key: string): void {
    if (!this.variables.remove(key)) throw new CroniumError('not_found', `No variable "${key}".`);
  }

  // ---- lifecycle ----------------------------------------------------------------------------------------

  get activeRunIds(): string[] {
    return this.runs.activeRunIds;
  }

  /** Cancels what runs, closes connections and the database. */
  async close(): Promise<void> {
    await this.runs.cancelAll();
    this.pool.closeAll();
    await this.runtime.close();
    await this.logs.close();
    this.db.close();
  }
}

function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** Returns why a private key file cannot be used, or null when ssh2 can read it. */
function checkPrivateKey(path: string, passphrase: string | undefined): string | null {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    return `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`;
  }
  const parsed = ssh2.utils.parseKey(data, passphrase);
  if (parsed instanceof Error) {
    if (/encrypted/i.test(parsed.message) && !passphrase) return 'the key is encrypted: give its passphrase';
    if (/bad passphrase|decrypt/i.test(parsed.message)) return 'the passphrase does not open this key';
    return `not a private key ssh2 can read (${parsed.message})`;
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || !key.isPrivateKey()) return 'this is not a private key';
  return null;
}

function encodeCursor(e: Execution): string {
  return Buffer.from(`${e.startedAt}:${e.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { startedAt: number; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (!at || !id || !/^\d+$/.test(at)) throw invalidInput({ cursor: 'not a cursor from a previous page' });
  return { startedAt: Number(at), id };
}
