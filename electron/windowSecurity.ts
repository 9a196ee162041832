/** The parts of Electron's webContents and shell that window hardening uses. */
export interface WebContentsLike {
  on(event: 'will-navigate', listener: (event: { preventDefault(): void }, url: string) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}
export interface ShellLike {
  openExternal(url: string): Promise<void>;
}

/** Web preferences of the app's window: isolated, sandboxed, no Node. */
export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  spellcheck: false,
} as const;

/** No navigation away from the app and no new windows; web links open in the OS browser. */
export function hardenWebContents(contents: WebContentsLike, shell: ShellLike, appUrl: string): void {
  contents.on('will-navigate', (event, url) => {
    if (url !== appUrl) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

/** Asks before closing while runs are going (closing cancels them). */
export async function confirmClose(
  activeRuns: number,
  ask: (message: string) => Promise<boolean>,
): Promise<boolean> {
  if (activeRuns === 0) return true;
  return ask(
    `${activeRuns} run${activeRuns === 1 ? ' is' : 's are'} still going. Closing Cronium cancels ${activeRuns === 1 ? 'it' : 'them'} and stops the scripts on the servers.`,
  );
}
