/**
 * Chooses, per execution, how the script's helpers reach the app (SPEC 5): API mode through a reverse
 * tunnel with a token scoped to this execution, or bundled mode through files in the work directory,
 * collected when the script ends. In 'auto' any cause that rules out API mode falls back with a reason.
 */
import type { HelperMode, Language } from '../core/domain.ts';
import { raceSignal } from '../core/abort.ts';
import { CroniumError } from '../core/errors.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import type { ExecutionRegistry, RuntimeContext, VariableAccess } from './executionRegistry.ts';
import { parseJsonOrText, recordChange } from './executionRegistry.ts';
import type { RuntimeServer } from './runtimeServer.ts';
import type { TokenService } from './tokens.ts';
import type { TunnelLease, TunnelManager } from './tunnelManager.ts';

export interface HelperRequest {
  connection: SshConnection;
  requested: HelperMode;
  language: Language;
  context: RuntimeContext;
  timeoutSec: number;
  serverName: string;
  /**
   * Stops this execution's wait for the tunnel and its probe (both are shared with other executions on
   * the connection, so they go on): the call rejects with the signal's reason (see core/abort.ts).
   */
  signal?: AbortSignal;
}

export interface HelperSession {
  mode: 'api' | 'bundled';
  fallbackReason: string | null;
  /** Worth a line in the execution's log (the runtime's port was taken, say). */
  note: string | null;
  /** Extra environment for the script (the token travels with it, on stdin). */
  env: { key: string; value: string; secret: boolean }[];
  /** Files the runner writes into the work directory before the script starts. */
  files: { name: string; content: string }[];
  context: RuntimeContext;
  release(): void;
}

export interface HelperDeps {
  runtime: RuntimeServer;
  /** Starts the runtime if needed: whether it listens, and a note when it had to take another port. */
  runtimeReady: () => Promise<{ listening: boolean; note: string | null }>;
  tokens: TokenService;
  registry: ExecutionRegistry;
  tunnels: TunnelManager;
  variables: VariableAccess;
}

/** Bundled-mode files are named by the hex of the key, so any key is a safe file name. */
export const keyToHex = (key: string) => Buffer.from(key, 'utf8').toString('hex');
const hexToKey = (hex: string) => Buffer.from(hex, 'hex').toString('utf8');

export async function openHelperSession(deps: HelperDeps, req: HelperRequest): Promise<HelperSession> {
  const { context } = req;
  if (req.requested === 'bundled') return bundledSession(deps, context, null);

  let reason: string | null = null;
  let token: string | null = null;
  let lease: TunnelLease | null = null;
  const runtime = await deps.runtimeReady();
  if (!runtime.listening) reason = "the app's runtime API is not listening";
  if (!reason) {
    try {
      token = await deps.tokens.sign({
        executionId: context.executionId,
        jobId: context.jobId,
        serverId: context.serverId,
        timeoutSec: req.timeoutSec,
      });
    } catch (err) {
      reason = `no token could be signed (${(err as Error).message})`;
    }
  }
  if (!reason) {
    try {
      const acquiring = deps.tunnels.acquire(req.connection, context.serverId);
      try {
        lease = await raceSignal(acquiring, req.signal, 'while opening the tunnel');
      } catch (err) {
        // Given up on: the lease, when it comes, goes straight back.
        if (req.signal?.aborted)
          void acquiring.then(
            (late) => late.release(),
            () => {},
          );
        throw err;
      }
    } catch (err) {
      if (req.signal?.aborted) throw err;
      reason = (err as Error).message;
    }
  }
  if (!reason && lease) {
    let probe;
    try {
      probe = await raceSignal(lease.probe, req.signal, 'while probing the tunnel');
    } catch (err) {
      lease.release();
      throw err;
    }
    if (!probe.ok) reason = `a request through the tunnel did not reach the app (${probe.detail})`;
    else if (req.language === 'bash' && !probe.httpTool)
      reason = `neither curl nor wget is installed on ${req.serverName}`;
  }
  if (reason) {
    lease?.release();
    if (req.requested === 'api')
      throw new CroniumError('tunnel_refused', `API mode is not available: ${reason}.`);
    return bundledSession(deps, context, reason);
  }

  deps.registry.register(context);
  return {
    mode: 'api',
    fallbackReason: null,
    note: runtime.note,
    env: [
      { key: 'CRONIUM_HELPER_MODE', value: 'api', secret: false },
      { key: 'CRONIUM_API_ENDPOINT', value: `http://127.0.0.1:${lease!.remotePort}`, secret: false },
      { key: 'CRONIUM_API_TOKEN', value: token!, secret: true },
    ],
    files: [],
    context,
    release: () => {
      // The token stops working here: the runtime only serves registered executions.
      deps.registry.unregister(context.executionId);
      lease!.release();
    },
  };
}

function bundledSession(deps: HelperDeps, context: RuntimeContext, reason: string | null): HelperSession {
  const files = [
    { name: '.cronium.input.json', content: JSON.stringify(context.input ?? null) },
    { name: '.cronium.context.json', content: JSON.stringify(context.event) },
    { name: '.cronium.condition.json', content: 'null' },
  ];
  for (const { key, value } of deps.variables.all()) {
    const hex = keyToHex(key);
    files.push({ name: `.cronium.var.${hex}.json`, content: JSON.stringify(value) });
    if (typeof value === 'string' && !value.includes('\n'))
      files.push({ name: `.cronium.var.${hex}.raw`, content: value });
  }
  return {
    mode: 'bundled',
    fallbackReason: reason,
    note: null,
    env: [
      { key: 'CRONIUM_HELPER_MODE', value: 'bundled', secret: false },
      // The work directory outlives the script until the collector has read it (and removes it).
      { key: 'CRONIUM_KEEP_WORKDIR', value: '1', secret: false },
    ],
    files,
    context,
    release: () => {},
  };
}

/** The collector's output: "\x1e<name> <bytes>\n<content>" for each file it found. */
export function parseCollected(data: Buffer): Map<string, string> {
  const files = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    if (data[at] !== 0x1e) break;
    const newline = data.indexOf(0x0a, at);
    if (newline < 0) break;
    const [name, size] = data
      .subarray(at + 1, newline)
      .toString('utf8')
      .split(' ');
    const length = Number(size);
    if (!name || !Number.isInteger(length)) break;
    files.set(name, data.subarray(newline + 1, newline + 1 + length).toString('utf8'));
    at = newline + 1 + length;
  }
  return files;
}

/**
 * Applies what a bundled-mode script left behind exactly as API mode would have: output, condition, and
 * variable sets and deletes in the order of the helpers' journal. Returns problems worth logging.
 */
export function applyCollected(
  files: Map<string, string>,
  context: RuntimeContext,
  variables: VariableAccess,
): string[] {
  const problems: string[] = [];
  const output = files.get('.cronium.output.json');
  if (output !== undefined) {
    try {
      context.output = JSON.parse(output) as unknown;
      context.outputSet = true;
    } catch {
      problems.push('cronium.output: what the script wrote is not valid JSON, so no output was recorded');
    }
  }
  const condition = files.get('.cronium.condition.json')?.trim();
  if (condition === 'true' || condition === 'false') context.condition = condition === 'true';

  const lastOp = new Map<string, string>();
  for (const line of (files.get('.cronium.changes') ?? '').split('\n')) {
    const [op, hex] = line.trim().split(' ');
    if (op && hex && /^[0-9a-f]+$/.test(hex)) {
      lastOp.delete(hex);
      lastOp.set(hex, op);
    }
  }
  for (const [hex, op] of lastOp) {
    const key = hexToKey(hex);
    if (op === 'delete') {
      variables.remove(key);
      recordChange(context.changes, { key, op: 'delete' });
      continue;
    }
    const json = files.get(`.cronium.var.${hex}.json`);
    const raw = files.get(`.cronium.var.${hex}.raw`);
    let value: unknown;
    if (op === 'setraw' && raw !== undefined) value = parseJsonOrText(raw);
    else if (json !== undefined) {
      try {
        value = JSON.parse(json) as unknown;
      } catch {
        problems.push(`cronium.setVariable(${key}): the value is not valid JSON, so it was not saved`);
        continue;
      }
    } else continue;
    variables.set(key, value, `execution:${context.executionId}`);
    recordChange(context.changes, { key, op: 'set' });
  }
  return problems;
}
