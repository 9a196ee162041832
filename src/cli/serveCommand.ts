import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { CroniumError } from '../core/errors.ts';
import { listenPort, parseField } from '../core/rules.ts';
import type { CroniumService } from '../service/service.ts';
import { WebServer } from '../web/webServer.ts';
import type { CliIo, CliValues } from './io.ts';

/** Where `npm run build` puts the renderer (CRONIUM_RENDERER_DIR overrides, e.g. inside a package). */
export function rendererDir(env: NodeJS.ProcessEnv): string {
  return env.CRONIUM_RENDERER_DIR ?? fileURLToPath(new URL('../../dist/renderer', import.meta.url));
}

/** `cronium serve`: the UI in a browser until Ctrl-C. */
export async function serveCommand(service: CroniumService, values: CliValues, io: CliIo): Promise<number> {
  const staticDir = rendererDir(io.env);
  if (!existsSync(`${staticDir}/index.html`)) {
    throw new CroniumError(
      'invalid_input',
      `The UI is not built (${staticDir} has no index.html): run "npm run build" first.`,
    );
  }
  const port = values.port === undefined ? 8090 : parseField(listenPort, values.port, 'port');
  const runtime = await service.startRuntime();
  if (runtime.note) io.stderr.write(`cronium: ${runtime.note}\n`);
  const web = new WebServer({ api: service, subscribe: (l) => service.subscribe(l), staticDir, port });
  let url: string;
  try {
    ({ url } = await web.listen());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new CroniumError('conflict', `Port ${port} is taken: choose another with --port.`);
    throw err;
  }
  io.stdout.write(
    `Cronium is running in browser mode. Open this link (it carries this session's token):\n  ${url}\nPress Ctrl-C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (service.activeRunIds().length) io.stderr.write('cronium: cancelling the runs still going…\n');
  await web.close();
  return 0;
}
