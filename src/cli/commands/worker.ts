/**
 * `cronium worker [--name N] [--concurrency N] [--metrics-port N]`: team mode's worker (src/team/worker.ts). Takes
 * queued executions from the team's store and queue on PostgreSQL (CRONIUM_DATABASE_URL) and runs them here, heartbeating,
 * reaping lost workers, and firing schedules into the queue (each occurrence once: the store's
 * schedule_fires claim). Logs JSON lines on stdout. SIGTERM or SIGINT stops it: no new executions, the
 * running ones finish for up to --grace seconds and are then cancelled (their remote processes ended); a
 * second signal cancels them at once. Exit 0.
 */
import type { Command } from 'commander';

import { configureStreamLogger, log } from '../../core/logger.ts';
import { CroniumError } from '../../core/errors.ts';
import { action, type CommandContext, type Host } from '../context.ts';
import type { CliIo } from '../io.ts';
import { metricsPortOption, parseMetricsPort, startMetrics } from '../metricsOption.ts';
import { teamTimings, workerActor, workerName } from '../../team/reaper.ts';

interface WorkerOptions {
  metricsPort?: string;
  name?: string;
  concurrency?: string;
  grace?: string;
}

export function register(cmd: Command, ctx: CommandContext): void {
  metricsPortOption(cmd)
    .description('take queued executions from the team queue and run them (team mode; JSON logs on stdout)')
    .option('--name <name>', "this worker's name, unique in the team (default: the machine's name)")
    .option('--concurrency <n>', 'executions at once (default 4)')
    .option(
      '--grace <seconds>',
      'on SIGTERM, how long running executions may finish before they are cancelled (30)',
    )
    .action(
      action(ctx, (host, o: WorkerOptions) => workerCommand(host, o, ctx.global().verbose ?? false, ctx.io), {
        // Runs this worker starts (its schedules' fires, chain links) are recorded as started by it.
        serviceOptions: (o: WorkerOptions) => ({
          teamSupervise: true,
          scheduledVia: 'workers',
          actor: workerActor(workerName(o.name)),
        }),
      }),
    );
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

function wholeNumber(
  value: string | undefined,
  option: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max))
    throw new CroniumError('invalid_input', `${option} is a whole number from ${min} to ${max}.`, {
      fields: { [option]: `a whole number from ${min} to ${max}` },
    });
  return n;
}

async function workerCommand(host: Host, o: WorkerOptions, verbose: boolean, io: CliIo): Promise<number> {
  const concurrency = wholeNumber(o.concurrency, '--concurrency', 1, 500);
  const grace = wholeNumber(o.grace, '--grace', 0, 86_400);
  const metricsPort = parseMetricsPort(o.metricsPort);
  await configureStreamLogger(io.stdout, verbose ? 'debug' : 'info');
  let monitoring: { close(): Promise<void> } | null = null;
  let signals = 0;
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  let worker: Awaited<ReturnType<Host['startWorker']>> | null = null;
  const onSignal = (signal: string) => {
    signals++;
    stop(signal);
    // A second signal: cancel what runs now.
    if (signals > 1) {
      log().info({ signal }, `second ${signal}: cancelling the running executions now`);
      void worker?.stop(0);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    const { dataDir, version } = await host.appInfo();
    log().info({ dataDir, version }, 'worker starting');
    // First: a port in use stops the worker before it takes anything.
    monitoring = await startMetrics(host, metricsPort, 'worker');
    const runtime = await host.startRuntime();
    log().info({ runtimePort: runtime.port }, 'runtime API listening on 127.0.0.1');
    worker = await host.startWorker({
      name: o.name,
      concurrency,
      graceMs: grace === undefined ? undefined : grace * 1000,
      // The team's timing (every worker, daemon and follower of a team should agree): src/team/reaper.ts.
      ...teamTimings(io.env),
    });
    // Schedules fire from here too (into the queue); one process of the team holds the lease.
    const scheduler = host.startScheduler();
    const signal = await stopped;
    log().info({ signal, running: worker.active }, `${signal}: stopping (no new executions)`);
    await scheduler.stop();
    await worker.stop();
    // The endpoint goes first: nothing scrapes a store being closed.
    await monitoring?.close();
    monitoring = null;
    await host.close();
    log().info({ worker: worker.name }, 'worker stopped');
    return 0;
  } finally {
    await monitoring?.close();
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}
