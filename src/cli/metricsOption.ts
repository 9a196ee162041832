/**
 * `--metrics-port` of the long-running commands (`cronium daemon`, `cronium worker`): one option text, one
 * parse, one start of the monitoring endpoint (src/metrics/monitoring.ts, loaded only when asked for).
 */
import type { Command } from 'commander';

import { log } from '../core/logger.ts';
import { listenPort, parseField } from '../core/rules.ts';
import type { Host } from './context.ts';

/** Adds the option to a command. */
export function metricsPortOption(cmd: Command): Command {
  return cmd.option(
    '--metrics-port <port>',
    'serve Prometheus metrics (/metrics) and a health check (/healthz) on 127.0.0.1:<port>; 0 for a free port (logged); off unless given',
  );
}

/**
 * The option's port checked (a CroniumError invalid_input naming --metrics-port), or null when not given.
 * Parse it before starting anything, so a bad value stops the command first.
 */
export function parseMetricsPort(raw: string | undefined): number | null {
  return raw === undefined ? null : parseField(listenPort, raw, 'metricsPort');
}

/**
 * Starts the endpoint for `role` and logs where it listens (the port chosen for 0 included); null when no
 * port was given. Throws CroniumError conflict for a port in use (the caller exits before firing anything).
 */
export async function startMetrics(
  host: Host,
  port: number | null,
  role: 'daemon' | 'worker',
): Promise<{ close(): Promise<void> } | null> {
  if (port === null) return null;
  const { startMonitoring } = await import('../metrics/monitoring.ts');
  const started = await startMonitoring({ service: host, port, role });
  log().info(
    { metricsPort: started.port, metricsUrl: `${started.url}/metrics`, healthUrl: `${started.url}/healthz` },
    `metrics on ${started.url}/metrics, health on ${started.url}/healthz`,
  );
  return started;
}
