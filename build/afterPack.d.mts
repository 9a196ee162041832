/** Types of the electron-builder afterPack hook (build/afterPack.mjs), for the tests that call it. */
export interface AfterPackContextLike {
  appOutDir: string;
  electronPlatformName: string;
  packager: {
    executableName: string;
    appInfo: { productFilename: string };
    config: { electronDist?: unknown };
  };
}
export function fusesFor(platform: string): Record<string | number, unknown>;
export function electronBinaryPath(context: AfterPackContextLike): string;
export function applyFuses(binary: string, platform: string): Promise<Record<string, number | string>>;
export default function afterPack(context: AfterPackContextLike): Promise<void>;
