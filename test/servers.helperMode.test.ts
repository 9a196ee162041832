/**
 * Issue 11 part 8: a per-server helper mode. On the real host that refuses forwarding ("noforward"), a
 * server set to bundled runs auto jobs bundled without trying the tunnel, so its runs stop warning; a
 * server set to api never falls back silently; a job that asks for api on a bundled server is refused
 * with a reason that names the setting. The rule's table, the CLI's --helpers and `server show` too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HELPER_MODES, SERVER_HELPER_MODES } from '../src/core/domain.ts';
import { CroniumError } from '../src/core/errors.ts';
import { helperModeOn } from '../src/runtime/helperSession.ts';
import type { CroniumService } from '../src/service/service.ts';
import { runCli } from './support/cli.ts';
import { ownHosts, runJob, serviceWithHosts } from './support/fixtures.ts';

const h = ownHosts('srvhm');
afterAll(async () => h.removeUser());

const SCRIPT = 'cronium.setVariable seen "$(cronium.input)"; echo ran';

describe('the rule: the job’s mode, unless the server has its own', () => {
  it('gives each pair its mode, and refuses api on a bundled server', () => {
    const table: Record<string, string> = {};
    for (const own of SERVER_HELPER_MODES)
      for (const requested of HELPER_MODES) {
        let got: string;
        try {
          got = helperModeOn(requested, { name: 'web1', helperMode: own });
        } catch (err) {
          got = `refused: ${(err as CroniumError).kind}`;
        }
        table[`${own}/${requested}`] = got;
      }
    expect(table).toEqual({
      'default/auto': 'auto',
      'default/api': 'api',
      'default/bundled': 'bundled',
      'api/auto': 'api',
      'api/api': 'api',
      'api/bundled': 'bundled',
      'bundled/auto': 'bundled',
      'bundled/api': 'refused: tunnel_refused',
      'bundled/bundled': 'bundled',
    });
    // A server record from before the setting existed counts as default.
    expect(helperModeOn('auto', { name: 'old' })).toBe('auto');
  });
});

describe('a server’s helper mode on a host that refuses forwarding (real sshd)', () => {
  let service: CroniumService;
  let close: () => Promise<void>;
  let dataDir: string;
  const setMode = async (mode: 'default' | 'api' | 'bundled') => {
    const s = await service.getServer('noforward');
    await service.updateServer(s.id, {
      name: s.name,
      host: s.host,
      port: s.port,
      username: s.username,
      auth: { type: 'key', keyPath: s.keyPath! },
      helperMode: mode,
    });
  };
  beforeAll(async () => {
    ({ service, close, dir: dataDir } = await serviceWithHosts({ tunnelLingerMs: 0 }, h));
  });
  afterAll(async () => close());

  it('default: falls back on every run and says how to stop it', async () => {
    expect((await service.getServer('noforward')).helperMode).toBe('default');
    const r = await runJob(service, { language: 'bash', script: SCRIPT }, ['noforward'], { input: 1 });
    expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: 'bundled' });
    expect(r.exec.fallbackReason).toMatch(/refused remote port forwarding/);
    expect(r.text('noforward', 'system')).toMatch(
      /helpers fell back to bundled mode: .* \(to skip this check on noforward, set its helper mode to bundled\)/,
    );
  });

  it('bundled: an auto job runs bundled at once, with no tunnel tried and no warning', async () => {
    await setMode('bundled');
    const tunnels: string[] = [];
    const off = service.subscribe((e) => e.type === 'tunnel' && tunnels.push(e.state));
    const r = await runJob(service, { language: 'bash', script: SCRIPT }, ['noforward'], { input: 2 });
    off();
    expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: 'bundled', fallbackReason: null });
    expect(r.text('noforward', 'system')).not.toMatch(/fell back/);
    expect(r.text('noforward', 'stdout')).toBe('ran\n');
    expect(await service.getVariableValue('seen')).toBe(2);
    expect(tunnels).toEqual([]);
  });

  it('bundled: a job or run that asks for api is refused, naming the server’s setting', async () => {
    const r = await runJob(service, { language: 'bash', script: 'echo should-not-run' }, ['noforward'], {
      helperMode: 'api',
    });
    expect(r.exec).toMatchObject({ status: 'error', errorKind: 'tunnel_refused' });
    expect(r.exec.errorMessage).toMatch(/noforward is set to bundled helpers \(its helper mode\)/);
    expect(r.text('noforward')).not.toContain('should-not-run');
  });

  it('api: an auto job fails instead of falling back; a bundled job still runs', async () => {
    await setMode('api');
    const r = await runJob(service, { language: 'bash', script: 'echo should-not-run' }, ['noforward']);
    expect(r.exec).toMatchObject({ status: 'error', errorKind: 'tunnel_refused' });
    expect(r.exec.errorMessage).toMatch(
      /API mode is not available: the server refused remote port forwarding/,
    );
    const b = await runJob(service, { language: 'bash', script: SCRIPT }, ['noforward'], {
      helperMode: 'bundled',
      input: 3,
    });
    expect(b.exec).toMatchObject({ status: 'succeeded', helperMode: 'bundled', fallbackReason: null });
    expect(await service.getVariableValue('seen')).toBe(3);
  });

  it('the CLI sets it with --helpers, shows it, and refuses an unknown mode', async () => {
    const env = { CRONIUM_DATA_DIR: dataDir };
    const edit = await runCli(['server', 'edit', 'noforward', '--helpers', 'bundled'], env);
    expect(edit.code).toBe(0);
    expect((await service.getServer('noforward')).helperMode).toBe('bundled');
    const shown = await runCli(['server', 'show', 'noforward'], env);
    expect(shown.stdout).toMatch(/^helpers: {5}bundled$/m);
    const bad = await runCli(['server', 'edit', 'noforward', '--helpers', 'sometimes'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--helpers: helper mode is default, api or bundled/);
    expect((await service.getServer('noforward')).helperMode).toBe('bundled');
    const added = await runCli(
      ['server', 'add', 'plain', '--host', '127.0.0.1', '--user', 'u', '--agent', '--json'],
      env,
    );
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'plain', helperMode: 'default' });
  });
});
