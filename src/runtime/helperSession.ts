/**
 * Chooses, per execution, how the script's helpers reach the app (SPEC 5): API mode through a reverse
 * tunnel with a token scoped to this execution, or bundled mode through files in the work directory,
 * collected when the script ends. In 'auto' any cause that rules out API mode falls back with a reason.
 */
import type { HelperMode, Language, ServerHelperMode } from '../core/domain.ts';
import { raceSignal } from '../core/abort.ts';
import { CroniumError } from '../core/errors.ts';
import { VARIABLE_KEY_MESSAGE, variableKey } from '../core/rules.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import type { ExecutionRegistry, RuntimeContext, VariableAccess } from './executionRegistry.ts';
import { parseJsonOrText, recordChange, setChange } from './executionRegistry.ts';
import {
  checkFieldKey,
  checkOutput,
  checkVariable,
  fieldPaths,
  fieldText,
  inputOrEmpty,
  limitEnv,
  MAX_OUTPUT_BYTES,
  MAX_VARIABLE_BYTES,
  overLimitMessage,
  withOutputField,
} from './helperRules.ts';
import type { RuntimeServer } from './runtimeServer.ts';
import type { TokenService } from './tokens.ts';
import type { TunnelLease, TunnelManager } from './tunnelManager.ts';
import {
  MAX_TOOL_ACTIONS,
  refusedToolAction,
  type ToolActionOutcome,
  type ToolActionPerformer,
} from '../tools/toolActions.ts';

export interface HelperRequest {
  connection: SshConnection;
  requested: HelperMode;
  language: Language;
  /** The script's text: bundled mode writes a secret variable only when the script names its key. */
  script: string;
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
  /** Performs the tool actions scripts ask for (API mode through the runtime, bundled mode at collection). */
  tools?: ToolActionPerformer;
}

/** Bundled-mode files are named by the hex of the key, so any key is a safe file name. */
export const keyToHex = (key: string) => Buffer.from(key, 'utf8').toString('hex');
const hexToKey = (hex: string) => Buffer.from(hex, 'hex').toString('utf8');

/**
 * The mode an execution asks for on a server: the job's (or run's) mode, unless the server has its own
 * (SERVER_HELPER_MODES). A bundled server runs auto as bundled without trying the tunnel (so a host that
 * allows no forwarding does not warn on every run); an api server runs auto as api (no silent fallback);
 * a job that asks for bundled gets it anywhere.
 * @throws CroniumError tunnel_refused when the job or run asks for api on a server set to bundled.
 */
export function helperModeOn(
  requested: HelperMode,
  server: { name: string; helperMode?: ServerHelperMode },
): HelperMode {
  const own = server.helperMode ?? 'default';
  if (own === 'default' || requested === own || requested === 'bundled') return requested;
  if (requested === 'auto') return own;
  throw new CroniumError(
    'tunnel_refused',
    `API mode is not available: ${server.name} is set to bundled helpers (its helper mode); run with helpers auto or bundled, or change the server's helper mode.`,
  );
}

export async function openHelperSession(deps: HelperDeps, req: HelperRequest): Promise<HelperSession> {
  const { context } = req;
  if (req.requested === 'bundled') return bundledSession(deps, context, null, req.script, req.language);

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
    return bundledSession(deps, context, reason, req.script, req.language);
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
      ...limitEnv(),
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

/**
 * Bundled mode: the helpers' data as files in the work directory. A secret variable is written only when
 * its key appears in the script's text (where cronium.getVariable can name it): secrets a script never
 * asks for never reach the host's disk. A script that builds a secret key at run time gets nothing for it
 * in bundled mode (API mode serves it).
 */
function bundledSession(
  deps: HelperDeps,
  context: RuntimeContext,
  reason: string | null,
  script: string,
  language: Language,
): HelperSession {
  const input = inputOrEmpty(context.input);
  const files = [
    { name: '.cronium.input.json', content: JSON.stringify(input) },
    { name: '.cronium.context.json', content: JSON.stringify(context.event) },
    { name: '.cronium.condition.json', content: 'null' },
  ];
  // Bash reads single fields (`cronium_event_field server.address`, `cronium.input name`) without a
  // JSON parser on the host: each field is a file of its own, as the runtime's ?field= would answer.
  // Python and Node.js parse JSON themselves, so only Bash jobs get them.
  const fieldSources: (readonly [string, unknown])[] =
    language === 'bash'
      ? [
          ['input', input],
          ['context', context.event],
        ]
      : [];
  for (const [which, value] of fieldSources) {
    for (const path of fieldPaths(value)) {
      const text = fieldText(value, path);
      if (text !== '') files.push({ name: `.cronium.field.${which}.${keyToHex(path)}`, content: text });
    }
  }
  for (const { key, value, secret } of deps.variables.all()) {
    if (secret && !script.includes(key)) continue;
    // A key stored before the key rule existed may not fit in a file name: it is left out, not fatal.
    if (!variableKey.safeParse(key).success) continue;
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
      ...limitEnv(),
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
  // What the helpers refused to write never gets here; this is the last line for what slipped past.
  const tooLarge = (name: string, what: 'output' | 'variable value', limit: number): boolean => {
    const size = files.get(`${name}.toolarge`);
    if (size === undefined) return false;
    problems.push(`cronium: ${overLimitMessage(what, Number(size), limit)}, so it was not recorded`);
    return true;
  };
  const output = files.get('.cronium.output.json');
  // Fields set one by one (Bash `cronium.output <key> <value>`), in the order they were set.
  const fields = (files.get('.cronium.outfields') ?? '')
    .split('\n')
    .filter((hex) => /^[0-9a-f]+$/.test(hex) && files.has(`.cronium.outfield.${hex}`));
  if (
    !tooLarge('.cronium.output.json', 'output', MAX_OUTPUT_BYTES) &&
    (output !== undefined || fields.length > 0)
  ) {
    // Text that is not JSON (Bash) is a string, as the runtime API records it.
    let value = output === undefined ? undefined : parseJsonOrText(output);
    for (const hex of fields) {
      const key = hexToKey(hex);
      // The same field-key rule as the runtime's ?key= (the helpers check it first; this is for what slipped past).
      const refused = checkFieldKey(key);
      if (refused) {
        problems.push(`cronium.output(${JSON.stringify(key.slice(0, 120))}): ${refused}`);
        continue;
      }
      value = withOutputField(value, key, parseJsonOrText(files.get(`.cronium.outfield.${hex}`)!));
    }
    const over = checkOutput(value);
    if (over) problems.push(`cronium: ${over}, so it was not recorded`);
    else {
      context.output = value;
      context.outputSet = true;
    }
  }
  const condition = files.get('.cronium.condition.json')?.trim();
  if (condition === 'true' || condition === 'false') context.condition = condition === 'true';

  const lastOp = new Map<string, string>();
  for (const line of (files.get('.cronium.changes') ?? '').split('\n')) {
    // An empty key journals as "setraw " (no hex): it is read, so the key rule can refuse it below.
    const [, op, hex] = /^([a-z]+) ([0-9a-f]*)$/.exec(line) ?? [];
    if (op && hex !== undefined) {
      lastOp.delete(hex);
      lastOp.set(hex, op);
    }
  }
  for (const [hex, op] of lastOp) {
    const key = hexToKey(hex);
    // The same rule as every other door: a key that could not be written back as a file is never stored.
    if (!variableKey.safeParse(key).success) {
      problems.push(`cronium.setVariable(${JSON.stringify(key.slice(0, 120))}): ${VARIABLE_KEY_MESSAGE}`);
      continue;
    }
    if (op === 'delete') {
      variables.remove(key);
      recordChange(context.changes, { key, op: 'delete' });
      continue;
    }
    const name = `.cronium.var.${hex}`;
    if (tooLarge(`${name}.json`, 'variable value', MAX_VARIABLE_BYTES)) continue;
    if (tooLarge(`${name}.raw`, 'variable value', MAX_VARIABLE_BYTES)) continue;
    const json = files.get(`${name}.json`);
    const raw = files.get(`${name}.raw`);
    let value: unknown;
    if (op === 'setraw' && raw !== undefined) value = parseJsonOrText(raw);
    else if (op === 'settext' && raw !== undefined) value = raw;
    else if (json !== undefined) {
      try {
        value = JSON.parse(json) as unknown;
      } catch {
        problems.push(`cronium.setVariable(${key}): the value is not valid JSON, so it was not saved`);
        continue;
      }
    } else continue;
    const over = checkVariable(value);
    if (over) {
      problems.push(`cronium: setVariable(${key}): ${over}, so it was not saved`);
      continue;
    }
    variables.set(key, value, `execution:${context.executionId}`);
    const secret = variables.isSecret?.(key) ?? false;
    if (secret) context.onSecretValue?.(value);
    recordChange(context.changes, setChange(key, value, secret));
  }
  return problems;
}

/** A tool action a bundled-mode script queued: its request, or why it cannot be sent. */
export type QueuedToolAction = { request: unknown } | { request: unknown; refused: string };

/**
 * The tool actions a bundled-mode script queued, in the order it asked for them: the index
 * `.cronium.actions` names each `.cronium.action.<id>.json` (a `{tool, action, config}` request).
 */
export function queuedToolActions(files: Map<string, string>): QueuedToolAction[] {
  const queued: QueuedToolAction[] = [];
  for (const id of (files.get('.cronium.actions') ?? '').split('\n')) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) continue;
    const name = `.cronium.action.${id}.json`;
    const size = files.get(`${name}.toolarge`);
    if (size !== undefined) {
      queued.push({
        request: null,
        refused: overLimitMessage('tool action', Number(size), MAX_VARIABLE_BYTES),
      });
      continue;
    }
    const text = files.get(name);
    if (text === undefined) continue;
    try {
      queued.push({ request: JSON.parse(text) as unknown });
    } catch {
      queued.push({ request: null, refused: "the tool action's request is not valid JSON" });
    }
  }
  return queued;
}

/**
 * Sends what a bundled-mode script queued, one after the other in its order, exactly as the runtime API
 * would have: each ends as a record in the execution's detail and a line in its log. A failure is
 * recorded, never thrown (the script has ended; there is no one to answer).
 */
export async function performQueuedToolActions(
  queued: QueuedToolAction[],
  context: RuntimeContext,
  tools: ToolActionPerformer | undefined,
): Promise<void> {
  let sent = 0;
  for (const item of queued) {
    let outcome: ToolActionOutcome;
    if ('refused' in item)
      outcome = refusedToolAction(item.request, 'bundled', 400, 'invalid_input', item.refused);
    else if (!tools)
      outcome = refusedToolAction(
        item.request,
        'bundled',
        501,
        'not_supported',
        'tool actions are not available here',
      );
    else if (sent >= MAX_TOOL_ACTIONS)
      outcome = refusedToolAction(
        item.request,
        'bundled',
        429,
        'too_many_tool_actions',
        `an execution may ask for at most ${MAX_TOOL_ACTIONS} tool actions`,
      );
    else {
      sent++;
      outcome = await tools.perform(item.request, 'bundled');
    }
    (context.toolActions ??= []).push(outcome.record);
    context.onToolAction?.(outcome.record);
  }
}
