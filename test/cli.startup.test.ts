/**
 * Issue 10, `cronium run`'s start-up: what a start loads and where its compile cache lives.
 * - The compile cache is in the user's own cache folder (XDG_CACHE_HOME/cronium/compile-cache, mode 700),
 *   filled by a whole process; a folder someone else could write is refused (no cache at all then).
 * - A run whose helpers go no API way never loads jose, and one that needs no secret never loads the OS
 *   keychain's native module; a run in API mode, and one with a secret environment value, do (the same
 *   probe seeing them is what makes the first assertion mean something).
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compileCacheDir, isPrivateDir } from '../src/cli/compileCache.ts';
import { CroniumService } from '../src/service/service.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const node = resolve('node_modules/node/bin/node');
const bin = resolve('bin/cronium');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawned(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((done) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The environment of a CLI process: no compile cache of the caller's, this cache folder. */
function cliEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CRONIUM_RUNTIME_PORT: '0', ...extra };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  return env;
}

describe('the compile cache folder', () => {
  const dir = tempDir('cronium-cache-');
  afterAll(() => dir.remove());

  it('is the per-user cache folder of each platform', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux', '/home/u')).toBe(
      '/x/cache/cronium/compile-cache',
    );
    // A relative XDG_CACHE_HOME is ignored (XDG Base Directory specification).
    expect(compileCacheDir({ XDG_CACHE_HOME: 'rel' }, 'linux', '/home/u')).toBe(
      '/home/u/.cache/cronium/compile-cache',
    );
    expect(compileCacheDir({}, 'linux', '/home/u')).toBe('/home/u/.cache/cronium/compile-cache');
    expect(compileCacheDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Caches/Cronium/compile-cache');
    expect(compileCacheDir({ LOCALAPPDATA: 'C:\\L' }, 'win32', 'C:\\U')).toMatch(
      /^C:\\L[\\/]Cronium[\\/]Cache[\\/]compile-cache$/,
    );
  });

  it('counts as private only when this user owns it and no one else can write it', () => {
    const own = join(dir.path, 'own');
    mkdirSync(own, { mode: 0o700 });
    expect(isPrivateDir(own)).toBe(true);
    const shared = join(dir.path, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect(isPrivateDir(shared)).toBe(false);
    const groupWritable = join(dir.path, 'group');
    mkdirSync(groupWritable);
    chmodSync(groupWritable, 0o770);
    expect(isPrivateDir(groupWritable)).toBe(false);
    const foreign = join(dir.path, 'foreign');
    mkdirSync(foreign, { mode: 0o700 });
    chownSync(foreign, 65534, 65534);
    expect(isPrivateDir(foreign)).toBe(false);
    const link = join(dir.path, 'link');
    symlinkSync(own, link);
    expect(isPrivateDir(link)).toBe(false);
    expect(isPrivateDir(join(dir.path, 'missing'))).toBe(false);
  });

  it('counts as private only in a path no one else can change (every folder above it)', () => {
    const inside = (parent: string, mode: number, uid?: number) => {
      mkdirSync(parent);
      chmodSync(parent, mode);
      if (uid !== undefined) chownSync(parent, uid, uid);
      const d = join(parent, 'cache');
      mkdirSync(d, { mode: 0o700 });
      return d;
    };
    // Another user could rename the private folder away and put theirs in its place.
    expect(isPrivateDir(inside(join(dir.path, 'open'), 0o777))).toBe(false);
    expect(isPrivateDir(inside(join(dir.path, 'theirs'), 0o755, 65534))).toBe(false);
    // Sticky like /tmp: no one can rename or remove another's entry.
    expect(isPrivateDir(inside(join(dir.path, 'sticky'), 0o1777))).toBe(true);
    // Two levels up counts too, also through a link to the folder's parent.
    const deep = join(dir.path, 'deep');
    mkdirSync(deep);
    chmodSync(deep, 0o777);
    expect(isPrivateDir(inside(join(deep, 'mine'), 0o700))).toBe(false);
    symlinkSync(join(deep, 'mine'), join(dir.path, 'via-link'));
    expect(isPrivateDir(join(dir.path, 'via-link', 'cache'))).toBe(false);
  });

  it('a start fills the cache in the user’s folder (mode 700), and refuses one others can write', async () => {
    const data = join(dir.path, 'data');
    const cacheHome = join(dir.path, 'xdg');
    const r = await spawned(
      bin,
      ['server', 'list'],
      cliEnv({ CRONIUM_DATA_DIR: data, XDG_CACHE_HOME: cacheHome }),
    );
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const cache = join(cacheHome, 'cronium', 'compile-cache');
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    // Node keeps one folder per Node version and V8 flags in it, with a file per module compiled.
    const files = readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThan(0);

    const openHome = join(dir.path, 'xdg-open');
    const openCache = join(openHome, 'cronium', 'compile-cache');
    mkdirSync(openCache, { recursive: true });
    chmodSync(openCache, 0o777);
    const refused = await spawned(
      bin,
      ['server', 'list'],
      cliEnv({ CRONIUM_DATA_DIR: data, XDG_CACHE_HOME: openHome }),
    );
    expect(refused).toMatchObject({ code: 0, stderr: '' });
    expect(readdirSync(openCache)).toEqual([]);
  });
});

describe('what one `cronium run` loads', () => {
  const h = ownHosts('startup');
  const dir = tempDir('cronium-startup-');
  const hook = join(dir.path, 'hook.mjs');
  beforeAll(async () => {
    // Every package (and built-in) a module asks for, by name, appended to LOADED_LOG.
    writeFileSync(
      hook,
      `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({
  resolve(specifier, context, next) {
    if (/^[@a-z]/.test(specifier) && !specifier.startsWith('node:')) appendFileSync(process.env.LOADED_LOG, specifier + '\\n');
    return next(specifier, context);
  },
});
`,
    );
    const service = await CroniumService.open({
      dataDir: dir.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
    });
    try {
      await service.createServer({
        name: 'h1',
        host: h.hosts.h1.address,
        username: h.user,
        auth: { type: 'key', keyPath: h.keyPath },
      });
      await service.createJob({ name: 'plain', language: 'bash', script: 'true' });
      await service.createJob({
        name: 'with-secret',
        language: 'bash',
        script: 'test -n "$TOKEN"',
        env: [{ key: 'TOKEN', value: 's3cret', secret: true }],
      });
    } finally {
      await service.close();
    }
  });
  afterAll(() => {
    dir.remove();
    h.removeUser();
  });

  /** The packages a whole `cronium run JOB --on h1 …` process loaded (the sources, as `npm run cronium`). */
  async function loadedBy(job: string, extra: string[] = []): Promise<string[]> {
    const log = join(dir.path, `loaded-${job}-${extra.join('')}.txt`);
    writeFileSync(log, '');
    const r = await spawned(
      node,
      ['--import', hook, 'src/cli/main.ts', 'run', job, '--on', 'h1', ...extra],
      cliEnv({ CRONIUM_DATA_DIR: dir.path, LOADED_LOG: log }),
    );
    expect(r).toMatchObject({ code: 0, stderr: '' });
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  }

  it('a plain bundled run loads neither jose nor the keychain module', async () => {
    const loaded = await loadedBy('plain');
    // The probe sees what a run must load (ssh2's client, by its path in the package).
    expect(loaded.some((s) => s.startsWith('ssh2/'))).toBe(true);
    expect(loaded).not.toContain('jose');
    expect(loaded).not.toContain('@napi-rs/keyring');
  });

  it('API mode loads jose; a secret environment value loads the keychain module', async () => {
    expect(await loadedBy('plain', ['--helpers', 'api'])).toContain('jose');
    expect(await loadedBy('with-secret')).toContain('@napi-rs/keyring');
  });
});
