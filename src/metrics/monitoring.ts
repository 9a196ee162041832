/**
 * The monitoring endpoint of `cronium daemon` and `cronium worker`: an HTTP server on 127.0.0.1 only
 * (like the runtime API and browser mode) serving `GET /metrics` (Prometheus' text exposition format) and
 * `GET /healthz` (JSON, see health.ts). Other paths answer 404, other methods 405. It serves no data and
 * takes no input beyond the path: nothing to authenticate, and a scraper on another machine goes through a
 * tunnel or a local agent, never a public port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { AppInfo } from '../contract.ts';
import { CroniumError } from '../core/errors.ts';
import { log } from '../core/logger.ts';
import { healthReport } from './health.ts';
import { CroniumMetrics, type MetricsSource, type MonitorRole } from './registry.ts';

/** The address the endpoint listens on: loopback only. */
export const MONITOR_HOST = '127.0.0.1';

export interface MonitoringOptions {
  /**
   * The monitored core (a CroniumService): its events, live figures and version (appInfo may answer now or
   * as a promise: the store is becoming async).
   */
  service: MetricsSource & {
    appInfo(): Pick<AppInfo, 'version'> | Promise<Pick<AppInfo, 'version'>>;
  };
  /** TCP port on 127.0.0.1 (1–65535), or 0 for a free one (the answer's `port` says which). */
  port: number;
  role: MonitorRole;
}

/** A running monitoring endpoint. */
export interface Monitoring {
  /** The port it listens on (the one chosen when 0 was asked for). */
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The registry: a worker sets the queue depth from its own queue here (setQueueDepth). */
  readonly metrics: CroniumMetrics;
  /** Stops listening (open scrapes are ended) and stops counting events. */
  close(): Promise<void>;
}

/**
 * Starts the monitoring endpoint of a daemon or worker on 127.0.0.1:`port`; counting starts now (what
 * ended before is not counted).
 * @throws CroniumError invalid_input for a port outside 0–65535; conflict when the port is in use (the
 * message names it).
 */
export async function startMonitoring({ service, port, role }: MonitoringOptions): Promise<Monitoring> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new CroniumError(
      'invalid_input',
      `The metrics port must be a whole number from 0 to 65535, not ${port}.`,
    );
  const info = { role, version: (await service.appInfo()).version };
  const metrics = new CroniumMetrics(service, info);
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log().error({ err }, 'monitoring request failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    });
  });
  // A slow or stuck client cannot hold a scrape open for ever.
  server.requestTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics' && path !== '/healthz')
      return answer(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return answer(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    if (path === '/metrics') {
      const { contentType, text } = await metrics.scrape();
      return answer(res, 200, contentType, text, req.method === 'HEAD');
    }
    const { httpStatus, report } = healthReport(await service.monitorStatus(), info);
    answer(res, httpStatus, 'application/json', JSON.stringify(report) + '\n', req.method === 'HEAD');
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, MONITOR_HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    metrics.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CroniumError(
        'conflict',
        `Port ${port} on ${MONITOR_HOST} is in use: metrics cannot be served there (choose another --metrics-port, or 0 for a free one).`,
        { cause: err },
      );
    if (code === 'EACCES')
      throw new CroniumError(
        'invalid_input',
        `Port ${port} on ${MONITOR_HOST} may not be used by this user (ports below 1024 need privileges).`,
        { cause: err },
      );
    throw err;
  }
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${MONITOR_HOST}:${bound}`,
    metrics,
    close: () =>
      new Promise<void>((resolve) => {
        metrics.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headOnly = false,
): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(headOnly ? undefined : body);
}
