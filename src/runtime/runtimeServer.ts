/**
 * The runtime API the helpers call (SPEC section 5): an HTTP server bound to loopback only. Connections
 * from remote hosts arrive through SSH reverse tunnels and are handed to the same server.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import {
  MAX_TOOL_ACTIONS,
  refusedToolAction,
  type ToolActionOutcome,
  type ToolActionPerformer,
} from '../tools/toolActions.ts';
import type { ExecutionRegistry, RuntimeContext, VariableAccess } from './executionRegistry.ts';
import { parseJsonOrText, recordChange, setChange } from './executionRegistry.ts';
import {
  appendValue,
  checkFieldKey,
  checkOutput,
  checkVariable,
  coerceCondition,
  CONDITION_USAGE,
  fieldText,
  incrementValue,
  inputOrEmpty,
  MAX_OUTPUT_BYTES,
  MAX_VARIABLE_BYTES,
  variableText,
  withOutputField,
} from './helperRules.ts';
import {
  answerClientError,
  HttpError,
  isObject,
  isText,
  readJson,
  readText,
  reply,
  requestUrl,
  send,
  sendText,
} from './runtimeHttp.ts';
import { updateVariable, variableName } from './runtimeVariables.ts';
import type { TokenService } from './tokens.ts';

export { answerClientError, requestUrl } from './runtimeHttp.ts';

export const DEFAULT_RUNTIME_PORT = 8089;

export interface RuntimeServerOptions {
  tokens: TokenService;
  registry: ExecutionRegistry;
  variables: VariableAccess;
  /** Performs the tool actions scripts ask for (POST /executions/{id}/tool-actions); absent: 501. */
  tools?: ToolActionPerformer;
  /** Caps every request body (tests); by default bodies may carry a value up to its limit, twice over for escaping. */
  maxBodyBytes?: number;
}

// The key segment may be empty, so that `variables/` is answered with the key rule, not "no endpoint".
const ROUTE =
  /^\/executions\/([A-Za-z0-9-]+)\/(input|output|variables|condition|context|tool-actions)(?:\/([^/]*)(?:\/(increment|append))?)?$/;

export class RuntimeServer {
  /** Made when it first listens: a process that never needs the runtime never loads node:http. */
  private server: Server | null = null;
  private readonly options: RuntimeServerOptions;
  private readonly outputBodyBytes: number;
  private readonly maxBodyBytes: number;
  port: number | null = null;
  /** Tool actions under way per execution, so concurrent calls cannot pass MAX_TOOL_ACTIONS together. */
  private readonly toolActionsStarted = new WeakMap<RuntimeContext, number>();

  constructor(options: RuntimeServerOptions) {
    this.options = options;
    this.outputBodyBytes = options.maxBodyBytes ?? 2 * MAX_OUTPUT_BYTES + 4096;
    this.maxBodyBytes = options.maxBodyBytes ?? 2 * MAX_VARIABLE_BYTES + 4096;
  }

  /**
   * The HTTP server, made on first use. node:http is imported here rather than at the top: as an ES
   * module it loads Node's whole fetch implementation (undici, for its WebSocket export), some 15 ms of
   * every CLI start that has no use for the runtime.
   */
  private async create(): Promise<Server> {
    const { createServer } = await import('node:http');
    if (this.server) return this.server;
    // A request without Host is answered by handle() with the usual body, not by Node's bare 400.
    const server = createServer({ requireHostHeader: false }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (err instanceof HttpError)
          send(res, err.status, { success: false, error: err.code, message: err.message });
        else send(res, 500, { success: false, error: 'internal', message: (err as Error).message });
      });
    });
    server.keepAliveTimeout = 30_000;
    // Requests Node's parser refuses (bad headers, bad framing) get the usual error body too.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) =>
      answerClientError(err, socket, (status, message) =>
        JSON.stringify({
          success: false,
          error: status === 431 ? 'headers_too_large' : 'bad_request',
          message,
        }),
      ),
    );
    this.server = server;
    return server;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /**
   * Listens on 127.0.0.1 only. When the port is taken, takes a free one; the returned note says so.
   */
  async listen(port = DEFAULT_RUNTIME_PORT): Promise<{ port: number; note: string | null }> {
    try {
      await this.tryListen(port);
      return { port: this.port!, note: null };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
      await this.tryListen(0);
      return {
        port: this.port!,
        note: `runtime port ${port} is taken; the runtime listens on 127.0.0.1:${this.port} instead`,
      };
    }
  }

  private async tryListen(port: number): Promise<void> {
    const server = await this.create();
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onError);
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Serves a connection that arrived some other way (an SSH reverse tunnel). */
  serveStream(stream: Duplex): void {
    // Tunnels are opened only once the runtime listens (HelperDeps.runtimeReady): before, nothing serves.
    if (!this.server) return void stream.destroy();
    this.server.emit('connection', stream);
  }

  close(): Promise<void> {
    const { server } = this;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections();
      if (server.listening) server.close(() => resolve());
      else resolve();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req.url);
    if (!url) throw new HttpError(400, 'bad_request', 'The request target is not a path.');
    if (url.pathname === '/health' && req.method === 'GET') return send(res, 200, { status: 'ok' });
    const match = ROUTE.exec(url.pathname);
    if (!match || (match[3] === '' && match[2] !== 'variables'))
      throw new HttpError(404, 'not_found', `No endpoint ${req.method} ${url.pathname}.`);
    const [, pathId, resource, key, verb] = match as unknown as [
      string,
      string,
      string,
      string | undefined,
      string | undefined,
    ];

    const context = await this.authorize(req, pathId);
    if (!this.options.registry.take(context.executionId))
      throw new HttpError(429, 'rate_limited', 'Too many requests for this execution; slow down.');
    const raw = url.searchParams.get('format') === 'raw';
    const method = req.method ?? 'GET';
    const { variables } = this.options;

    const field = url.searchParams.get('field');
    if ((resource === 'input' || resource === 'context') && method === 'GET' && key === undefined) {
      const data = resource === 'input' ? inputOrEmpty(context.input) : context.event;
      if (field !== null) return sendText(res, fieldText(data, field));
      return reply(res, data, raw);
    }
    if (resource === 'output' && method === 'POST' && key === undefined) {
      // Text (Bash) is JSON when it parses as JSON, else a string, as Cronium's SDK records it.
      let value: unknown;
      if (isText(req)) value = parseJsonOrText(await readText(req, this.outputBodyBytes));
      else {
        const body = await readJson(req, this.outputBodyBytes);
        if (!isObject(body) || !('data' in body))
          throw new HttpError(400, 'bad_request', 'The body must be {"data": ...}.');
        value = body.data;
      }
      // ?key=k (Bash `cronium.output <key> <value>`, after Cronium's runner helpers) sets one field.
      const outputKey = url.searchParams.get('key');
      if (outputKey !== null) {
        const refused = checkFieldKey(outputKey);
        if (refused) throw new HttpError(400, 'invalid_input', refused);
        value = withOutputField(context.output, outputKey, value);
      }
      const over = checkOutput(value);
      if (over) throw new HttpError(413, 'payload_too_large', over);
      context.output = value;
      context.outputSet = true;
      return send(res, 200, { success: true });
    }
    if (resource === 'tool-actions' && key === undefined) {
      if (method !== 'POST')
        throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}.`);
      const body = await readJson(req, this.maxBodyBytes);
      const outcome = await this.toolAction(context, body);
      if (!outcome.ok) throw new HttpError(outcome.status, outcome.code, outcome.message);
      return reply(res, outcome.data, raw);
    }
    if (resource === 'condition' && key === undefined) {
      if (method === 'GET') return reply(res, context.condition, raw);
      if (method === 'POST') {
        const body = await readJson(req, this.maxBodyBytes);
        const condition = isObject(body) ? coerceCondition(body.condition) : null;
        if (condition === null) throw new HttpError(400, 'bad_request', `${CONDITION_USAGE}.`);
        context.condition = condition;
        return send(res, 200, { success: true, data: { condition } });
      }
    }
    if (resource === 'variables' && key !== undefined && verb !== undefined) {
      if (method !== 'POST')
        throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}.`);
      const name = variableName(key);
      const body = await readJson(req, this.maxBodyBytes);
      if (!isObject(body)) throw new HttpError(400, 'bad_request', 'The body must be a JSON object.');
      const change = (current: unknown): unknown => {
        const next =
          verb === 'increment'
            ? incrementValue(name, current, body.by)
            : appendValue(current, body.value, body.separator);
        if (typeof next === 'object' && 'error' in next) throw new HttpError(400, 'bad_request', next.error);
        const result = typeof next === 'string' ? next : next.value;
        const over = checkVariable(result);
        if (over) throw new HttpError(413, 'payload_too_large', over);
        return result;
      };
      const value = await updateVariable(variables, name, change, `execution:${context.executionId}`);
      // An increment or append keeps a secret key secret: its new value is masked from then on.
      const secret = (await variables.isSecret?.(name)) ?? false;
      if (secret) context.onSecretValue?.(value);
      recordChange(context.changes, setChange(name, value, secret));
      if (raw) return sendText(res, variableText(value));
      return send(res, 200, { success: true, data: { key: name, value } });
    }
    if (resource === 'variables' && key !== undefined) {
      const name = variableName(key);
      if (method === 'GET') {
        const found = await variables.get(name);
        if (!found) throw new HttpError(404, 'not_found', `No variable "${name}".`);
        if (raw)
          return sendText(res, typeof found.value === 'string' ? found.value : JSON.stringify(found.value));
        return send(res, 200, { success: true, data: { key: name, value: found.value } });
      }
      if (method === 'PUT') {
        let value: unknown;
        if (isText(req)) value = parseJsonOrText(await readText(req, this.maxBodyBytes));
        else {
          const body = await readJson(req, this.maxBodyBytes);
          if (!isObject(body) || !('value' in body))
            throw new HttpError(400, 'bad_request', 'The body must be {"value": ...}.');
          value = body.value;
        }
        const over = checkVariable(value);
        if (over) throw new HttpError(413, 'payload_too_large', over);
        await variables.set(name, value, `execution:${context.executionId}`);
        const secret = (await variables.isSecret?.(name)) ?? false;
        if (secret) context.onSecretValue?.(value);
        recordChange(context.changes, setChange(name, value, secret));
        return send(res, 200, { success: true });
      }
      if (method === 'DELETE') {
        await variables.remove(name);
        recordChange(context.changes, { key: name, op: 'delete' });
        return send(res, 200, { success: true });
      }
    }
    throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}.`);
  }

  /**
   * Performs one tool action for an execution (Cronium's `POST /tool-actions/execute`), records it in the
   * execution's detail and log, whether it was sent or not.
   */
  private async toolAction(context: RuntimeContext, request: unknown): Promise<ToolActionOutcome> {
    const started = this.toolActionsStarted.get(context) ?? 0;
    let outcome: ToolActionOutcome;
    if (!this.options.tools)
      outcome = refusedToolAction(
        request,
        'api',
        501,
        'not_supported',
        'tool actions are not available here',
      );
    else if (started >= MAX_TOOL_ACTIONS)
      outcome = refusedToolAction(
        request,
        'api',
        429,
        'too_many_tool_actions',
        `an execution may ask for at most ${MAX_TOOL_ACTIONS} tool actions`,
      );
    else {
      this.toolActionsStarted.set(context, started + 1);
      outcome = await this.options.tools.perform(request, 'api');
    }
    (context.toolActions ??= []).push(outcome.record);
    context.onToolAction?.(outcome.record);
    return outcome;
  }

  /** 401 for a missing, malformed, forged or expired token; 403 for another or a finished execution's. */
  private async authorize(req: IncomingMessage, pathId: string): Promise<RuntimeContext> {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer ([^\s]+)$/.exec(header);
    if (!match)
      throw new HttpError(401, 'missing_token', 'An Authorization: Bearer <token> header is required.');
    const verified = await this.options.tokens.verify(match[1]!);
    if (verified === 'expired') throw new HttpError(401, 'token_expired', 'The token has expired.');
    if (typeof verified === 'string') throw new HttpError(401, 'invalid_token', 'The token is not valid.');
    if (verified.executionId !== pathId)
      throw new HttpError(403, 'forbidden', 'This token belongs to another execution.');
    const context = this.options.registry.get(verified.executionId);
    if (!context)
      throw new HttpError(
        403,
        'execution_finished',
        'This execution has finished; its token no longer works.',
      );
    return context;
  }
}
