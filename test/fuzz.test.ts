/**
 * Issue 9 case 4: odd requests get a 4xx with the usual error body, never a 5xx or a dropped connection.
 * A bounded, seeded fuzz (loopback only) of request targets, methods, headers, bodies and encodings against
 * the runtime API and browser mode, plus the two requests the issue names.
 */
import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ExecutionRegistry } from '../src/runtime/executionRegistry.ts';
import { RuntimeServer } from '../src/runtime/runtimeServer.ts';
import { TokenService } from '../src/runtime/tokens.ts';
import { KeyFileSecretStore } from '../src/secrets/secretStore.ts';
import { openStore } from '../src/store/openStore.ts';
import type { SqlDatabase as Database } from '../src/store/sql.ts';
import { WebServer } from '../src/web/webServer.ts';
import type { CroniumApi } from '../src/contract.ts';
import { tempDir } from './support/fixtures.ts';
import { mkdirSync, writeFileSync } from 'node:fs';

const REQUESTS_PER_SERVER = Number(process.env.CRONIUM_FUZZ_COUNT ?? 300);
const SEED = Number(process.env.CRONIUM_FUZZ_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded generator, so a failure can be replayed with CRONIUM_FUZZ_SEED. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

interface RawResponse {
  /** The request was HEAD: an answer without a body (RFC 9110 §9.3.2). */
  head: boolean;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends raw bytes and reads the answer until the server closes (every request asks it to). A request
 * whose body never arrives in full (a declared length longer than what was sent) is abandoned after a
 * while by closing our side; the server may then drop it without an answer — that is `abandoned`.
 */
function raw(port: number, request: Buffer): Promise<RawResponse | { dropped: string; abandoned: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const parts: Buffer[] = [];
    let abandoned = false;
    const giveUp = setTimeout(() => {
      abandoned = true;
      socket.end();
    }, 1500);
    const timer = setTimeout(() => socket.destroy(new Error('no answer within 10 s')), 10_000);
    socket.on('data', (d) => {
      clearTimeout(giveUp);
      parts.push(d);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      const text = Buffer.concat(parts).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!status || head < 0) return resolve({ dropped: text.slice(0, 200), abandoned });
      const headers: Record<string, string> = {};
      for (const line of text.slice(0, head).split('\r\n').slice(1)) {
        const at = line.indexOf(':');
        headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      let body = text.slice(head + 4);
      if (headers['transfer-encoding'] === 'chunked') {
        let out = '';
        for (let rest = body; ;) {
          const nl = rest.indexOf('\r\n');
          const size = parseInt(rest.slice(0, nl), 16);
          if (!size) break;
          out += rest.slice(nl + 2, nl + 2 + size);
          rest = rest.slice(nl + 2 + size + 2);
        }
        body = out;
      }
      resolve({
        head: request.subarray(0, 5).toString() === 'HEAD ',
        status: Number(status[1]),
        headers,
        body: Buffer.from(body, 'latin1').toString('utf8'),
      });
    });
    socket.write(request);
  });
}

const PATH_PIECES = [
  '/',
  '//',
  '/\\',
  '\\',
  '%',
  '%E0%A4%A',
  '%zz',
  '%00',
  '%2F',
  '%5C',
  '..',
  '/..',
  '/%2e%2e/',
  'executions',
  '/executions/',
  'exec-f',
  '/input',
  '/variables/',
  'k'.repeat(300),
  'ключ',
  '😀',
  '?',
  '?format=raw',
  '#frag',
  '&',
  '=',
  ';',
  '@',
  ':',
  '*',
  'http://evil.example/',
  '~',
  ' ',
  '\t',
  'health',
  'index.html',
  'assets/',
  'ws',
];
const METHODS = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'get',
  'FOO',
  'G\u0000ET',
];
const HEADER_SETS: ((token: string, cookie: string) => string[])[] = [
  () => [],
  (token) => [`authorization: Bearer ${token}`],
  () => ['authorization: Bearer x.y.z'],
  () => ['authorization: Basic Zm9vOmJhcg=='],
  () => ['authorization: Bearer'],
  () => ['content-type: application/json'],
  () => ['content-type: text/plain; charset=utf-8'],
  () => ['content-length: 5'],
  () => ['content-length: -1'],
  () => ['content-length: 99999999999999999999'],
  () => ['content-length: 3', 'content-length: 4'],
  () => ['transfer-encoding: chunked'],
  () => ['transfer-encoding: gzip, chunked'],
  () => ['x-bad header: 1'],
  () => ['x-long: ' + 'a'.repeat(20_000)],
  () => ['x-many: 1\r\n'.repeat(300).trim()],
  () => ['host: evil.example'],
  (_t, cookie) => [`cookie: ${cookie}`],
  (_t, cookie) => [`cookie: ${cookie}`, 'origin: http://evil.example'],
  () => ['cookie: cronium_session=%E0%A4%A'],
  () => ['upgrade: websocket', 'connection: upgrade', 'sec-websocket-key: x', 'sec-websocket-version: 13'],
  () => ['expect: 100-continue'],
];
const BODIES = [
  '',
  '{}',
  '{"value":1}',
  '{"data":[1,2]}',
  '{"condition":"yes"}',
  '{',
  'null',
  '\u0000\u0001\u0002',
  '5\r\nhello\r\n0\r\n\r\n',
  'zz\r\nhello\r\n',
  'x'.repeat(5000),
  '\u00ff\u00fe',
];

function fuzzRequest(
  g: ReturnType<typeof generator>,
  hostHeader: string,
  token: string,
  cookie: string,
): Buffer {
  const pieces = Array.from({ length: 1 + g.int(5) }, () => g.pick(PATH_PIECES));
  let target = pieces.join('');
  if (g.next() < 0.8 && !target.startsWith('/')) target = '/' + target;
  const method = g.pick(METHODS);
  const version = g.next() < 0.9 ? 'HTTP/1.1' : g.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/9', 'FOO']);
  const headers = [
    ...(g.next() < 0.9 ? [`host: ${hostHeader}`] : []),
    ...g.pick(HEADER_SETS)(token, cookie),
    ...(g.next() < 0.3 ? g.pick(HEADER_SETS)(token, cookie) : []),
    'connection: close',
  ];
  const body = g.pick(BODIES);
  if (body && !headers.some((h) => /^(content-length|transfer-encoding)/i.test(h)))
    headers.push(`content-length: ${Buffer.byteLength(body, 'latin1')}`);
  return Buffer.from(`${method} ${target} ${version}\r\n${headers.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

describe('odd requests get 4xx with the usual error body', () => {
  const dir = tempDir('cronium-fuzz-');
  let db: Database;
  let tokens: TokenService;
  let runtime: RuntimeServer;
  let runtimePort: number;
  let web: WebServer;
  let webPort: number;
  let token: string;
  let cookie: string;

  beforeAll(async () => {
    db = await openStore({ dataDir: dir.path });
    tokens = new TokenService(db, new KeyFileSecretStore(dir.path));
    const registry = new ExecutionRegistry();
    registry.register({
      executionId: 'exec-f',
      jobId: 'j',
      serverId: 's',
      input: { a: 1 },
      event: {},
      output: undefined,
      outputSet: false,
      condition: null,
      changes: [],
    });
    const store = new Map<string, unknown>();
    runtime = new RuntimeServer({
      tokens,
      registry,
      variables: {
        get: async (k) => (store.has(k) ? { value: store.get(k) } : null),
        set: async (k, v) => void store.set(k, v),
        remove: async (k) => store.delete(k),
        all: async () => [],
      },
      maxBodyBytes: 4096,
    });
    runtimePort = (await runtime.listen(0)).port;
    token = await tokens.sign({ executionId: 'exec-f', jobId: 'j', serverId: 's', timeoutSec: 600 });

    const staticDir = `${dir.path}/static`;
    mkdirSync(`${staticDir}/assets`, { recursive: true });
    writeFileSync(`${staticDir}/index.html`, '<!doctype html><title>Cronium</title>');
    writeFileSync(`${staticDir}/assets/app.js`, 'void 0;');
    web = new WebServer({
      api: { listServers: () => [] } as unknown as CroniumApi,
      subscribe: () => () => {},
      staticDir,
    });
    webPort = (await web.listen()).port;
    cookie = `cronium_session=${web.token}`;
  });
  afterAll(async () => {
    await web.close();
    await runtime.close();
    await db.close();
    dir.remove();
  });

  type Answer = RawResponse | { dropped: string; abandoned: boolean };

  function expectRuntimeAnswer(r: Answer, what: string) {
    if ('abandoned' in r && r.abandoned) return;
    expect('status' in r, `${what}: no HTTP answer (${JSON.stringify(r)})`).toBe(true);
    const res = r as RawResponse;
    expect(res.status, `${what}: ${res.body}`).toBeLessThan(500);
    if (res.status >= 400) {
      expect(res.headers['content-type'] ?? '', what).toBe('application/json');
      if (res.head) return;
      expect(JSON.parse(res.body || 'null'), what).toEqual({
        success: false,
        error: expect.any(String),
        message: expect.any(String),
      });
    }
  }

  function expectWebAnswer(r: Answer, what: string) {
    if ('abandoned' in r && r.abandoned) return;
    expect('status' in r, `${what}: no HTTP answer (${JSON.stringify(r)})`).toBe(true);
    const res = r as RawResponse;
    expect(res.status, `${what}: ${res.body}`).toBeLessThan(500);
    if (res.status >= 400) {
      expect(res.headers['content-type'] ?? '', what).toMatch(/^text\/plain/);
      if (res.head) return;
      expect(res.body.trim().length, what).toBeGreaterThan(0);
    }
  }

  it('answers the requests the issue names with 400/404 and the usual body', async () => {
    for (const target of ['//', '//x', '/\\x', '//executions/exec-f/input', '/\\\\evil']) {
      const r = await raw(
        runtimePort,
        Buffer.from(`GET ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`),
      );
      expectRuntimeAnswer(r, target);
      expect((r as RawResponse).status).toBe(404);
    }
    const web1 = await raw(
      webPort,
      Buffer.from(
        `GET /%E0%A4%A HTTP/1.1\r\nhost: 127.0.0.1:${webPort}\r\ncookie: ${cookie}\r\nconnection: close\r\n\r\n`,
      ),
    );
    expectWebAnswer(web1, '/%E0%A4%A');
    expect((web1 as RawResponse).status).toBe(400);
    const web2 = await raw(
      webPort,
      Buffer.from(
        `GET // HTTP/1.1\r\nhost: 127.0.0.1:${webPort}\r\ncookie: ${cookie}\r\nconnection: close\r\n\r\n`,
      ),
    );
    expectWebAnswer(web2, '//');
  });

  it(`survives ${REQUESTS_PER_SERVER} random requests per server (seed ${SEED}) without a 5xx`, async () => {
    const g = generator(SEED);
    const jobs: (() => Promise<void>)[] = [];
    for (let i = 0; i < REQUESTS_PER_SERVER; i++) {
      const rtReq = fuzzRequest(g, `127.0.0.1:${runtimePort}`, token, cookie);
      jobs.push(async () =>
        expectRuntimeAnswer(
          await raw(runtimePort, rtReq),
          `runtime #${i} ${rtReq.toString('latin1').slice(0, 120)}`,
        ),
      );
      const webReq = fuzzRequest(g, `127.0.0.1:${webPort}`, token, cookie);
      jobs.push(async () =>
        expectWebAnswer(await raw(webPort, webReq), `web #${i} ${webReq.toString('latin1').slice(0, 120)}`),
      );
    }
    // Eight at a time: bounded load on a shared machine.
    for (let i = 0; i < jobs.length; i += 8) await Promise.all(jobs.slice(i, i + 8).map((j) => j()));
  }, 180_000);
});
