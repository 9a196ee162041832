/**
 * Fault injection for imported host keys: a server with several host keys (ed25519 and RSA) whose
 * known_hosts entry is only the RSA one. The connection must ask for the RSA key first, as OpenSSH orders
 * its host key algorithms by the known keys, or the import would turn into a "host key changed" refusal.
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import ssh2 from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { tempDir } from './support/fixtures.ts';
import { ed25519KeyPair } from './support/sshKeys.ts';

const dir = tempDir('cronium-keytype-');
let server: ssh2.Server;
let port = 0;
const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
const ed = ed25519KeyPair();

beforeAll(async () => {
  server = new ssh2.Server({ hostKeys: [ed.private, rsa.private] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () =>
      client.on('session', (accept) =>
        accept().on('exec', (acceptExec) => {
          const stream = acceptExec();
          stream.resume();
          stream.write('Linux\n');
          stream.exit(0);
          stream.end();
        }),
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  dir.remove();
});

it('connects without a prompt to a host whose known_hosts key is not the type ssh2 prefers', async () => {
  const key = ed25519KeyPair();
  writeFileSync(join(dir.path, 'id'), key.private, { mode: 0o600 });
  writeFileSync(
    join(dir.path, 'config'),
    `Host multi\n  HostName 127.0.0.1\n  Port ${port}\n  User u\n  IdentityFile ${join(dir.path, 'id')}\n`,
  );
  writeFileSync(join(dir.path, 'known_hosts'), `[127.0.0.1]:${port} ${rsa.public}\n`);
  const data = tempDir();
  const service = await CroniumService.open({
    dataDir: data.path,
    unknownHostKeys: 'ask',
    readyTimeoutMs: 5000,
  });
  try {
    const plan = await service.importServers({
      sshConfig: join(dir.path, 'config'),
      knownHosts: [join(dir.path, 'known_hosts')],
    });
    expect(plan.servers[0]!.hostKey).toMatchObject({ keyType: 'ssh-rsa', status: 'new' });
    const result = await service.testServer('multi');
    expect(result.error).toBeNull();
    expect(result).toMatchObject({ online: true, fingerprint: plan.servers[0]!.hostKey!.fingerprint });
  } finally {
    await service.close();
    data.remove();
  }
});
