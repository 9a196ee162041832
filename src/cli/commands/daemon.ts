/**
 * `cronium daemon`: fires schedules without the desktop app, for a service manager (see the systemd unit in
 * the README). Logs JSON lines on stdout. SIGTERM (or SIGINT, Ctrl-C) stops it cleanly: no new fires, the
 * scheduler lease given up (another daemon or the app takes over at once), running executions cancelled
 * (their remote scripts stopped), the store closed; exit 0.
 */
import type { Command } from 'commander';

import { configureStreamLogger, log } from '../../core/logger.ts';
import { action, type CommandContext, type Host } from '../context.ts';
import type { CliIo } from '../io.ts';

export function register(cmd: Command, ctx: CommandContext): void {
  cmd
    .description('fire schedules without the app until SIGTERM (logs JSON lines on stdout)')
    .action(action(ctx, (host) => daemonCommand(host, ctx.global().verbose ?? false, ctx.io)));
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

async function daemonCommand(host: Host, verbose: boolean, io: CliIo): Promise<number> {
  await configureStreamLogger(io.stdout, verbose ? 'debug' : 'info');
  // Signals are caught first, so one arriving while starting still stops cleanly.
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  for (const signal of STOP_SIGNALS) process.once(signal, stop);
  try {
    const { dataDir, version } = host.appInfo();
    log().info({ dataDir, version }, 'daemon starting');
    // Runs in API mode need the runtime API (a note, such as another port, is logged by the service).
    const runtime = await host.startRuntime();
    log().info({ runtimePort: runtime.port }, 'runtime API listening on 127.0.0.1');
    // Keep-running scripts a closed app or killed CLI left on their hosts are followed to their end here.
    const reattached = host.reattachDetached();
    if (reattached.length)
      log().info({ executions: reattached }, `following ${reattached.length} detached execution(s)`);
    const scheduler = host.startScheduler();
    const signal = await stopped;
    log().info({ signal }, `${signal}: stopping`);
    await scheduler.stop();
    const active = host.activeRunIds();
    // close() cancels them, but leaves keep-running scripts detached on their hosts for the next start.
    if (active.length) log().info({ runs: active }, `cancelling ${active.length} running run(s)`);
    await host.close();
    log().info('daemon stopped');
    return 0;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
  }
}
