import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { Command } from 'commander';

import { CroniumError } from '../../core/errors.ts';
import { configureFileLogger, log } from '../../core/logger.ts';
import { listenPort, parseField } from '../../core/rules.ts';
import { WebServer } from '../../web/webServer.ts';
import { action, type CommandContext, type Host } from '../context.ts';
import { packageRoot, type CliIo } from '../io.ts';

export function register(cmd: Command, ctx: CommandContext): void {
  cmd
    .option('--port <port>', 'port on 127.0.0.1 (default 8090; 0 for any free one)')
    .action(
      action(
        ctx,
        async (host, o: { port?: string }) => serveCommand(host, o, ctx.global().verbose ?? false, ctx.io),
        { serving: true },
      ),
    );
}

/** Where `npm run build` puts the renderer (CRONIUM_RENDERER_DIR overrides, e.g. inside a package). */
export function rendererDir(env: NodeJS.ProcessEnv): string {
  return env.CRONIUM_RENDERER_DIR ?? join(packageRoot(), 'dist', 'renderer');
}

/** `cronium serve`: the UI in a browser until Ctrl-C. */
async function serveCommand(
  service: Host,
  values: { port?: string },
  verbose: boolean,
  io: CliIo,
): Promise<number> {
  const staticDir = rendererDir(io.env);
  if (!existsSync(`${staticDir}/index.html`)) {
    throw new CroniumError(
      'invalid_input',
      `The UI is not built (${staticDir} has no index.html): run "npm run build" first.`,
    );
  }
  const port = values.port === undefined ? 8090 : parseField(listenPort, values.port, 'port');
  // Browser mode keeps a log file in the data directory (the terminal shows only what needs saying).
  const fileLog = await configureFileLogger({
    dataDir: (await service.appInfo()).dataDir,
    level: verbose ? 'debug' : 'info',
  });
  const runtime = await service.startRuntime();
  if (runtime.note) io.stderr.write(`cronium: ${runtime.note}\n`);
  // Runs the CLI starts meanwhile on this data directory show up live in the page, with cancel.
  const stopFollowing = service.followOtherProcesses();
  const web = new WebServer({
    api: service,
    subscribe: (l) => service.subscribe(l),
    staticDir,
    port,
  });
  let url: string;
  try {
    ({ url } = await web.listen());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new CroniumError('conflict', `Port ${port} is taken: choose another with --port.`);
    throw err;
  }
  fileLog.info({ url: url.replace(/#.*$/, '').replace(/\?.*$/, '') }, 'browser mode listening');
  // Browser mode fires schedules while it is open (or waits its turn while a daemon or the app holds the lease).
  service.startScheduler();
  // Keep-running scripts a closed app or killed CLI left on their hosts are followed to their end.
  await service.reattachDetached();
  io.stdout.write(
    `Cronium is running in browser mode. Open this link (it carries this session's token):\n  ${url}\nPress Ctrl-C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (service.activeRunIds().length) io.stderr.write('cronium: cancelling the runs still going…\n');
  stopFollowing();
  await web.close();
  log().info('browser mode stopped');
  return 0;
}
