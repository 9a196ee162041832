/** The runtime API's HTTP plumbing: request bodies, URLs, replies and the errors that become status codes. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A request the API refuses: the HTTP status and the error code the helpers see. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Whether the request's body is plain text (not JSON). */
export function isText(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').startsWith('text/plain');
}

/**
 * The path and query of a request target in origin-form (RFC 9112 §3.2.1), or null for anything else.
 * Parsed against a fixed origin so `//host/x` or `/\\x` stay paths instead of becoming a host.
 */
export function requestUrl(target: string | undefined): URL | null {
  if (!target || !target.startsWith('/')) return null;
  try {
    return new URL(`http://local${target}`);
  } catch {
    return null;
  }
}

/**
 * Answers a request the HTTP parser refused (RFC 9110 §15.5.1: 400; §15.5.20 / RFC 6585: 431 for headers
 * too large), with a body, then closes the connection: its framing can no longer be trusted.
 */
export function answerClientError(
  err: NodeJS.ErrnoException,
  socket: Duplex,
  body: (status: number, message: string) => string,
  contentType = 'application/json',
): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const text = body(
    status,
    status === 431 ? 'The request headers are too large.' : 'The request is malformed.',
  );
  socket.end(
    `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `content-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}

/** Whether a parsed JSON body is an object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The request's body as UTF-8 text, at most `limit` bytes.
 * @throws HttpError 413 when the body is larger.
 */
export function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(new HttpError(413, 'payload_too_large', `The body is over ${limit} bytes.`));
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit && !failed) {
        failed = true;
        reject(new HttpError(413, 'payload_too_large', `The body is over ${limit} bytes.`));
      }
      if (!failed) parts.push(chunk);
    });
    req.on('end', () => failed || resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * The request's body parsed as JSON, at most `limit` bytes.
 * @throws HttpError 400 for text that is not JSON, 413 for a larger body.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readText(req, limit);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'bad_request', 'The body is not valid JSON.');
  }
}

/** Answers 200 with `data`: as the `{success, data}` envelope, or (raw) as plain JSON text. */
export function reply(res: ServerResponse, data: unknown, raw: boolean): void {
  if (raw) sendText(res, JSON.stringify(data ?? null));
  else send(res, 200, { success: true, data: data ?? null });
}

/** Answers with a JSON body (nothing when headers were already sent; 413 also closes the connection). */
export function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  };
  // The rest of an oversized body is not read: the connection cannot carry another request.
  if (status === 413) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
}

/** Answers 200 with a plain text body. */
export function sendText(res: ServerResponse, text: string): void {
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
