/**
 * Starts real OpenSSH hosts for the tests. As root: each host is a network namespace with its own address
 * and loopback (so several hosts can each forward 127.0.0.1:9090), a test user with password and keys.
 * Everything lives under one temporary folder and is removed by stop().
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestHost {
  name: string;
  address: string;
  port: number;
  /** The namespace to run commands "on the host" (ip netns exec). */
  netns: string;
  hostKeyFingerprint: string;
}

export interface TestHosts {
  dir: string;
  user: string;
  password: string;
  /** Unencrypted ed25519 key and an encrypted RSA key, both authorized. */
  keyPath: string;
  encryptedKeyPath: string;
  passphrase: string;
  /** A key that is not authorized anywhere. */
  wrongKeyPath: string;
  agentSocket: string;
  /** h1, h2: ordinary hosts; h3: no python3 on its PATH; noforward: AllowTcpForwarding no. */
  hosts: Record<'h1' | 'h2' | 'h3' | 'noforward', TestHost>;
  /** An sshd only reachable from inside h1 (its loopback): the target of jump-server tests. */
  behindH1: { address: string; port: number };
  /** A port on h2's address where nothing listens. */
  closedPort: number;
}

const USER = 'crtest';
const PREFIX = 'crtest';
const SUBNET = 231;

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
}

function tryRun(cmd: string, args: string[]): void {
  try {
    sh(cmd, args);
  } catch {
    /* already gone */
  }
}

function waitForPort(address: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect({ host: address, port }, () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd on ${address}:${port} did not start`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

function removeStaleNamespaces(): void {
  let list = '';
  try {
    list = sh('ip', ['netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (name?.startsWith(`${PREFIX}-`)) {
      // sshd left behind by a run that was killed: end it with its namespace.
      let pids = '';
      try {
        pids = sh('ip', ['netns', 'pids', name]);
      } catch {
        /* none */
      }
      for (const pid of pids.split('\n').filter(Boolean)) tryRun('kill', ['-9', pid]);
      tryRun('ip', ['netns', 'del', name]);
    }
  }
  for (let i = 1; i <= 8; i++) tryRun('ip', ['link', 'del', `${PREFIX}v${i}`]);
}

export class SshHostHarness {
  private readonly children: ChildProcess[] = [];
  private namespaces: string[] = [];
  info!: TestHosts;

  async start(): Promise<TestHosts> {
    if (process.getuid?.() !== 0)
      throw new Error('The SSH test hosts need root (network namespaces and a test user); CI runs as root.');
    removeStaleNamespaces();
    const dir = mkdtempSync(join(tmpdir(), 'cronium-hosts-'));
    // sshd reads authorized_keys as the test user: the folder must be traversable.
    chmodSync(dir, 0o755);
    const password = 'Pw-' + Math.random().toString(36).slice(2);
    tryRun('pkill', ['-KILL', '-u', USER]);
    tryRun('userdel', ['-r', '-f', USER]);
    sh('useradd', ['-m', '-s', '/bin/bash', USER]);
    sh('chpasswd', [], `${USER}:${password}\n`);
    mkdirSync('/run/sshd', { recursive: true });

    const keyPath = join(dir, 'id_ed25519');
    const encryptedKeyPath = join(dir, 'id_rsa_enc');
    const wrongKeyPath = join(dir, 'id_wrong');
    const passphrase = 'correct horse battery';
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath]);
    sh('ssh-keygen', [
      '-q',
      '-t',
      'rsa',
      '-b',
      '2048',
      '-m',
      'PEM',
      '-N',
      passphrase,
      '-f',
      encryptedKeyPath,
    ]);
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKeyPath]);
    mkdirSync(join(dir, 'authorized'));
    writeFileSync(join(dir, 'authorized', USER), sh('cat', [`${keyPath}.pub`, `${encryptedKeyPath}.pub`]));

    // A PATH without python3 for h3, to see a missing interpreter reported as such.
    const noPython = join(dir, 'bin-nopython');
    mkdirSync(noPython);
    for (const entry of readdirSync('/usr/bin'))
      if (!entry.startsWith('python')) symlinkSync(join('/usr/bin', entry), join(noPython, entry));

    const agentSocket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    this.children.push(agent);

    const specs = [
      { name: 'h1', extra: ['ListenAddress 127.0.0.1:2222'] },
      { name: 'h2', extra: [] },
      { name: 'h3', extra: [`SetEnv PATH=${noPython}`] },
      { name: 'noforward', extra: ['AllowTcpForwarding no'] },
    ] as const;
    const hosts = {} as TestHosts['hosts'];
    await Promise.all(
      specs.map(async (spec, i) => {
        const n = i + 1;
        const ns = `${PREFIX}-${spec.name}`;
        const veth = `${PREFIX}v${n}`;
        const address = `10.${SUBNET}.${n}.2`;
        sh('ip', ['netns', 'add', ns]);
        this.namespaces.push(ns);
        sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        sh('ip', ['addr', 'add', `10.${SUBNET}.${n}.1/24`, 'dev', veth]);
        sh('ip', ['link', 'set', veth, 'up']);
        sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        sh('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
        sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
        sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', `10.${SUBNET}.${n}.1`]);
        const hostKey = join(dir, `${spec.name}_host_ed25519`);
        sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
        const config = join(dir, `${spec.name}.sshd_config`);
        writeFileSync(
          config,
          [
            `ListenAddress ${address}:22`,
            ...spec.extra,
            `HostKey ${hostKey}`,
            `PidFile ${join(dir, `${spec.name}.pid`)}`,
            `AuthorizedKeysFile ${join(dir, 'authorized')}/%u`,
            'PasswordAuthentication yes',
            'KbdInteractiveAuthentication no',
            'UsePAM no',
            'StrictModes no',
            'GatewayPorts no',
            'MaxStartups 100:30:200',
            'LogLevel ERROR',
            'Subsystem sftp internal-sftp',
            spec.name === 'noforward' ? '' : 'AllowTcpForwarding yes',
          ].join('\n') + '\n',
        );
        const sshd = spawn('ip', ['netns', 'exec', ns, '/usr/sbin/sshd', '-D', '-e', '-f', config], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        sshd.stderr?.on(
          'data',
          (d: Buffer) =>
            process.env.CRONIUM_TEST_SSHD_LOG && process.stderr.write(`[sshd ${spec.name}] ${d}`),
        );
        this.children.push(sshd);
        const fingerprint = sh('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]).split(' ')[1]!;
        hosts[spec.name] = { name: spec.name, address, port: 22, netns: ns, hostKeyFingerprint: fingerprint };
        await waitForPort(address, 22);
      }),
    );

    this.info = {
      dir,
      user: USER,
      password,
      keyPath,
      encryptedKeyPath,
      passphrase,
      wrongKeyPath,
      agentSocket,
      hosts,
      behindH1: { address: '127.0.0.1', port: 2222 },
      closedPort: 2999,
    };
    for (let i = 0; ; i++) {
      try {
        execFileSync('ssh-add', ['-q', keyPath], {
          env: { ...process.env, SSH_AUTH_SOCK: agentSocket },
          stdio: 'ignore',
        });
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return this.info;
  }

  stop(): void {
    for (const child of this.children) child.kill('SIGTERM');
    for (const ns of this.namespaces) tryRun('ip', ['netns', 'del', ns]);
    tryRun('pkill', ['-KILL', '-u', USER]);
    tryRun('userdel', ['-r', '-f', USER]);
    if (this.info) rmSync(this.info.dir, { recursive: true, force: true });
  }
}

/** Runs a command as the test user on a host's namespace (for checks such as "no process left"). */
export function onHost(hosts: TestHosts, command: string): string {
  try {
    return execFileSync('su', ['-s', '/bin/sh', hosts.user, '-c', command], { encoding: 'utf8' });
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? '';
  }
}
