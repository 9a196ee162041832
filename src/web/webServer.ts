/**
 * Browser mode (`cronium serve`): the same renderer and the same contract, over HTTP and a WebSocket, on
 * 127.0.0.1 only, behind a random token printed with the URL. Without the token nothing is served but a
 * refusal; the Host and Origin headers are checked so another site cannot reach it through the browser.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { Duplex } from 'node:stream';

import { WebSocketServer, type WebSocket } from 'ws';

import { createDispatcher, type Dispatch } from '../api/dispatcher.ts';
import type { CoreEvent, CroniumApi } from '../contract.ts';
import { answerClientError, requestUrl } from '../runtime/runtimeServer.ts';

export interface WebServerOptions {
  api: CroniumApi;
  subscribe: (listener: (event: CoreEvent) => void) => () => void;
  /** The built renderer (index.html and assets). */
  staticDir: string;
  port?: number;
  token?: string;
}

const COOKIE = 'cronium_session';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export class WebServer {
  readonly token: string;
  private readonly options: WebServerOptions;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly dispatch: Dispatch;
  private readonly unsubscribe: () => void;
  private port = 0;

  constructor(options: WebServerOptions) {
    this.options = options;
    this.token = options.token ?? randomBytes(24).toString('base64url');
    this.dispatch = createDispatcher(options.api);
    // A request without Host is refused by hostOk() with the usual body, not by Node's bare 400.
    this.http = createServer({ requireHostHeader: false }, (req, res) => {
      this.handle(req, res).catch(() => {
        // Only a fault of this server gets here: odd requests are answered 4xx in handle().
        if (!res.headersSent) res.writeHead(500).end('Internal error');
      });
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 });
    this.http.on('upgrade', (req, socket, head) => {
      if (
        requestUrl(req.url)?.pathname !== '/ws' ||
        !this.hostOk(req) ||
        !this.originOk(req) ||
        !this.authorized(req)
      ) {
        const message = 'Refused: only the app page may open the live connection.\n';
        socket.end(
          'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\n' +
            `content-length: ${Buffer.byteLength(message)}\r\nconnection: close\r\n\r\n${message}`,
        );
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.serveSocket(ws));
    });
    this.http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) =>
      answerClientError(err, socket, (_status, message) => message + '\n', 'text/plain; charset=utf-8'),
    );
    this.unsubscribe = options.subscribe((event) => {
      const message = JSON.stringify({ type: 'event', event });
      for (const client of this.wss.clients) if (client.readyState === client.OPEN) client.send(message);
    });
  }

  async listen(): Promise<{ port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.port = (this.http.address() as AddressInfo).port;
    return { port: this.port, url: `http://127.0.0.1:${this.port}/?token=${this.token}` };
  }

  async close(): Promise<void> {
    this.unsubscribe();
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private serveSocket(ws: WebSocket): void {
    ws.on('message', async (data) => {
      let message: { id?: unknown; method?: unknown; args?: unknown };
      try {
        message = JSON.parse(String(data)) as typeof message;
      } catch {
        return;
      }
      const result = await this.dispatch(message.method, message.args);
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'result', id: message.id, result }));
    });
  }

  /** Only the names this server answers to (a DNS-rebinding page would send its own host). */
  private hostOk(req: IncomingMessage): boolean {
    const host = req.headers.host ?? '';
    return host === `127.0.0.1:${this.port}` || host === `localhost:${this.port}`;
  }

  private originOk(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    return origin === `http://127.0.0.1:${this.port}` || origin === `http://localhost:${this.port}`;
  }

  private authorized(req: IncomingMessage): boolean {
    const fromQuery = requestUrl(req.url)?.searchParams.get('token');
    const fromCookie = (req.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim().split('='))
      .find(([name]) => name === COOKIE)?.[1];
    return [fromQuery, fromCookie].some((t) => t !== null && t !== undefined && this.tokenMatches(t));
  }

  private tokenMatches(candidate: string): boolean {
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.hostOk(req)) return refuse(res, 403, 'This server only answers at 127.0.0.1 or localhost.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Only GET is served here.');
    if (!this.authorized(req)) {
      return refuse(
        res,
        401,
        'This Cronium browser session needs the link with its token, as printed by "cronium serve".',
      );
    }
    const url = requestUrl(req.url);
    if (!url) return refuse(res, 400, 'The request target is not a path.');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return refuse(res, 400, 'The path is not valid URL encoding.');
    }
    if (path.includes('\0') || oddPath(req.url!)) return refuse(res, 404, 'Not found.');
    const headers: Record<string, string> = {
      'content-security-policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws://127.0.0.1:${this.port} ws://localhost:${this.port}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    // The token came in the link: keep it in an HttpOnly cookie, and take it out of the address bar.
    if (url.searchParams.has('token')) {
      res.writeHead(303, {
        ...headers,
        'set-cookie': `${COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=/`,
        location: url.pathname,
      });
      res.end();
      return;
    }
    const root = normalize(this.options.staticDir) + sep;
    const file = normalize(join(root, url.pathname === '/' ? 'index.html' : path));
    if (!file.startsWith(root)) return refuse(res, 404, 'Not found.');
    let body: Buffer;
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      body = await readFile(file);
    } catch {
      // Client-side routes fall back to the app itself.
      if (extname(url.pathname)) return refuse(res, 404, 'Not found.');
      body = await readFile(join(root, 'index.html'));
      res.writeHead(200, { ...headers, 'content-type': TYPES['.html']! });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

/**
 * A request target no link of the app makes, which must not get the app page that real routes fall back
 * to: a path starting `//` or `/\` (a scheme-relative URL to a browser), holding a backslash, or a `.` or
 * `..` segment (RFC 3986 §5.2.4 dot segments, which URL parsing would quietly resolve), each also when
 * percent-encoded. `target` is the raw request target; its percent-encoding was checked by the caller.
 */
export function oddPath(target: string): boolean {
  const rawPath = target.replace(/[?#].*$/s, '');
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return true;
  }
  if (/^\/[/\\]/.test(rawPath) || /^\/[/\\]/.test(path)) return true;
  if (rawPath.includes('\\') || path.includes('\\')) return true;
  return path.split('/').some((segment) => segment === '.' || segment === '..');
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(message + '\n');
}
