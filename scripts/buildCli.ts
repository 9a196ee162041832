/**
 * The `cronium` command as a bundle: out/cli/cronium.js and one chunk per command (esbuild code
 * splitting), so a start parses only the root and the command it runs instead of type-stripping the whole
 * core. The log-writer worker and the files that go to servers are copied beside the chunks (they are
 * found relative to the module that reads them). `npm install` builds it (the `prepare` script); the
 * `bin` launcher (bin/cronium) runs it, or the sources when it is missing.
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Builds out/cli from src/cli/main.ts. Throws on a build error. */
export async function buildCli({ quiet = false } = {}): Promise<void> {
  const out = `${root}out/cli`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: {
      cronium: `${root}src/cli/main.ts`,
      logWriterWorker: `${root}src/store/logWriterWorker.ts`,
    },
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    chunkNames: 'chunk-[hash]',
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: quiet ? 'warning' : 'info',
    // Native and optional modules stay out: ssh2 and ws work without them (pure JS fallbacks), pg without
    // pg-native (it loads that only when asked for pg.native).
    external: ['electron', 'cpu-features', '*.node', 'bufferutil', 'utf-8-validate', 'pg-native'],
    // CommonJS libraries bundled into ES modules need a real require, __filename and __dirname.
    banner: { js: ESM_BANNER },
  });
  copyRemoteAssets(out);
}

/** CommonJS libraries bundled into ES modules need a real require, __filename and __dirname. */
export const ESM_BANNER = [
  "import { createRequire as __croniumRequire } from 'node:module';",
  "import { fileURLToPath as __croniumPath } from 'node:url';",
  "import { dirname as __croniumDirname } from 'node:path';",
  'const require = __croniumRequire(import.meta.url);',
  'const __filename = __croniumPath(import.meta.url);',
  'const __dirname = __croniumDirname(__filename);',
].join(' ');

/** What runs on servers (runner, collector, stopper, helpers) beside a bundle that deploys it. */
export function copyRemoteAssets(out: string): void {
  for (const entry of ['runner.sh', 'collect.sh', 'stop.sh', 'follow.sh', 'helpers'])
    cpSync(`${root}src/remote/${entry}`, `${out}/${entry}`, { recursive: true });
}

if (import.meta.main) await buildCli({ quiet: process.argv.includes('--quiet') });
