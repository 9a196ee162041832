import { createServer } from 'node:net';

import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';

import {
  ExecutionRegistry,
  type RuntimeContext,
  type VariableAccess,
} from '../src/runtime/executionRegistry.ts';
import { RuntimeServer } from '../src/runtime/runtimeServer.ts';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, TokenService } from '../src/runtime/tokens.ts';
import { KeyFileSecretStore } from '../src/secrets/secretStore.ts';
import type { SqlDatabase as Database } from '../src/store/sql.ts';
import { describeEngines } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

function context(executionId: string): RuntimeContext {
  return {
    executionId,
    jobId: 'job-1',
    serverId: 'srv-1',
    input: { hello: 'world' },
    event: { executionId },
    output: undefined,
    outputSet: false,
    condition: null,
    changes: [],
  };
}

describeEngines('runtime API (real HTTP on loopback)', ({ openStore }) => {
  const dir = tempDir();
  let db: Database;
  let tokens: TokenService;
  let registry: ExecutionRegistry;
  let runtime: RuntimeServer;
  let base: string;
  const store = new Map<string, unknown>();
  const variables: VariableAccess = {
    get: async (k) => (store.has(k) ? { value: store.get(k) } : null),
    set: async (k, v) => void store.set(k, v),
    remove: async (k) => store.delete(k),
    all: async () => [...store].map(([key, value]) => ({ key, value })),
  };

  beforeAll(async () => {
    db = await openStore({ dataDir: dir.path });
    tokens = new TokenService(db, new KeyFileSecretStore(dir.path));
    registry = new ExecutionRegistry({ burst: 50, perSecond: 0 });
    runtime = new RuntimeServer({ tokens, registry, variables, maxBodyBytes: 1024 });
    const { port } = await runtime.listen(0);
    base = `http://127.0.0.1:${port}`;
    registry.register(context('exec-a'));
    registry.register(context('exec-b'));
  });
  afterAll(async () => {
    await runtime.close();
    await db.close();
    dir.remove();
  });

  const sign = async (executionId: string, timeoutSec = 60) =>
    await tokens.sign({ executionId, jobId: 'job-1', serverId: 'srv-1', timeoutSec });
  const call = async (path: string, token: string | null, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (token !== null) headers.set('authorization', `Bearer ${token}`);
    const res = await fetch(base + path, { ...init, headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('answers /health without a token, and listens on loopback only', async () => {
    expect(await call('/health', null)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(runtime.port).toBeGreaterThan(0);
    // Bound to 127.0.0.1, not 0.0.0.0: another address of this machine does not reach it.
    const other = (await import('node:os')).networkInterfaces();
    const external = Object.values(other)
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) await expect(fetch(`http://${external.address}:${runtime.port}/health`)).rejects.toThrow();
  });

  it('serves input, output, variables, condition and context with its own token', async () => {
    const token = await sign('exec-a');
    expect(await call('/executions/exec-a/input', token)).toEqual({
      status: 200,
      body: { success: true, data: { hello: 'world' } },
    });
    expect(
      (
        await call('/executions/exec-a/output', token, {
          method: 'POST',
          body: JSON.stringify({ data: [1, 'x'] }),
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(200);
    expect(registry.get('exec-a')!.output).toEqual([1, 'x']);
    expect(
      (
        await call('/executions/exec-a/variables/k%3A1', token, {
          method: 'PUT',
          body: JSON.stringify({ value: { deep: true } }),
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(200);
    expect(await call('/executions/exec-a/variables/k%3A1', token)).toEqual({
      status: 200,
      body: { success: true, data: { key: 'k:1', value: { deep: true } } },
    });
    expect((await call('/executions/exec-a/variables/nope', token)).status).toBe(404);
    expect(
      (
        await call('/executions/exec-a/condition', token, {
          method: 'POST',
          body: '{"condition":true}',
          headers: { 'content-type': 'application/json' },
        })
      ).body,
    ).toEqual({ success: true, data: { condition: true } });
    expect((await call('/executions/exec-a/context', token)).body).toEqual({
      success: true,
      data: { executionId: 'exec-a' },
    });
    expect((await call('/executions/exec-a/variables/k%3A1', token, { method: 'DELETE' })).status).toBe(200);
    expect(registry.get('exec-a')!.changes).toEqual([{ key: 'k:1', op: 'delete' }]);
  });

  it.each([
    ['missing', null, 401, 'missing_token'],
    ['malformed', 'not-a-jwt', 401, 'invalid_token'],
  ])('refuses a %s token', async (_what, token, status, error) => {
    const r = await call('/executions/exec-a/input', token);
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject({ success: false, error });
  });

  it('refuses expired, forged, alg:none, other-algorithm and wrong-audience tokens', async () => {
    const expired = await sign('exec-a', -400);
    expect((await call('/executions/exec-a/input', expired)).body).toMatchObject({ error: 'token_expired' });
    const claims = { executionId: 'exec-a', jobId: 'job-1', serverId: 'srv-1' };
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject('exec-a')
      .setExpirationTime('1h')
      .sign(new Uint8Array(32).fill(7));
    expect((await call('/executions/exec-a/input', forged)).status).toBe(401);
    const none = new UnsecuredJWT(claims)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject('exec-a')
      .setExpirationTime('1h')
      .encode();
    expect((await call('/executions/exec-a/input', none)).status).toBe(401);
    const good = await sign('exec-a');
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const hs512Header = Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT' })).toString('base64url');
    expect((await call('/executions/exec-a/input', `${hs512Header}.${payload}.${signature}`)).status).toBe(
      401,
    );
    const tamperedPayload = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
        executionId: 'exec-b',
        sub: 'exec-b',
      }),
    ).toString('base64url');
    expect((await call('/executions/exec-b/input', `${header}.${tamperedPayload}.${signature}`)).status).toBe(
      401,
    );
    expect((await call('/executions/exec-a/input', good)).status).toBe(200);
  });

  it("refuses another execution's token (403), and a finished execution's token (403)", async () => {
    const tokenB = await sign('exec-b');
    expect((await call('/executions/exec-a/input', tokenB)).body).toMatchObject({ error: 'forbidden' });
    registry.register(context('exec-done'));
    const done = await sign('exec-done');
    expect((await call('/executions/exec-done/input', done)).status).toBe(200);
    registry.unregister('exec-done');
    expect(await call('/executions/exec-done/input', done)).toMatchObject({
      status: 403,
      body: { error: 'execution_finished' },
    });
  });

  it('answers 400 to malformed bodies and 413 to oversized ones', async () => {
    const token = await sign('exec-a');
    const post = (body: string) =>
      call('/executions/exec-a/output', token, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
    expect((await post('{nope')).body).toMatchObject({ error: 'bad_request' });
    expect((await post('{"notdata":1}')).status).toBe(400);
    expect((await post(JSON.stringify({ data: 'x'.repeat(2000) }))).body).toMatchObject({
      error: 'payload_too_large',
    });
    expect(
      (await call('/executions/exec-a/condition', token, { method: 'POST', body: '{"condition":"maybe"}' }))
        .status,
    ).toBe(400);
  });

  it('rate-limits each execution on its own (429)', async () => {
    registry.register(context('exec-busy'));
    const token = await sign('exec-busy');
    const statuses: number[] = [];
    for (let i = 0; i < 55; i++) statuses.push((await call('/executions/exec-busy/context', token)).status);
    expect(statuses.slice(0, 50).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(50).every((s) => s === 429)).toBe(true);
    // Others are not affected.
    expect((await call('/executions/exec-b/context', await sign('exec-b'))).status).toBe(200);
  });

  it('takes a free port, and says so, when its port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    const second = new RuntimeServer({ tokens, registry, variables });
    const { port, note } = await second.listen(taken);
    expect(port).not.toBe(taken);
    expect(note).toBe(`runtime port ${taken} is taken; the runtime listens on 127.0.0.1:${port} instead`);
    await second.close();
    blocker.close();
  });
});
