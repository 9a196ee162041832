/**
 * Issue 8 case 10: an IPv6 host written in brackets (as in URLs and ssh_config's `[addr]:port`) is
 * accepted and stored bare; `server test` connects and a run succeeds over IPv6 against the real sshd of h2,
 * which also listens on an IPv6 address of its namespace. A port after the brackets is refused with a
 * message pointing at --port.
 */

import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from './support/cli.ts';
import { hosts, tempDir } from './support/fixtures.ts';

describe('IPv6 hosts through the CLI (real sshd on an IPv6 address)', () => {
  const h = hosts();
  const dir = tempDir('cronium-ipv6-');
  const env = { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: '0' };
  const v6 = h.hosts.h2.address6!;
  afterAll(async () => dir.remove());

  const cli = (args: string[]) => runCli(args, env, '');

  it('adds [addr] as addr, tests it online, and runs a job on it in API and bundled mode', async () => {
    expect(v6).toMatch(/^fd00:/);
    const add = await cli([
      'server',
      'add',
      'v6',
      '--host',
      `[${v6.toUpperCase()}]`,
      '--user',
      h.user,
      '--key',
      h.keyPath,
      '--json',
    ]);
    expect(add.stderr).toBe('');
    expect(JSON.parse(add.stdout)).toMatchObject({ host: v6, port: 22 });

    const test = await cli(['server', 'test', 'v6', '--json']);
    expect(test.code, test.stderr).toBe(0);
    expect(JSON.parse(test.stdout)).toMatchObject({
      online: true,
      fingerprint: h.hosts.h2.hostKeyFingerprint,
    });

    await cli([
      'job',
      'add',
      'where',
      '--lang',
      'bash',
      '--script',
      'echo "via ${SSH_CONNECTION%% *}"; cronium.output "$(cronium.input)"',
    ]);
    for (const mode of ['api', 'bundled']) {
      const run = await cli([
        'run',
        'where',
        '--on',
        'v6',
        '--helpers',
        mode,
        '--input',
        '{"n":6}',
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const execution = JSON.parse(run.stdout).executions[0];
      expect(execution).toMatchObject({ status: 'succeeded', helperMode: mode, output: { n: 6 } });
      // The server saw the connection come from the IPv6 side of the link.
      const shown = await cli(['show', execution.id]);
      expect(shown.stdout).toMatch(/via fd00:/);
    }
  }, 120_000);

  it('refuses a port inside the host, and a bracket left open, when the server is added', async () => {
    for (const host of [`[${v6}]:22`, `[${v6}`]) {
      const r = await cli(['server', 'add', 'v6bad', '--host', host, '--user', h.user, '--agent']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/host: (give the port in the port field|an IPv6 address in brackets needs)/);
    }
    const list = await cli(['server', 'list', '--json']);
    expect(JSON.parse(list.stdout).map((s: { name: string }) => s.name)).toEqual(['v6']);
  }, 60_000);
});
