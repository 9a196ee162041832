import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The per-user app-data folder for "Cronium": the same folder Electron's app.getPath('userData') gives for
 * an app named Cronium, so the desktop app and the CLI share one database.
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Cronium');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Cronium');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'Cronium');
}

export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.CRONIUM_DATA_DIR || defaultDataDir(env);
}
