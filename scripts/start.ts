/**
 * npm start: builds, then opens the desktop app. Where it cannot start (no display, or no Electron binary
 * and no way to fetch one), says so in one line and starts browser mode instead.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildAll } from './build.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The Electron binary's path, or why there is none. */
function electronBinary(): { path: string } | { why: string } {
  const pkg = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) {
    // Electron 45 fetches its binary on first launch; try once, quickly (this fails at once offline).
    const fetched = spawnSync(process.execPath, [join(pkg, 'install.js')], {
      stdio: 'ignore',
      timeout: 120_000,
    });
    if (fetched.status !== 0 || !existsSync(pathFile))
      return { why: 'the Electron binary is not installed and could not be downloaded' };
  }
  const binary = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? { path: binary } : { why: `the Electron binary is missing (${binary})` };
}

await buildAll({ quiet: true });
const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const electron = headless ? { why: 'there is no display' } : electronBinary();
if ('path' in electron) {
  const child = spawn(electron.path, [root], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(`The desktop window cannot open here (${electron.why}); starting browser mode instead.`);
  const child = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'serve', ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}
