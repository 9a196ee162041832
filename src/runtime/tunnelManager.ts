/**
 * Reverse SSH tunnels from hosts' loopback to the runtime: one remote forward per connection, shared by
 * the executions on it and closed when none has needed it for a short while (back-to-back runs reuse it
 * rather than paying a forward and a probe each). States: idle (made, published as it is made) →
 * forwarding → failed | closed, along TUNNEL_MOVES, each change published as an event.
 */
import { CroniumError } from '../core/errors.ts';
import type { TunnelState } from '../core/domain.ts';
import type { EventHub } from '../core/eventHub.ts';
import { afterMarker, markerCommand } from '../exec/deploy.ts';
import { randomToken } from '../exec/shell.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import type { RuntimeServer } from './runtimeServer.ts';

export interface ProbeResult {
  ok: boolean;
  /** curl or wget is on the host (what the Bash helpers need). */
  httpTool: boolean;
  detail: string;
}

export interface TunnelLease {
  remotePort: number;
  probe: Promise<ProbeResult>;
  release(): void;
}

interface Tunnel {
  state: TunnelState;
  remotePort: number | null;
  refs: number;
  opening: Promise<number> | null;
  probe: Promise<ProbeResult> | null;
  linger: NodeJS.Timeout | null;
}

export class TunnelManager {
  private readonly tunnels = new WeakMap<SshConnection, Tunnel>();
  private readonly runtime: RuntimeServer;
  private readonly hub: EventHub;
  /** 0: the server picks a free port, so executions on one host never collide. */
  private readonly remotePort: number;
  private readonly lingerMs: number;
  /** Tunnels in the forwarding state now (the WeakMap cannot be counted). */
  private forwarding = 0;

  constructor(
    runtime: RuntimeServer,
    hub: EventHub,
    options: { remotePort?: number; lingerMs?: number } = {},
  ) {
    this.runtime = runtime;
    this.hub = hub;
    this.remotePort = options.remotePort ?? 0;
    this.lingerMs = options.lingerMs ?? 10_000;
  }

  /** How many reverse tunnels are open (forwarding) now, over all connections. Read-only, for monitoring. */
  get openTunnels(): number {
    return this.forwarding;
  }

  /**
   * A lease on the reverse tunnel of `connection` (opened on first use, shared by overlapping executions,
   * kept open `lingerMs` after the last release): the port on the host's 127.0.0.1 that reaches the
   * runtime API, and a probe of it run once per tunnel.
   * @throws CroniumError tunnel_refused when the server refuses remote forwarding or the tunnel cannot be
   * opened (its message says why; a new acquire tries again).
   */
  async acquire(connection: SshConnection, serverId: string): Promise<TunnelLease> {
    let tunnel = this.tunnels.get(connection);
    if (!tunnel || tunnel.state === 'failed' || tunnel.state === 'closed') {
      tunnel = { state: 'idle', remotePort: null, refs: 0, opening: null, probe: null, linger: null };
      this.tunnels.set(connection, tunnel);
      this.publish(serverId, tunnel);
      const opened = tunnel;
      connection.onClose(() => {
        if (opened.state === 'forwarding') this.close(connection, serverId, opened);
      });
    }
    if (tunnel.linger) clearTimeout(tunnel.linger);
    tunnel.linger = null;
    tunnel.refs++;
    try {
      if (tunnel.remotePort === null) {
        tunnel.opening ??= this.open(connection, serverId, tunnel);
        await tunnel.opening;
      }
    } catch (err) {
      tunnel.refs--;
      throw err;
    }
    const port = tunnel.remotePort!;
    tunnel.probe ??= probe(connection, port);
    let released = false;
    return {
      remotePort: port,
      probe: tunnel.probe,
      release: () => {
        if (released) return;
        released = true;
        tunnel.refs--;
        if (tunnel.refs > 0 || tunnel.state !== 'forwarding') return;
        if (this.lingerMs <= 0) return this.close(connection, serverId, tunnel);
        tunnel.linger = setTimeout(
          () => tunnel.refs === 0 && this.close(connection, serverId, tunnel),
          this.lingerMs,
        );
        tunnel.linger.unref();
      },
    };
  }

  /**
   * Whether `connection` has a tunnel forwarding now whose probe succeeded: one more execution on it costs
   * no round trip.
   */
  async ready(connection: SshConnection): Promise<boolean> {
    const tunnel = this.tunnels.get(connection);
    if (tunnel?.state !== 'forwarding' || !tunnel.probe) return false;
    return (await tunnel.probe).ok;
  }

  private async open(connection: SshConnection, serverId: string, tunnel: Tunnel): Promise<number> {
    try {
      tunnel.remotePort = await connection.forwardIn(this.remotePort, (stream) =>
        this.runtime.serveStream(stream),
      );
    } catch (err) {
      // The event carries the server's own words (the cause); the error raised says what to do about them.
      const said = err instanceof Error && err.cause instanceof Error ? err.cause : (err as Error);
      this.move(serverId, tunnel, 'failed', said.message);
      throw err instanceof CroniumError
        ? err
        : new CroniumError('tunnel_refused', `the reverse tunnel could not be opened: ${said.message}`);
    }
    this.move(serverId, tunnel, 'forwarding');
    return tunnel.remotePort;
  }

  private close(connection: SshConnection, serverId: string, tunnel: Tunnel): void {
    if (tunnel.state === 'closed') return;
    if (tunnel.linger) clearTimeout(tunnel.linger);
    const port = tunnel.remotePort;
    this.move(serverId, tunnel, 'closed');
    if (this.tunnels.get(connection) === tunnel) this.tunnels.delete(connection);
    if (port !== null) connection.unforwardIn(port);
  }

  /**
   * The one place a tunnel changes state, along TUNNEL_MOVES; each change is published.
   * @throws CroniumError internal for a move the table does not allow (a bug).
   */
  private move(serverId: string, tunnel: Tunnel, state: TunnelState, error?: string): void {
    if (!TUNNEL_MOVES[tunnel.state].includes(state))
      throw new CroniumError(
        'internal',
        `A tunnel to ${serverId} cannot go from ${tunnel.state} to ${state}.`,
      );
    if (tunnel.state === 'forwarding') this.forwarding--;
    if (state === 'forwarding') this.forwarding++;
    tunnel.state = state;
    this.publish(serverId, tunnel, error);
  }

  /** Publishes a tunnel's state: made (idle), then each move. */
  private publish(serverId: string, tunnel: Tunnel, error?: string): void {
    this.hub.emit({
      type: 'tunnel',
      serverId,
      state: tunnel.state,
      remotePort: tunnel.remotePort,
      error: error ?? null,
    });
  }
}

/**
 * The tunnel's state machine: idle (made, not yet forwarding) → forwarding → closed, or failed when the
 * forward is refused; failed and closed are final (the next acquire makes a new tunnel).
 */
export const TUNNEL_MOVES: Readonly<Record<TunnelState, readonly TunnelState[]>> = {
  idle: ['forwarding', 'failed', 'closed'],
  forwarding: ['closed', 'failed'],
  failed: [],
  closed: [],
};

/** Milliseconds the probe may take in all (its HTTP request has 5 s of them). */
const PROBE_TIMEOUT_MS = 20_000;

/**
 * Checks, once per tunnel, that a request from the host through the tunnel reaches the runtime, and
 * whether the host has curl or wget for the Bash helpers. Its findings come after a control line with a
 * fresh nonce, so whatever the login shell prints (a .bashrc, a banner) is never taken for them.
 */
async function probe(connection: SshConnection, port: number): Promise<ProbeResult> {
  const url = `http://127.0.0.1:${port}/health`;
  const nonce = randomToken();
  const script = [
    markerCommand(nonce, 'probe'),
    markerCommand(nonce, 'probe', true),
    `u='${url}'`,
    'if command -v curl >/dev/null 2>&1; then echo tool:curl; curl -fsS -m 5 "$u"',
    'elif command -v wget >/dev/null 2>&1; then echo tool:wget; wget -q -T 5 -O - "$u"',
    'elif command -v python3 >/dev/null 2>&1; then echo tool:none; python3 -c "import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1],timeout=5).read().decode())" "$u"',
    `elif command -v node >/dev/null 2>&1; then echo tool:none; node -e "require('http').get(process.argv[1],r=>r.pipe(process.stdout)).on('error',e=>{console.error(e.message);process.exit(1)})" "$u"`,
    'else echo tool:none; echo untestable; fi',
  ].join('\n');
  try {
    // Shared by every execution on the tunnel, so bounded by its own time rather than one's cancel.
    const result = await connection.run('sh -s', script, { timeoutMs: PROBE_TIMEOUT_MS });
    const stdout = afterMarker(result.stdout, nonce, 'probe');
    const stderr = afterMarker(result.stderr, nonce, 'probe') ?? '';
    if (stdout === null)
      return { ok: false, httpTool: false, detail: `the probe did not run (exit ${result.code})` };
    const httpTool = /^tool:(curl|wget)$/m.test(stdout);
    if (/"status":"ok"/.test(stdout)) return { ok: true, httpTool, detail: 'ok' };
    if (/^untestable$/m.test(stdout))
      return { ok: true, httpTool, detail: 'no HTTP client on the host to test with' };
    return {
      ok: false,
      httpTool,
      detail: (stderr || stdout).trim().split('\n').pop() ?? `exit ${result.code}`,
    };
  } catch (err) {
    return { ok: false, httpTool: false, detail: (err as Error).message };
  }
}
