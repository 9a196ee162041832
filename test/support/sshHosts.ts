/**
 * Starts real OpenSSH hosts for the tests. As root: each host is a network namespace with its own address
 * and loopback (so several hosts can each forward 127.0.0.1:9090), a test user with password and keys.
 * Everything lives under one temporary folder and is removed by stop().
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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
  /** An IPv6 address sshd also listens on (h2 only): for IPv6 host tests. */
  address6?: string;
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
  /**
   * h1, h2: ordinary hosts (h2 also on IPv6); h3: neither python3 nor curl on its PATH; noforward:
   * AllowTcpForwarding no; kbdint: passwords only through keyboard-interactive and PAM
   * (PasswordAuthentication no); onesession: MaxSessions 1.
   */
  hosts: Record<'h1' | 'h2' | 'h3' | 'noforward' | 'kbdint' | 'onesession', TestHost>;
  /** An sshd only reachable from inside h1 (its loopback): the target of jump-server tests. */
  behindH1: { address: string; port: number };
  /** Another sshd address inside h1 (its loopback): the far end of two-hop jump tests. */
  deepBehindH1: { address: string; port: number };
  /** A port on h2's address where nothing listens. */
  closedPort: number;
  /** Extra plain hosts f1..fN, only when the harness was asked for a fleet (the bench); else empty. */
  fleet: TestHost[];
}

export interface HarnessOptions {
  /**
   * How many extra plain hosts (namespaces f1..fN, 0–200) to start beside the usual ones: for the bench's
   * fan-out figures. Each is an ordinary sshd like h1's; MaxStartups is already raised in every config.
   */
  fleet?: number;
}

/**
 * Several test runs can share one machine (two checkouts, two people): each takes a slot (0–9, from
 * CRONIUM_TEST_SLOT) and gets its own namespaces, addresses, and test users. Slot 0 keeps the plain names.
 */
const SLOT = Number(process.env.CRONIUM_TEST_SLOT ?? 0);
if (!Number.isInteger(SLOT) || SLOT < 0 || SLOT > 9) throw new Error('CRONIUM_TEST_SLOT must be 0 to 9');
const USER = SLOT === 0 ? 'crtest' : `crtest${SLOT}`;
const PREFIX = SLOT === 0 ? 'crtest' : `crt${SLOT}`;
const SUBNET = 231 + SLOT;

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
  for (let i = 1; i <= 16; i++) tryRun('ip', ['link', 'del', `${PREFIX}v${i}`]);
  // Test users of a run that was killed (the main one and those made per test file).
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const name = line.split(':')[0] ?? '';
    if (name === USER || name.startsWith(`${USER}_`)) {
      tryRun('pkill', ['-KILL', '-u', name]);
      tryRun('userdel', ['-r', '-f', name]);
    }
  }
}

export class SshHostHarness {
  private readonly children: ChildProcess[] = [];
  private namespaces: string[] = [];
  private readonly fleetSize: number;
  info!: TestHosts;

  constructor(options: HarnessOptions = {}) {
    this.fleetSize = options.fleet ?? 0;
    if (!Number.isInteger(this.fleetSize) || this.fleetSize < 0 || this.fleetSize > 200)
      throw new Error('fleet must be a whole number from 0 to 200');
  }

  async start(): Promise<TestHosts> {
    if (process.getuid?.() !== 0)
      throw new Error('The SSH test hosts need root (network namespaces and a test user); CI runs as root.');
    removeStaleNamespaces();
    const dir = mkdtempSync(join(tmpdir(), 'cronium-hosts-'));
    // sshd reads authorized_keys as the test user: the folder must be traversable.
    chmodSync(dir, 0o755);
    const password = 'Pw-' + Math.random().toString(36).slice(2);
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

    // A PATH without python3 and curl for h3: a missing interpreter is reported as such, and the Bash
    // helpers have only wget.
    const noPython = join(dir, 'bin-nopython');
    mkdirSync(noPython);
    for (const entry of readdirSync('/usr/bin'))
      if (!entry.startsWith('python') && entry !== 'curl')
        symlinkSync(join('/usr/bin', entry), join(noPython, entry));

    const agentSocket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    this.children.push(agent);

    // A ForceCommand wrapper as sites write them (a banner on both streams, then the user's command), for
    // test users whose tag starts with "fc" (createTestUser(h, 'fc…')); their ~/.forcecommand, if any,
    // takes its place (a wrapper of the test's own).
    const forceCommand = join(dir, 'forcecommand.sh');
    writeFileSync(
      forceCommand,
      '#!/bin/sh\nif [ -x "$HOME/.forcecommand" ]; then exec "$HOME/.forcecommand"; fi\n' +
        'echo "wrapper: authorized use only"\nprintf "wrapper: this session is logged" >&2\n' +
        'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n',
      { mode: 0o755 },
    );

    const specs = [
      // 127.0.0.2:2223: a second address inside h1 only, the far end of two-hop ProxyJump tests.
      { name: 'h1', extra: ['ListenAddress 127.0.0.1:2222', 'ListenAddress 127.0.0.2:2223'] },
      // h2 also listens on an IPv6 address (see address6 below).
      { name: 'h2', extra: [`ListenAddress [fd00:${SUBNET}:2::2]:22`] },
      { name: 'h3', extra: [`SetEnv PATH=${noPython}`] },
      { name: 'noforward', extra: ['AllowTcpForwarding no'] },
      // The stock Debian /etc/pam.d/sshd works here as it is (pam_loginuid included: root may set it).
      {
        name: 'kbdint',
        extra: ['PasswordAuthentication no', 'KbdInteractiveAuthentication yes', 'UsePAM yes'],
      },
      { name: 'onesession', extra: ['MaxSessions 1'] },
    ] as const;
    // The fleet's hosts take subnets from 11 on (10.<subnet>.11.2 …), clear of the named hosts'.
    const fleetSpecs = Array.from({ length: this.fleetSize }, (_, i) => ({
      name: `f${i + 1}`,
      extra: [] as string[],
      n: 11 + i,
    }));
    const hosts = {} as TestHosts['hosts'];
    const fleet: TestHost[] = [];
    await Promise.all(
      [...specs.map((spec, i) => ({ ...spec, n: i + 1 })), ...fleetSpecs].map(async (spec) => {
        const n = spec.n;
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
        // nodad: usable at once (duplicate address detection would keep it tentative, and sshd unbound).
        const address6 = spec.name === 'h2' ? `fd00:${SUBNET}:2::2` : undefined;
        if (address6) {
          sh('ip', ['addr', 'add', `fd00:${SUBNET}:2::1/64`, 'dev', veth, 'nodad']);
          sh('ip', ['-n', ns, 'addr', 'add', `${address6}/64`, 'dev', 'eth0', 'nodad']);
        }
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
            // Match blocks last: they run to the end of the file.
            `Match User ${USER}_fc*`,
            `  ForceCommand ${forceCommand}`,
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
        const host: TestHost = {
          name: spec.name,
          address,
          port: 22,
          netns: ns,
          hostKeyFingerprint: fingerprint,
          ...(address6 ? { address6 } : {}),
        };
        if (n <= specs.length) hosts[spec.name as keyof TestHosts['hosts']] = host;
        else fleet[n - 11] = host;
        await waitForPort(address, 22);
        if (address6) await waitForPort(address6, 22);
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
      deepBehindH1: { address: '127.0.0.2', port: 2223 },
      closedPort: 2999,
      fleet,
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
    removeStaleNamespaces();
    if (this.info) rmSync(this.info.dir, { recursive: true, force: true });
  }
}

export interface TestUser {
  user: string;
  password: string;
  home: string;
  /** Removes the user, its home and its processes. */
  remove: () => void;
}

/**
 * A test user of its own for one test file (or one test), so that files running in parallel never share a
 * home directory: same keys and agent as the main user, its own password. `tag` is [a-z0-9]{1,12}.
 */
export function createTestUser(hosts: TestHosts, tag: string): TestUser {
  if (!/^[a-z0-9]{1,12}$/.test(tag)) throw new Error(`bad test user tag: ${tag}`);
  const user = `${hosts.user}_${tag}`;
  tryRun('pkill', ['-KILL', '-u', user]);
  tryRun('userdel', ['-r', '-f', user]);
  sh('useradd', ['-m', '-s', '/bin/bash', user]);
  const password = 'Pw-' + Math.random().toString(36).slice(2);
  sh('chpasswd', [], `${user}:${password}\n`);
  copyFileSync(join(hosts.dir, 'authorized', hosts.user), join(hosts.dir, 'authorized', user));
  return {
    user,
    password,
    home: `/home/${user}`,
    remove: () => {
      tryRun('pkill', ['-KILL', '-u', user]);
      tryRun('userdel', ['-r', '-f', user]);
      rmSync(join(hosts.dir, 'authorized', user), { force: true });
    },
  };
}

/** Runs a command as the test user on a host's namespace (for checks such as "no process left"). */
export function onHost(hosts: TestHosts, command: string, user = hosts.user): string {
  try {
    return execFileSync('su', ['-s', '/bin/sh', user, '-c', command], { encoding: 'utf8' });
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? '';
  }
}

export interface PrivateSshd {
  address: string;
  port: number;
  /** SHA256 fingerprint of the host key it offers now. */
  fingerprint: string;
  /** Restarts it with a newly generated host key (a reinstalled server, or an attack). */
  restartWithNewHostKey(): Promise<void>;
  stop(): void;
}

/**
 * An sshd of one test file's own, in h2's namespace on `port` (not 22), with the harness's users and keys:
 * for tests that change it (its host key) without disturbing the shared hosts.
 */
export async function startPrivateSshd(hosts: TestHosts, port: number): Promise<PrivateSshd> {
  const base = hosts.hosts.h2;
  const dir = mkdtempSync(join(hosts.dir, `private-${port}-`));
  chmodSync(dir, 0o755);
  const hostKey = join(dir, 'host_ed25519');
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress ${base.address}:${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(hosts.dir, 'authorized')}/%u`,
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'LogLevel ERROR',
    ].join('\n') + '\n',
  );
  let child: ChildProcess | null = null;
  const result: PrivateSshd = {
    address: base.address,
    port,
    fingerprint: '',
    restartWithNewHostKey: async () => {
      result.stop();
      rmSync(hostKey, { force: true });
      rmSync(`${hostKey}.pub`, { force: true });
      sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
      result.fingerprint = sh('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]).split(' ')[1]!;
      const started = spawn('ip', ['netns', 'exec', base.netns, '/usr/sbin/sshd', '-D', '-e', '-f', config], {
        stdio: 'ignore',
      });
      child = started;
      await waitForPort(base.address, port);
    },
    stop: () => {
      if (!child) return;
      const exited = child.exitCode !== null || child.signalCode !== null;
      if (!exited) child.kill('SIGTERM');
      child = null;
      // The listener is gone once its pid file is: wait for it so a restart can bind the port again.
      for (let i = 0; i < 200 && existsSync(join(dir, 'sshd.pid')); i++) execFileSync('sleep', ['0.02']);
    },
  };
  await result.restartWithNewHostKey();
  return result;
}
