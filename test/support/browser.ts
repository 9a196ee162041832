import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

import { chromium, type BrowserContext } from 'playwright-core';

import { buildAll } from '../../scripts/build.ts';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * `cronium serve` as a real process on a data directory (and `env` over this process's: a team's
 * database URL and key); resolves with the URL it prints.
 */
export async function startServe(
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: string }> {
  if (!existsSync('dist/renderer/index.html')) await buildAll({ quiet: true });
  const child = spawn(process.execPath, ['src/cli/main.ts', 'serve', '--port', '0'], {
    env: { ...process.env, ...env, CRONIUM_DATA_DIR: dataDir, CRONIUM_RUNTIME_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d) => process.stderr.write(`[serve] ${d}`));
    child.on('exit', (code) => reject(new Error(`cronium serve exited (${code}): ${out}`)));
  });
  return { child, url };
}

export async function stopServe(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Debian's Chromium, headless, with the flags this closed network needs. */
export function openBrowser(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
}
