/**
 * V8's compile cache for the `cronium` command (Node's module.enableCompileCache): the code compiled for
 * the bundle's chunks is kept on disk, so a start compiles only what changed (about a quarter of
 * `cronium run`'s start-up). The cache is executable code this user's processes load, so it lives in a
 * directory only this user can write — never Node's default, a shared folder under the temporary dir
 * that another user could create first.
 */
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The per-user cache folder for the compile cache: `$XDG_CACHE_HOME/cronium/compile-cache` (else
 * `~/.cache/…`, the XDG Base Directory specification's default), `~/Library/Caches/Cronium/compile-cache`
 * on macOS, `%LOCALAPPDATA%\Cronium\Cache\compile-cache` on Windows.
 */
export function compileCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32')
    return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'Cronium', 'Cache', 'compile-cache');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'Cronium', 'compile-cache');
  // The specification says a relative XDG_CACHE_HOME is invalid and to be ignored.
  const base = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : join(home, '.cache');
  return join(base, 'cronium', 'compile-cache');
}

/**
 * Whether `dir` is a real directory (not a link) owned by this user and writable by no one else, in a path
 * no one else can change: every folder above it (links resolved) belongs to this user or root and is
 * writable by no one else, unless it is sticky like /tmp (where no one can rename or remove another's
 * entry). Otherwise another user could swap the folder for one of theirs between this check and Node
 * opening it. POSIX; on Windows, where there are no such modes, the per-user LOCALAPPDATA is trusted.
 */
export function isPrivateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory()) return false;
    if (process.platform === 'win32' || process.getuid === undefined) return true;
    const me = process.getuid();
    if (st.uid !== me || (st.mode & 0o022) !== 0) return false;
    for (let up = dirname(realpathSync(dir)); ; up = dirname(up)) {
      const a = lstatSync(up);
      const openToOthers = (a.mode & 0o022) !== 0 && (a.mode & 0o1000) === 0;
      if (!a.isDirectory() || (a.uid !== me && a.uid !== 0) || openToOthers) return false;
      if (up === dirname(up)) return true;
    }
  } catch {
    return false;
  }
}

/**
 * Turns the compile cache on in compileCacheDir() (made with mode 700 when missing), and returns that
 * directory; null when it is left off: the user chose a cache (NODE_COMPILE_CACHE: Node has enabled it
 * already), turned it off (NODE_DISABLE_COMPILE_CACHE), or the directory cannot be made or is not private
 * to this user. Never throws: a start without the cache is only slower.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE || !module.enableCompileCache) return null;
  try {
    const dir = compileCacheDir(env);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!isPrivateDir(dir)) return null;
    // The checked path itself, links resolved: what Node opens is what was checked.
    const real = realpathSync(dir);
    const result = module.enableCompileCache(real);
    return result.status === module.constants.compileCacheStatus.FAILED ? null : real;
  } catch {
    return null;
  }
}
