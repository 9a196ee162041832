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

/** The parts of Electron's session that permission handling uses. */
export interface SessionLike {
  setPermissionRequestHandler(
    handler: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null,
  ): void;
  setPermissionCheckHandler(handler: ((contents: unknown, permission: string) => boolean) | null): void;
}

/**
 * The app asks for no permission (camera, notifications, clipboard-read, geolocation…): every request and
 * every check is denied (Electron security checklist, "Handle session permission requests").
 */
export function denyPermissions(session: SessionLike): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/** A webContents as `web-contents-created` hands it over: window hardening plus webview attachment. */
export interface CreatedWebContentsLike extends WebContentsLike {
  on(event: 'will-navigate', listener: (event: { preventDefault(): void }, url: string) => void): void;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): void;
}
export interface AppEventsLike {
  on(
    event: 'web-contents-created',
    listener: (event: unknown, contents: CreatedWebContentsLike) => void,
  ): void;
}

/**
 * Hardens every webContents the app ever creates, not only the main window's (Electron security checklist
 * §13 "Disable or limit navigation", §14 "Disable or limit creation of new windows", §12 "Verify WebView
 * options before creation"): navigation away from the app is prevented, new windows denied (web links open
 * in the OS browser), and no <webview> may attach.
 */
export function guardAllWebContents(app: AppEventsLike, shell: ShellLike, appUrl: string): void {
  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents, shell, appUrl);
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}
