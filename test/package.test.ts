/**
 * The packaged app, built here the only way these machines allow: electron-builder's `dir` target for
 * Linux with a stand-in for the Electron binary (which cannot be downloaded here). The archive is then
 * checked for what the app loads and for what must not ship, and its CLI is run from it for real.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';

import asar from '@electron/asar';
import { beforeAll, describe, expect, it, afterAll } from 'vitest';

import { buildAll } from '../scripts/build.ts';
import { generateIcons } from '../scripts/icons.ts';
import { packagedBinary, type KeyringModule } from '../src/secrets/keychain.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

/** Modules a bundle may leave outside: Node's own, Electron's, and optional natives it can do without. */
const EXTERNAL_OK = new Set([
  'electron',
  'cpu-features',
  'bufferutil',
  'utf-8-validate',
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
]);

function specifiers(code: string): string[] {
  const found = new Set<string>();
  for (const m of code.matchAll(/(?:^|[;\s])import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["']/g))
    found.add(m[1]!);
  for (const m of code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) found.add(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.add(m[1]!);
  return [...found];
}

// A test user of this file's own: its home (~/.cronium) and processes are nobody else's.
const h = ownHosts('pkg');
afterAll(async () => h.removeUser());

describe('the packaged Linux app (dir target)', () => {
  const out = tempDir('cronium-package-');
  let resources: string;
  let files: string[];
  const inArchive = (path: string) => files.includes(path);

  beforeAll(async () => {
    if (!existsSync('out/app/main.js') || !existsSync('dist/renderer/index.html'))
      await buildAll({ quiet: true });
    await generateIcons();
    const standIn = join(out.path, 'electron-dist');
    mkdirSync(join(standIn, 'resources'), { recursive: true });
    writeFileSync(join(standIn, 'electron'), '#!/bin/sh\necho "stand-in for the Electron binary"\n');
    chmodSync(join(standIn, 'electron'), 0o755);
    const result = spawnSync(
      'node_modules/.bin/electron-builder',
      [
        '--linux',
        'dir',
        '--x64',
        `-c.electronDist=${standIn}`,
        `-c.directories.output=${join(out.path, 'release')}`,
        '--publish',
        'never',
      ],
      { encoding: 'utf8', env: { ...process.env, ELECTRON_BUILDER_CACHE: join(out.path, 'cache') } },
    );
    expect(result.status, result.stdout + result.stderr).toBe(0);
    resources = join(out.path, 'release', 'linux-unpacked', 'resources');
    files = asar.listPackage(join(resources, 'app.asar'), { isPack: false });
  }, 180_000);

  it('holds the compiled main, preload, CLI and worker, the renderer and its assets, and the remote files', () => {
    for (const path of [
      '/package.json',
      '/out/app/main.js',
      '/out/app/preload.cjs',
      '/out/app/cli.js',
      '/out/app/logWriterWorker.js',
      '/out/app/runner.sh',
      '/out/app/collect.sh',
      '/out/app/helpers/cronium.sh',
      '/out/app/helpers/cronium-stubs.sh',
      '/out/app/helpers/python/cronium.py',
      '/out/app/helpers/python/cronium_boot.py',
      '/out/app/helpers/node/cronium.cjs',
      '/dist/renderer/index.html',
    ]) {
      expect(inArchive(path), path).toBe(true);
    }
    const index = asar.extractFile(join(resources, 'app.asar'), 'dist/renderer/index.html').toString();
    const assets = [...index.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => `/dist/renderer/${m[1]}`);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) expect(inArchive(asset), asset).toBe(true);
    // The worker also sits unpacked beside the archive: threads cannot start inside it.
    expect(existsSync(join(resources, 'app.asar.unpacked/out/app/logWriterWorker.js'))).toBe(true);
    const pkg = JSON.parse(asar.extractFile(join(resources, 'app.asar'), 'package.json').toString()) as {
      main: string;
    };
    expect(inArchive(`/${pkg.main}`)).toBe(true);
  });

  it('resolves every module the bundles import inside the archive (or it is Node, Electron, or optional)', async () => {
    for (const bundle of [
      'out/app/main.js',
      'out/app/preload.cjs',
      'out/app/cli.js',
      'out/app/logWriterWorker.js',
    ]) {
      const code = asar.extractFile(join(resources, 'app.asar'), bundle).toString();
      for (const spec of specifiers(code)) {
        if (spec.startsWith('.')) {
          const resolved = join('/', bundle, '..', spec);
          expect(inArchive(resolved), `${bundle} imports ${spec}`).toBe(true);
        } else if (!spec.endsWith('.node')) {
          expect(EXTERNAL_OK.has(spec), `${bundle} imports ${spec}`).toBe(true);
        }
      }
      // Files found next to the bundle at run time (new URL('./x', import.meta.url)).
      for (const m of code.matchAll(/new URL\(\s*[`"']\.\/([^`"'$]+)[`"']/g)) {
        if (m[1]!.includes('logWriterWorker.ts')) continue; // the from-sources name; bundles use the .js one
        expect(inArchive(join('/', bundle, '..', m[1]!)), `${bundle} reads ${m[1]}`).toBe(true);
      }
    }
  });

  it('ships nothing from the excluded list: no sources, tests, dev dependencies, maps, or native modules', () => {
    const forbidden = files.filter((f) =>
      /^\/(src|test|renderer|bench|scripts|electron|\.ci|node_modules)\b|\/node_modules\/|\.ts$|\.tsx$|\.map$|\.node$/.test(
        f,
      ),
    );
    expect(forbidden).toEqual([]);
    expect(files.length).toBeLessThan(40);
  });

  it('ships the cronium command, and its CLI runs from the archive against a real host', () => {
    const bin = join(resources, 'bin', 'cronium');
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    expect(existsSync(join(resources, 'bin', 'cronium.cmd'))).toBe(true);
    // The app's runtime cannot run here; Node 24 (what Electron 45 embeds) stands in for it, running the
    // CLI exactly as packaged: extracted from the archive with its unpacked files beside it.
    const extracted = join(out.path, 'extracted');
    asar.extractAll(join(resources, 'app.asar'), extracted);
    const data = join(out.path, 'data');
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [join(extracted, 'out/app/cli.js'), '--data-dir', data, ...args], {
        encoding: 'utf8',
        env: { ...process.env, CRONIUM_RUNTIME_PORT: '0' },
      });
    cli('server', 'add', 'h1', '--host', h.hosts.h1.address, '--user', h.user, '--key', h.keyPath);
    cli(
      'job',
      'add',
      'hello',
      '--lang',
      'python',
      '--script',
      'print("packaged", cronium.input()["n"])\ncronium.output(1)',
    );
    expect(cli('run', 'hello', '--on', 'h1', '--input', '{"n": 7}')).toBe('packaged 7\n');
    const [execution] = JSON.parse(cli('history', '--json')) as { helperMode: string; output: unknown }[];
    expect(execution).toMatchObject({ helperMode: 'api', output: 1 });
    expect(readFileSync(join(extracted, 'out/app/runner.sh'), 'utf8')).toBe(
      readFileSync('src/remote/runner.sh', 'utf8'),
    );
  });

  it('carries the OS keychain binary beside the archive, and the secret store can load it from there', () => {
    const dir = join(resources, 'keyring');
    const binaries = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.node'));
    expect(binaries).toContain(join('keyring-linux-x64-gnu', 'keyring.linux-x64-gnu.node'));
    // As the packaged app loads it: no node_modules to resolve from, so from resources/keyring.
    const binary = packagedBinary(dir);
    expect(binary).toBe(join(dir, 'keyring-linux-x64-gnu', 'keyring.linux-x64-gnu.node'));
    expect(typeof (createRequire(import.meta.url)(binary!) as KeyringModule).Entry).toBe('function');
  });
});
