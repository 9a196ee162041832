import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

import type * as Jose from 'jose';

import type { SecretStore } from '../secrets/secretStore.ts';
import type { Sql } from '../store/sql.ts';

export const TOKEN_ISSUER = 'cronium-desktop';
export const TOKEN_AUDIENCE = 'cronium-runtime';
/** Past the job's timeout, so a token never dies before its execution does. */
const EXPIRY_MARGIN_SEC = 300;
/**
 * How far in the future a token's `iat` may be (clock skew between the app's own processes is nil; this
 * allows for a clock stepped back by NTP). A later `iat` means a token not issued by this app: refused.
 */
export const IAT_TOLERANCE_SEC = 60;

/** The claims an execution's token carries, all required by verify(): strings naming what it opens. */
export const EXECUTION_CLAIMS = ['sub', 'executionId', 'jobId', 'serverId', 'eventId', 'userId'] as const;
/** Every claim verify() requires (RFC 7519 §4.1 registered claims, then the execution's own). */
export const REQUIRED_CLAIMS = ['exp', 'nbf', 'iat', 'iss', 'aud', ...EXECUTION_CLAIMS];

export interface TokenClaims {
  executionId: string;
  jobId: string;
  serverId: string;
  timeoutSec: number;
}

export interface VerifiedToken {
  executionId: string;
  jobId: string;
  serverId: string;
}

export type TokenFailure = 'malformed' | 'expired' | 'invalid';

/**
 * jose, loaded when the first token is signed or checked: a run whose helpers go no API way (bundled mode,
 * a script that names no helper) never loads it, which keeps it off `cronium run`'s start-up.
 */
let jose: Promise<typeof Jose> | null = null;
const loadJose = () => (jose ??= import('jose'));

/**
 * Per-execution JWTs (HS256, jose). The signing key is 256 random bits per installation, sealed by the
 * SecretStore in the settings table.
 */
export class TokenService {
  /** A KeyObject made once: jose would otherwise import the raw key again on every sign and verify. */
  private keyObject: Promise<KeyObject> | null = null;
  private readonly db: Sql;
  private readonly secrets: SecretStore;

  constructor(db: Sql, secrets: SecretStore) {
    this.db = db;
    this.secrets = secrets;
  }

  /** Loaded on first use, so commands that sign nothing never need the secret store. */
  private key(): Promise<KeyObject> {
    this.keyObject ??= loadOrCreateKey(this.db, this.secrets).then(createSecretKey, (err: unknown) => {
      // Not kept: a secret store that was locked may open on the next try.
      this.keyObject = null;
      throw err;
    });
    return this.keyObject;
  }

  async sign(claims: TokenClaims, userId = 'local'): Promise<string> {
    const { SignJWT } = await loadJose();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      jobId: claims.jobId,
      executionId: claims.executionId,
      eventId: claims.jobId,
      userId,
      serverId: claims.serverId,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(claims.executionId)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + claims.timeoutSec + EXPIRY_MARGIN_SEC)
      .sign(await this.key());
  }

  async verify(token: string): Promise<VerifiedToken | TokenFailure> {
    const { errors: joseErrors, jwtVerify } = await loadJose();
    try {
      // jose checks the types of exp, nbf and iat (numbers) and the values of iss and aud when present;
      // requiredClaims makes every one of them, and the execution's own claims, present.
      const { payload } = await jwtVerify(token, await this.key(), {
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        requiredClaims: REQUIRED_CLAIMS,
      });
      const claims = payload as Record<string, unknown>;
      const { executionId, jobId, serverId } = claims;
      if (
        !EXECUTION_CLAIMS.every((name) => typeof claims[name] === 'string' && claims[name] !== '') ||
        typeof executionId !== 'string' ||
        typeof jobId !== 'string' ||
        typeof serverId !== 'string' ||
        payload.sub !== executionId ||
        // RFC 7519 §4.1.6: iat is when the token was issued; jose checks only its type.
        (payload.iat ?? 0) > Math.floor(Date.now() / 1000) + IAT_TOLERANCE_SEC
      )
        return 'invalid';
      return { executionId, jobId, serverId };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return 'expired';
      if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed';
      return 'invalid';
    }
  }
}

async function loadOrCreateKey(db: Sql, secrets: SecretStore): Promise<Buffer> {
  const row = await db.get<{ value: string }>("SELECT value FROM settings WHERE key = 'runtime.jwt_key'");
  if (row) return Buffer.from(await secrets.decrypt(row.value), 'base64');
  const key = randomBytes(32);
  // Insert unless there + re-read: two processes starting at once end up with the same key.
  await db.run(
    "INSERT INTO settings (key, value) VALUES ('runtime.jwt_key', ?) ON CONFLICT (key) DO NOTHING",
    [await secrets.encrypt(key.toString('base64'))],
  );
  const stored = (await db.get<{ value: string }>(
    "SELECT value FROM settings WHERE key = 'runtime.jwt_key'",
  ))!;
  return Buffer.from(await secrets.decrypt(stored.value), 'base64');
}
