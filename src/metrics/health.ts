/** The health report of a monitored process (`GET /healthz`). */
import type { MonitorStatus } from '../contract.ts';
import type { MonitorRole } from './registry.ts';

/**
 * What /healthz answers. `status` is ok while the store answers a real query, else degraded (HTTP 503:
 * this process can neither record nor take work). Times in seconds and milliseconds as named.
 */
export interface HealthReport {
  status: 'ok' | 'degraded';
  role: MonitorRole;
  version: string;
  /** Seconds since this process started. */
  uptimeSeconds: number;
  store: MonitorStatus['store'];
  /** Whether this process holds the scheduler lease; null when it runs no scheduler. */
  schedulerLeaseHeld: boolean | null;
  /** The runtime API's port on 127.0.0.1, null while it does not listen. */
  runtimePort: number | null;
  sshConnectionsOpen: number;
  tunnelsOpen: number;
}

/** The report and its HTTP status (200 ok, 503 degraded) from one reading of the core. */
export function healthReport(
  status: MonitorStatus,
  info: { role: MonitorRole; version: string },
): { httpStatus: 200 | 503; report: HealthReport } {
  const ok = status.store.reachable;
  return {
    httpStatus: ok ? 200 : 503,
    report: {
      status: ok ? 'ok' : 'degraded',
      role: info.role,
      version: info.version,
      uptimeSeconds: Math.round(process.uptime() * 10) / 10,
      store: status.store,
      schedulerLeaseHeld: status.schedulerLeaseHeld,
      runtimePort: status.runtimePort,
      sshConnectionsOpen: status.sshConnections.open,
      tunnelsOpen: status.openTunnels,
    },
  };
}
