/**
 * Issue 11 part 8: a stored passphrase can be removed (the key was re-exported without one), in the core
 * (`auth.passphrase: null`) and with `cronium server edit --clear-secret`; removing one the key still needs,
 * or a password login's password, is refused with nothing changed. Editing other fields of a server whose
 * key is encrypted keeps (and checks the key with) the stored passphrase. Against a real sshd host.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CroniumError } from '../src/core/errors.ts';
import { CroniumService } from '../src/service/service.ts';
import { runCli } from './support/cli.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const h = ownHosts('clrsec');
afterAll(async () => h.removeUser());

describe('removing a stored passphrase or password', () => {
  const data = tempDir();
  let service: CroniumService;
  const secretColumn = (name: string) => {
    const db = new DatabaseSync(join(data.path, 'cronium.db'));
    const row = db.prepare('SELECT secret FROM servers WHERE name = ?').get(name) as {
      secret: string | null;
    };
    db.close();
    return row.secret;
  };
  const refusal = async (fn: () => Promise<unknown>): Promise<CroniumError> => {
    try {
      await fn();
    } catch (err) {
      return err as CroniumError;
    }
    throw new Error('expected a refusal');
  };
  const base = (name: string) => ({
    name,
    host: h.hosts.h1.address,
    port: h.hosts.h1.port,
    username: h.user,
  });

  beforeAll(async () => {
    service = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
    });
  });
  afterAll(async () => {
    await service.close();
    data.remove();
  });

  it('removes a passphrase the key no longer needs; the server still logs in', async () => {
    // The key file is not encrypted (any more), but a passphrase is still stored for it.
    await service.createServer({
      ...base('reexported'),
      auth: { type: 'key', keyPath: h.keyPath, passphrase: 'old' },
    });
    expect((await service.getServer('reexported')).hasSecret).toBe(true);
    const edited = await service.updateServer('reexported', {
      ...base('reexported'),
      auth: { type: 'key', keyPath: h.keyPath, passphrase: null },
    });
    expect(edited.hasSecret).toBe(false);
    expect(secretColumn('reexported')).toBeNull();
    expect((await service.testServer('reexported')).online).toBe(true);
  });

  it('refuses to remove the passphrase an encrypted key needs, and keeps it', async () => {
    await service.createServer({
      ...base('locked'),
      auth: { type: 'key', keyPath: h.encryptedKeyPath, passphrase: h.passphrase },
    });
    const sealed = secretColumn('locked');
    const err = await refusal(
      async () =>
        await service.updateServer('locked', {
          ...base('locked'),
          auth: { type: 'key', keyPath: h.encryptedKeyPath, passphrase: null },
        }),
    );
    expect(err.kind).toBe('invalid_input');
    expect(err.fields).toEqual({
      'auth.passphrase': 'the key is encrypted: its passphrase cannot be removed',
    });
    expect(secretColumn('locked')).toBe(sealed);
    // Other edits leave the passphrase out: it is kept, and the encrypted key is checked with it.
    const moved = await service.updateServer('locked', {
      ...base('locked'),
      description: 'edited',
      auth: { type: 'key', keyPath: h.encryptedKeyPath },
    });
    expect(moved).toMatchObject({ description: 'edited', hasSecret: true });
    expect(secretColumn('locked')).toBe(sealed);
    expect((await service.testServer('locked')).online).toBe(true);
  });

  it('refuses to remove a password login’s password, and keeps it', async () => {
    await service.createServer({ ...base('pw'), auth: { type: 'password', password: h.password } });
    const sealed = secretColumn('pw');
    const err = await refusal(
      async () =>
        await service.updateServer('pw', { ...base('pw'), auth: { type: 'password', password: null } }),
    );
    expect(err.fields?.['auth.password']).toMatch(/^a password login needs its password/);
    expect(secretColumn('pw')).toBe(sealed);
  });

  it('cronium server edit --clear-secret removes it; contradictions are refused', async () => {
    await service.createServer({
      ...base('cli'),
      auth: { type: 'key', keyPath: h.keyPath, passphrase: 'stale' },
    });
    await service.createServer({ ...base('agent'), auth: { type: 'agent' } });
    const env = { CRONIUM_DATA_DIR: data.path };
    const both = await runCli(['server', 'edit', 'cli', '--clear-secret', '--passphrase-stdin'], env, 'x\n');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--clear-secret removes the stored secret/);
    expect(secretColumn('cli')).not.toBeNull();
    const agent = await runCli(['server', 'edit', 'agent', '--clear-secret'], env);
    expect(agent.code).toBe(2);
    expect(agent.stderr).toMatch(/SSH agent, which has no stored secret/);
    const locked = await runCli(['server', 'edit', 'locked', '--clear-secret'], env);
    expect(locked.code).toBe(2);
    expect(locked.stderr).toMatch(/its passphrase cannot be removed/);
    const ok = await runCli(['server', 'edit', 'cli', '--clear-secret', '--json'], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name: 'cli', hasSecret: false });
    expect(secretColumn('cli')).toBeNull();
  });
});
