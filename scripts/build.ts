/**
 * npm run build: the renderer (Vite) into dist/renderer, and the Electron main process, preload, CLI and
 * log-writer worker (esbuild) into out/app, with the files that go to servers copied beside them; and the
 * `cronium` command's split bundle into out/cli (scripts/buildCli.ts).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';

import { buildCli, copyRemoteAssets, ESM_BANNER } from './buildCli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}out/app`;

export async function buildAll({ quiet = false } = {}): Promise<void> {
  await viteBuild({ configFile: `${root}renderer/vite.config.ts`, logLevel: quiet ? 'warn' : 'info' });

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const common = {
    bundle: true,
    platform: 'node' as const,
    target: 'node22',
    sourcemap: false,
    logLevel: quiet ? ('warning' as const) : ('info' as const),
    // Native and optional modules stay out: ssh2 and ws work without them (pure JS fallbacks).
    external: ['electron', 'cpu-features', '*.node', 'bufferutil', 'utf-8-validate', 'pg-native'],
  };
  // ES modules for main, CLI and worker (they use import.meta.url to find their files); CommonJS
  // libraries bundled into them get a real require.
  const esm = {
    ...common,
    format: 'esm' as const,
    outExtension: { '.js': '.js' },
    banner: { js: ESM_BANNER },
  };
  await esbuild({
    ...esm,
    entryPoints: {
      main: `${root}electron/main.ts`,
      cli: `${root}src/cli/main.ts`,
      logWriterWorker: `${root}src/store/logWriterWorker.ts`,
    },
    outdir: out,
  });
  // A sandboxed preload must be a single CommonJS file.
  await esbuild({
    ...common,
    format: 'cjs',
    entryPoints: [`${root}electron/preload.ts`],
    outfile: `${out}/preload.cjs`,
  });
  copyRemoteAssets(out);
  // The installable `cronium` command's bundle (bin/cronium runs it).
  await buildCli({ quiet });
}

if (import.meta.main) await buildAll({ quiet: process.argv.includes('--quiet') });
