/**
 * Follow-ups found by a fresh tester (issues 8 and 9):
 * 1. one variable-key rule, checked by the helpers themselves in both modes and every language, with the
 *    message of every other door (and Bash decodes the JSON escapes of the app's messages);
 * 2. one rule for output field keys (`cronium.output <key> <value>`, `output?key=`, bundled collection);
 * 3. browser mode answers odd targets (`//x`, `/\x`, backslashes, dot segments) with 404, not the app;
 * 4. a runtime token issued in the future is refused.
 * Helpers run on the real test hosts (own test user); the servers are the real runtime and web servers.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';

import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CroniumApi } from '../src/contract.ts';
import { VARIABLE_KEY_MESSAGE } from '../src/core/rules.ts';
import { ExecutionRegistry } from '../src/runtime/executionRegistry.ts';
import { FIELD_KEY_ERROR, KEY_ERROR } from '../src/runtime/helperRules.ts';
import { RuntimeServer } from '../src/runtime/runtimeServer.ts';
import { IAT_TOLERANCE_SEC, TOKEN_AUDIENCE, TOKEN_ISSUER, TokenService } from '../src/runtime/tokens.ts';
import { KeyFileSecretStore } from '../src/secrets/secretStore.ts';
import type { CroniumService } from '../src/service/service.ts';
import { openStore } from '../src/store/openStore.ts';
import type { SqlDatabase as Database } from '../src/store/sql.ts';
import { oddPath, WebServer } from '../src/web/webServer.ts';
import { ownHosts, runJob, serviceWithHosts, tempDir } from './support/fixtures.ts';
import { bareContext } from './support/runtime.ts';

const MODES = ['api', 'bundled'] as const;
const LONG = 'k'.repeat(107);
const BAD_KEYS = ['a/b', LONG, '', 'sp ace', 'é', 'new\nline'];

describe('helpers: one key rule in both modes (real host)', () => {
  let h: ReturnType<typeof ownHosts>;
  let service: CroniumService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    h = ownHosts('vfu');
    ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 0 }, h));
  });
  afterAll(async () => {
    await close();
    h.removeUser();
  });

  const bashKeys = BAD_KEYS.map((k) => `$'${k.replace(/\n/g, '\\n')}'`).join(' ');
  const scripts = {
    bash: `for k in ${bashKeys}; do
  cronium.setVariable "$k" 1; echo "set rc=$?"
  cronium.getVariable "$k"; echo "get rc=$?"
  cronium.deleteVariable "$k"; echo "del rc=$?"
  cronium.incrementVariable "$k"; echo "inc rc=$?"
  cronium.appendVariable "$k" x; echo "app rc=$?"
done
cronium.setVariable good.key-1:x 7; echo "good rc=$?"
`,
    python: `for k in ${JSON.stringify(BAD_KEYS)}:
    for name, call in (("set", lambda: cronium.setVariable(k, 1)), ("get", lambda: cronium.getVariable(k)),
                       ("del", lambda: cronium.deleteVariable(k)), ("inc", lambda: cronium.incrementVariable(k)),
                       ("app", lambda: cronium.appendVariable(k, "x"))):
        try:
            call()
            print(name, "accepted")
        except cronium.CroniumAPIError as e:
            print(name, e.status_code, e.message)
cronium.setVariable("good.key-1:x", 7)
`,
    node: `for (const k of ${JSON.stringify(BAD_KEYS)}) {
  for (const [name, call] of [['set', () => cronium.setVariable(k, 1)], ['get', () => cronium.getVariable(k)],
    ['del', () => cronium.deleteVariable(k)], ['inc', () => cronium.incrementVariable(k)],
    ['app', () => cronium.appendVariable(k, 'x')]]) {
    try { call(); console.log(name, 'accepted'); } catch (e) { console.log(name, e.statusCode, e.message); }
  }
}
cronium.setVariable('good.key-1:x', 7);
`,
  };

  describe.each(['bash', 'python', 'node'] as const)('%s', (language) => {
    it('refuses every bad key before writing or sending, the same way in API and bundled mode', async () => {
      const outcomes: { status: string; stdout: string; stderr: string }[] = [];
      for (const mode of MODES) {
        for (const v of await service.listVariables()) await service.removeVariable(v.key);
        const r = await runJob(service, { language, script: scripts[language] }, ['h1'], {
          helperMode: mode,
        });
        expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: mode });
        const stdout = r.text('h1', 'stdout');
        const stderr = r.text('h1', 'stderr');
        const calls = BAD_KEYS.length * 5;
        if (language === 'bash') {
          expect(stdout.match(/ rc=1\n/g)).toHaveLength(calls);
          // The whole message of every door, once per refused call; no collect line besides.
          expect(stderr).toBe(`cronium: ${KEY_ERROR}\n`.repeat(calls));
          expect(stdout).toContain('good rc=0');
        } else {
          expect(stdout.match(new RegExp(`^\\w+ 400 ${escape(KEY_ERROR)}$`, 'gm'))).toHaveLength(calls);
          expect(stdout).not.toContain('accepted');
          expect(stderr).toBe('');
        }
        // Nothing half-written: only the good key reached the store.
        expect((await service.listVariables()).map((v) => [v.key, v.value])).toEqual([['good.key-1:x', 7]]);
        outcomes.push({ status: r.exec.status, stdout, stderr });
      }
      expect(outcomes[0]).toEqual(outcomes[1]);
    });
  });

  it('the message is the rule of every door', async () => {
    expect(KEY_ERROR).toBe(`Invalid input — key: ${VARIABLE_KEY_MESSAGE}`);
  });

  it.each(MODES)(
    'in %s mode, past the helper check the app still holds the rule; Bash reads escaped messages whole',
    async (mode) => {
      for (const v of await service.listVariables()) await service.removeVariable(v.key);
      // CRONIUM_KEY_PATTERN emptied: the helper's own check is off, as in a hand-made call.
      const script = `CRONIUM_KEY_PATTERN=
cronium.setVariable "a/b" 1; echo "slash rc=$?"
cronium.setVariable "" 1; echo "empty rc=$?"
cronium.getVariable ""; echo "get rc=$?"
`;
      const r = await runJob(service, { language: 'bash', script }, ['h1'], { helperMode: mode });
      const stderr = r.text('h1', 'stderr');
      expect(await service.listVariables()).toEqual([]);
      if (mode === 'api') {
        // Quotes and the dash come back decoded, not cut at the first \" of the JSON text.
        expect(r.text('h1', 'stdout')).toBe('slash rc=1\nempty rc=1\nget rc=1\n');
        expect(stderr).toBe(`cronium: ${KEY_ERROR}\n`.repeat(3));
        expect(stderr).not.toContain('No endpoint');
      } else {
        // Bundled mode: what slipped past is refused at collection, with a line in the log.
        const system = r.text('h1', 'system');
        expect(system).toContain(`cronium.setVariable("a/b"): ${VARIABLE_KEY_MESSAGE}`);
        expect(system).toContain(`cronium.setVariable(""): ${VARIABLE_KEY_MESSAGE}`);
      }
    },
  );

  it('refuses bad output field keys the same way in both modes; the good field is kept', async () => {
    const outcomes = [];
    for (const mode of MODES) {
      const script = `cronium.output ok 1; echo "ok rc=$?"
for k in __proto__ constructor prototype "$(printf 'k%.0s' $(seq 10000))" 'a/b' ''; do
  cronium.output "$k" 2; echo "bad rc=$?"
done
`;
      const r = await runJob(service, { language: 'bash', script }, ['h1'], { helperMode: mode });
      const stdout = r.text('h1', 'stdout');
      const stderr = r.text('h1', 'stderr');
      expect(stdout).toBe('ok rc=0\n' + 'bad rc=1\n'.repeat(6));
      expect(stderr).toBe(`cronium: ${FIELD_KEY_ERROR}\n`.repeat(3) + `cronium: ${KEY_ERROR}\n`.repeat(3));
      expect(r.exec.output).toEqual({ ok: 1 });
      outcomes.push({ status: r.exec.status, stdout, stderr });
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
  });

  it.each(MODES)('in %s mode, a field key past the helper check is not recorded', async (mode) => {
    const script = `cronium.output ok 1
CRONIUM_KEY_PATTERN= CRONIUM_FIELD_KEY_RESERVED= cronium.output __proto__ 2
CRONIUM_KEY_PATTERN= cronium.output 'a/b' 3
true
`;
    const r = await runJob(service, { language: 'bash', script }, ['h1'], { helperMode: mode });
    expect(r.exec.output).toEqual({ ok: 1 });
    expect(Object.keys(r.exec.output as object)).toEqual(['ok']);
    const stderr = r.text('h1', 'stderr');
    if (mode === 'api') expect(stderr).toBe(`cronium: ${FIELD_KEY_ERROR}\ncronium: ${KEY_ERROR}\n`);
    else {
      const system = r.text('h1', 'system');
      expect(system).toContain(`cronium.output("__proto__"): ${FIELD_KEY_ERROR}`);
      expect(system).toContain(`cronium.output("a/b"): ${KEY_ERROR}`);
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('runtime API: field keys, empty key segment, future iat (real server)', () => {
  const dir = tempDir('cronium-vfu-');
  let db: Database;
  let runtime: RuntimeServer;
  let tokens: TokenService;
  let registry: ExecutionRegistry;
  let key: KeyObject;
  let base: string;
  const stored = new Map<string, unknown>();

  beforeAll(async () => {
    db = await openStore({ dataDir: dir.path });
    const secrets = new KeyFileSecretStore(dir.path);
    tokens = new TokenService(db, secrets);
    await tokens.sign({ executionId: 'exec-v', jobId: 'job-v', serverId: 'srv-v', timeoutSec: 60 });
    const row = (await db.get<{ value: string }>(
      "SELECT value FROM settings WHERE key = 'runtime.jwt_key'",
    ))!;
    key = createSecretKey(Buffer.from(await secrets.decrypt(row.value), 'base64'));
    registry = new ExecutionRegistry();
    registry.register(bareContext('v'));
    runtime = new RuntimeServer({
      tokens,
      registry,
      variables: {
        get: async (k) => (stored.has(k) ? { value: stored.get(k) } : null),
        set: async (k, v) => void stored.set(k, v),
        remove: async (k) => stored.delete(k),
        all: async () => [],
      },
    });
    base = `http://127.0.0.1:${(await runtime.listen(0)).port}`;
  });
  afterAll(async () => {
    await runtime.close();
    await db.close();
    dir.remove();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (iat: number) => ({
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    sub: 'exec-v',
    iat,
    nbf: now(),
    exp: now() + 600,
    executionId: 'exec-v',
    jobId: 'job-v',
    serverId: 'srv-v',
    eventId: 'job-v',
    userId: 'local',
  });
  const sign = (c: Record<string, unknown>) =>
    new SignJWT(c).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);
  const call = async (path: string, init: RequestInit = {}, token?: string) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token ?? (await sign(claims(now())))}`);
    const res = await fetch(`${base}/executions/exec-v/${path}`, { ...init, headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('refuses a token issued in the future, past the clock tolerance', async () => {
    expect((await call('input', {}, await sign(claims(now())))).status).toBe(200);
    expect((await call('input', {}, await sign(claims(now() + IAT_TOLERANCE_SEC - 5)))).status).toBe(200);
    for (const ahead of [IAT_TOLERANCE_SEC + 5, 3600, 10 * 365 * 86400])
      expect(await call('input', {}, await sign(claims(now() + ahead)))).toEqual({
        status: 401,
        body: { success: false, error: 'invalid_token', message: 'The token is not valid.' },
      });
    // The app's own tokens carry iat = now.
    const own = await tokens.sign({
      executionId: 'exec-v',
      jobId: 'job-v',
      serverId: 'srv-v',
      timeoutSec: 60,
    });
    expect((await call('input', {}, own)).status).toBe(200);
  });

  it('answers an empty key segment with the key rule', async () => {
    for (const method of ['GET', 'PUT', 'DELETE'])
      expect(
        await call('variables/', {
          method,
          ...(method === 'PUT' ? { body: '1', headers: { 'content-type': 'text/plain' } } : {}),
        }),
      ).toEqual({ status: 400, body: { success: false, error: 'invalid_input', message: KEY_ERROR } });
    expect((await call('variables//increment', { method: 'POST', body: '{}' })).body.message).toBe(KEY_ERROR);
    expect(stored.size).toBe(0);
    // Other resources keep answering 404 for a trailing slash.
    expect((await call('input/')).status).toBe(404);
  });

  it('holds output field keys to the rule; __proto__ never reaches the output', async () => {
    const text = (body: string): RequestInit => ({
      method: 'POST',
      body,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
    expect((await call('output?key=ok', text('1'))).status).toBe(200);
    const refused = [
      ['__proto__', FIELD_KEY_ERROR],
      ['constructor', FIELD_KEY_ERROR],
      ['prototype', FIELD_KEY_ERROR],
      ['k'.repeat(10_000), KEY_ERROR],
      ['a/b', KEY_ERROR],
      ['', KEY_ERROR],
    ];
    for (const [k, message] of refused)
      expect(await call(`output?key=${encodeURIComponent(k!)}`, text('{"polluted":true}'))).toEqual({
        status: 400,
        body: { success: false, error: 'invalid_input', message },
      });
    const context = registry.get('exec-v')!;
    expect(context.output).toEqual({ ok: 1 });
    expect(Object.getPrototypeOf(context.output)).toBe(Object.prototype);
  });
});

describe('browser mode: odd targets get 404 with the cookie (real server)', () => {
  const dir = tempDir('cronium-vfu-web-');
  let web: WebServer;
  let port: number;
  let cookie: string;

  beforeAll(async () => {
    const staticDir = `${dir.path}/static`;
    mkdirSync(`${staticDir}/assets`, { recursive: true });
    writeFileSync(`${staticDir}/index.html`, '<!doctype html><title>Cronium</title>');
    writeFileSync(`${staticDir}/assets/app.js`, 'void 0;');
    web = new WebServer({
      api: { listServers: () => [] } as unknown as CroniumApi,
      subscribe: () => () => {},
      staticDir,
    });
    port = (await web.listen()).port;
    cookie = `cronium_session=${web.token}`;
  });
  afterAll(async () => {
    await web.close();
    dir.remove();
  });

  /** A raw request target, sent as is (fetch would normalize it). */
  const get = (target: string) =>
    new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: target, headers: { cookie } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            type: String(res.headers['content-type']),
            body: Buffer.concat(parts).toString(),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });

  const ODD = [
    '//x',
    '//evil.example/path',
    '/\\x',
    '/\\\\evil.example',
    '/a\\b',
    '/%5Cx',
    '/%5C%5Cevil.example',
    '/%2F%2Fx',
    '/..',
    '/a/../b',
    '/a/%2e%2e/b',
    '/%2E%2E/index.html',
    '/./servers',
    '/assets/../index.html',
    '/servers/..?token=x',
  ];

  it.each(ODD)('%s → 404 with the usual body', async (target) => {
    expect(oddPath(target)).toBe(true);
    expect(await get(target)).toEqual({
      status: 404,
      type: 'text/plain; charset=utf-8',
      body: 'Not found.\n',
    });
  });

  it.each(['/', '/servers', '/jobs/abc', '/history?job=a..b', '/assets/app.js', '/a..b/c'])(
    '%s is still served',
    async (target) => {
      expect(oddPath(target)).toBe(false);
      const res = await get(target);
      expect(res.status).toBe(200);
      expect(res.body).toBe(
        target === '/assets/app.js' ? 'void 0;' : '<!doctype html><title>Cronium</title>',
      );
    },
  );
});
