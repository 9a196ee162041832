/**
 * `cronium daemon`: fires schedules without the desktop app, for a service manager (see the systemd unit in
 * the README). Logs JSON lines on stdout. SIGTERM (or SIGINT, Ctrl-C) stops it cleanly: no new fires, the
 * scheduler lease given up (another daemon or the app takes over at once), running executions cancelled
 * (their remote scripts stopped), the store closed; exit 0. With --metrics-port it also serves Prometheus
 * metrics and a health check on 127.0.0.1 (src/metrics/monitoring.ts). On the team's PostgreSQL store it
 * also reaps lost workers (src/team/reaper.ts).
 */
import type { Command } from 'commander';

import { configureStreamLogger, log } from '../../core/logger.ts';
import { action, type CommandContext, type Host } from '../context.ts';
import type { CliIo } from '../io.ts';
import { metricsPortOption, parseMetricsPort, startMetrics } from '../metricsOption.ts';

export function register(cmd: Command, ctx: CommandContext): void {
  cmd.description('fire schedules without the app until SIGTERM (logs JSON lines on stdout)');
  metricsPortOption(cmd).action(
    action(ctx, (host, o: { metricsPort?: string }) =>
      daemonCommand(host, o, ctx.global().verbose ?? false, ctx.io),
    ),
  );
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

async function daemonCommand(
  host: Host,
  options: { metricsPort?: string },
  verbose: boolean,
  io: CliIo,
): Promise<number> {
  const metricsPort = parseMetricsPort(options.metricsPort);
  await configureStreamLogger(io.stdout, verbose ? 'debug' : 'info');
  // Signals are caught first, so one arriving while starting still stops cleanly.
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  for (const signal of STOP_SIGNALS) process.once(signal, stop);
  let monitoring: { close(): Promise<void> } | null = null;
  try {
    const { dataDir, version } = await host.appInfo();
    log().info({ dataDir, version }, 'daemon starting');
    // First: a port in use stops the daemon before it fires anything. Loaded only when asked for.
    monitoring = await startMetrics(host, metricsPort, 'daemon');
    // Runs in API mode need the runtime API (a note, such as another port, is logged by the service).
    const runtime = await host.startRuntime();
    log().info({ runtimePort: runtime.port }, 'runtime API listening on 127.0.0.1');
    // Keep-running scripts a closed app or killed CLI left on their hosts are followed to their end here.
    const reattached = await host.reattachDetached();
    if (reattached.length)
      log().info({ executions: reattached }, `following ${reattached.length} detached execution(s)`);
    const scheduler = host.startScheduler();
    // Team mode: executions of a worker that died are settled here too (worker_lost, or re-queued), so
    // none is left running while no other worker is alive to reap it.
    const stopReaping = host.startReaper();
    const signal = await stopped;
    log().info({ signal }, `${signal}: stopping`);
    stopReaping();
    await scheduler.stop();
    const active = host.activeRunIds();
    // close() cancels them, but leaves keep-running scripts detached on their hosts for the next start.
    if (active.length) log().info({ runs: active }, `cancelling ${active.length} running run(s)`);
    // The endpoint goes first: nothing scrapes a store being closed.
    await monitoring?.close();
    monitoring = null;
    await host.close();
    log().info('daemon stopped');
    return 0;
  } finally {
    await monitoring?.close();
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
  }
}
