/**
 * Issue 9 case 5: a token signed with the right key is still refused unless it carries every claim the
 * app puts in it, with the right types. Each claim is left out (or given the wrong type) in turn and the
 * runtime API answers 401.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';

import { SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { ExecutionRegistry } from '../src/runtime/executionRegistry.ts';
import { RuntimeServer } from '../src/runtime/runtimeServer.ts';
import { REQUIRED_CLAIMS, TOKEN_AUDIENCE, TOKEN_ISSUER, TokenService } from '../src/runtime/tokens.ts';
import { KeyFileSecretStore } from '../src/secrets/secretStore.ts';
import type { SqlDatabase as Database } from '../src/store/sql.ts';
import { describeEngines } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';
import { bareContext } from './support/runtime.ts';

describeEngines('runtime tokens: every claim required', ({ openStore }) => {
  const dir = tempDir('cronium-tokens-');
  let db: Database;
  let runtime: RuntimeServer;
  let key: KeyObject;
  let base: string;

  beforeAll(async () => {
    db = await openStore({ dataDir: dir.path });
    const secrets = new KeyFileSecretStore(dir.path);
    const tokens = new TokenService(db, secrets);
    // The key is made on first use: sign once, then take the installation's own signing key, as an
    // attacker holding it would use it.
    await tokens.sign({ executionId: 'exec-t', jobId: 'job-t', serverId: 'srv-t', timeoutSec: 60 });
    const row = (await db.get<{ value: string }>(
      "SELECT value FROM settings WHERE key = 'runtime.jwt_key'",
    ))!;
    key = createSecretKey(Buffer.from(await secrets.decrypt(row.value), 'base64'));
    const registry = new ExecutionRegistry();
    registry.register(bareContext('t'));
    runtime = new RuntimeServer({
      tokens,
      registry,
      variables: {
        get: async () => null,
        set: async () => {},
        remove: async () => false,
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
  const fullClaims = (): Record<string, unknown> => ({
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    sub: 'exec-t',
    iat: now(),
    nbf: now(),
    exp: now() + 600,
    executionId: 'exec-t',
    jobId: 'job-t',
    serverId: 'srv-t',
    eventId: 'job-t',
    userId: 'local',
  });
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);
  const input = async (token: string) => {
    const res = await fetch(`${base}/executions/exec-t/input`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('accepts the full set of claims (the control case)', async () => {
    expect(await input(await sign(fullClaims()))).toEqual({
      status: 200,
      body: { success: true, data: 'in' },
    });
  });

  it('requires exp, nbf, iat, iss, aud and the execution claims', () => {
    expect([...REQUIRED_CLAIMS].sort()).toEqual(
      [
        'exp',
        'nbf',
        'iat',
        'iss',
        'aud',
        'sub',
        'executionId',
        'jobId',
        'serverId',
        'eventId',
        'userId',
      ].sort(),
    );
  });

  it.each(REQUIRED_CLAIMS.map((c) => [c]))('refuses a token without %s (401)', async (claim) => {
    const claims = fullClaims();
    delete claims[claim];
    const r = await input(await sign(claims));
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ success: false, error: 'invalid_token' });
  });

  it.each([
    ['exp', String(now() + 600)],
    ['nbf', 'yesterday'],
    ['iat', null],
    ['iss', 'someone-else'],
    ['aud', 'another-service'],
    ['sub', 'exec-other'],
    ['executionId', 42],
    ['jobId', { id: 'job-t' }],
    ['serverId', ['srv-t']],
    ['eventId', ''],
    ['userId', true],
  ])('refuses a token whose %s is %j (401)', async (claim, value) => {
    const r = await input(await sign({ ...fullClaims(), [claim]: value }));
    expect(r.status).toBe(401);
  });

  it('refuses a token not yet valid (nbf in the future) and one expired', async () => {
    expect((await input(await sign({ ...fullClaims(), nbf: now() + 3600 }))).status).toBe(401);
    expect((await input(await sign({ ...fullClaims(), exp: now() - 3600 }))).body).toMatchObject({
      error: 'token_expired',
    });
  });
});
