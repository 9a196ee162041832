/**
 * electron-builder's afterPack hook: sets the Electron fuses of the packaged binary (@electron/fuses),
 * before electron-builder signs it. Plain JavaScript so electron-builder can load it under any Node.
 *
 * Fuses (https://www.electronjs.org/docs/latest/tutorial/fuses):
 * - RunAsNode stays ON: the packaged CLI (resources/bin/cronium) runs the app's binary with
 *   ELECTRON_RUN_AS_NODE=1; turning it off would break the command line.
 * - NODE_OPTIONS and --inspect / --inspect-brk are ignored (off): no code injection through the environment
 *   or a debugger port.
 * - Cookies are encrypted on disk with the OS keychain (on).
 * - The app is only loaded from app.asar (on): a loose `app` folder beside it is never run.
 * - Embedded asar integrity validation: on for macOS, where electron-builder records the archive's hash in
 *   Info.plist; off elsewhere (Linux does not support it, and the Windows build carries no integrity
 *   resource, so the app would refuse to start).
 * - GrantFileProtocolExtraPrivileges and the V8 snapshot fuse keep Electron's defaults: the window loads
 *   its page from file://.
 */
/* global console */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { FuseV1Options, FuseVersion, flipFuses, getCurrentFuseWire } from '@electron/fuses';

/** The sentinel @electron/fuses looks for: a binary without it has no fuses (a stand-in, say). */
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

/**
 * The fuses for a platform ('darwin', 'mas', 'win32', 'linux').
 * @param {string} platform
 */
export function fusesFor(platform) {
  const mac = platform === 'darwin' || platform === 'mas';
  return {
    version: FuseVersion.V1,
    // Flipping fuses invalidates an ad-hoc signature (Apple silicon); electron-builder signs afterwards.
    resetAdHocDarwinSignature: mac,
    [FuseV1Options.RunAsNode]: true,
    [FuseV1Options.EnableCookieEncryption]: true,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    [FuseV1Options.EnableNodeCliInspectArguments]: false,
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: mac,
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
  };
}

/**
 * The file holding the fuse wire: the executable on Linux and Windows, the .app bundle on macOS.
 * @param {{ appOutDir: string, electronPlatformName: string, packager: any }} context
 */
export function electronBinaryPath(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas')
    return join(appOutDir, `${packager.appInfo.productFilename}.app`);
  if (electronPlatformName === 'win32') return join(appOutDir, `${packager.appInfo.productFilename}.exe`);
  return join(appOutDir, packager.executableName);
}

/**
 * Flips the fuses of one binary and reads them back.
 * @param {string} binary
 * @param {string} platform
 * @returns {Promise<Record<string, number | string>>} the fuse wire as @electron/fuses reports it
 */
export async function applyFuses(binary, platform) {
  await flipFuses(binary, fusesFor(platform));
  return getCurrentFuseWire(binary);
}

/**
 * The hook. A binary without a fuse wire is an error, except when the build was given a local Electron
 * (`electronDist`, as the packaging test does with a stand-in script), where it is said and skipped.
 * @param {{ appOutDir: string, electronPlatformName: string, packager: any }} context
 */
export default async function afterPack(context) {
  const binary = electronBinaryPath(context);
  const file = binary.endsWith('.app')
    ? join(binary, 'Contents', 'Frameworks', 'Electron Framework.framework', 'Electron Framework')
    : binary;
  const hasWire = (await readFile(file)).includes(SENTINEL);
  if (!hasWire) {
    if (context.packager.config.electronDist) {
      console.warn(`afterPack: ${file} has no Electron fuse wire (a local stand-in?); fuses not set`);
      return;
    }
    throw new Error(`afterPack: ${file} has no Electron fuse wire; cannot set the fuses`);
  }
  await applyFuses(binary, context.electronPlatformName);
}
