/**
 * Chooses, per execution, how the script's helpers reach the app (SPEC 5): API mode through a reverse
 * tunnel with a token scoped to this execution, or bundled mode through files in the work directory,
 * collected when the script ends. In 'auto' any cause that rules out API mode falls back with a reason.
 */
import { raceSignal } from '../core/abort.ts';
import type { HelperMode, Language, ServerHelperMode } from '../core/domain.ts';
import { CroniumError } from '../core/errors.ts';
import { variableKey } from '../core/rules.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import type { ToolActionPerformer } from '../tools/toolActions.ts';
import { keyToHex } from './bundledCollect.ts';
import type { ExecutionRegistry, RuntimeContext, VariableAccess } from './executionRegistry.ts';
import { fieldPaths, fieldText, inputOrEmpty, limitEnv } from './helperRules.ts';
import type { RuntimeServer } from './runtimeServer.ts';
import type { TokenService } from './tokens.ts';
import type { TunnelLease, TunnelManager } from './tunnelManager.ts';

export * from './bundledCollect.ts';

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
  /**
   * The connection was made for this execution (a CLI run, a first run on a host): a script that does not
   * name the helpers then gets bundled mode rather than a tunnel of its own (see openHelperSession).
   */
  freshConnection?: boolean;
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

/**
 * Whether a script's text may call the helpers itself: it contains "cronium" in any case — every helper
 * call does (`cronium.getVariable`, `cronium_event_field`, `import cronium`, `require('cronium')`), and
 * so does any use of their environment (`$CRONIUM_API_ENDPOINT`, `$CRONIUM_WORK_DIR`). Conservative in
 * the one direction that matters: a text without it may still start a program that calls them (the Bash
 * helpers reach child Bash scripts through BASH_ENV, Python and Node.js ones through PYTHONPATH and
 * NODE_PATH), so such a script is given bundled helpers, which work for those programs too, rather than
 * none.
 */
export function namesHelpers(script: string): boolean {
  return /cronium/i.test(script);
}

/**
 * Sets up the helpers of one execution. `auto` gives API mode (through the connection's tunnel, checked
 * by its probe) to a script that names the helpers (namesHelpers); one that does not, on a connection made
 * for it (req.freshConnection: each `cronium run`), gets bundled mode at once — no runtime, tunnel or
 * probe, so no round trips before the script starts — unless that connection already has a working
 * tunnel. On a connection that was in use before, API mode: its tunnel lingers and serves the next runs,
 * where bundled mode's collection would cost a round trip after each script. When API mode is ruled out it falls back to bundled with the reason. `api` never falls back; `bundled` is bundled.
 * @throws CroniumError tunnel_refused when `api` was asked for and is not available; the signal's reason
 * when req.signal stops the wait.
 */
export async function openHelperSession(deps: HelperDeps, req: HelperRequest): Promise<HelperSession> {
  const { context } = req;
  if (req.requested === 'bundled') return await bundledSession(deps, context, null, req.script, req.language);
  // A script that does not name the helpers, on a connection made for it, gets bundled mode: no runtime,
  // forward or probe before it starts. On a connection in use before (a process that runs on), API mode:
  // its tunnel is made once and serves every later execution, where bundled mode would cost a collection
  // round trip each time.
  if (
    req.requested === 'auto' &&
    !namesHelpers(req.script) &&
    req.freshConnection === true &&
    !(deps.runtime.listening && (await deps.tunnels.ready(req.connection)))
  )
    return await bundledSession(deps, context, null, req.script, req.language);

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
    return await bundledSession(deps, context, reason, req.script, req.language);
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
async function bundledSession(
  deps: HelperDeps,
  context: RuntimeContext,
  reason: string | null,
  script: string,
  language: Language,
): Promise<HelperSession> {
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
  for (const { key, value, secret } of await deps.variables.all()) {
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
