/**
 * The Electron main process: a thin shell over the core. It creates the same service facade the CLI uses,
 * starts the runtime API, opens one hardened window, and wires the IPC adapter.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  safeStorage,
  session,
  shell,
} from 'electron';

import { createDispatcher } from '../src/api/dispatcher.ts';
import { closeLogger, configureFileLogger, log } from '../src/core/logger.ts';
import { runtimePortFromEnv } from '../src/core/rules.ts';
import { CroniumService } from '../src/service/service.ts';
import { forwardEvents, registerIpc, trustedFrame } from './ipc.ts';
import { notifyFinishedRuns } from './notifications.ts';
import { SafeStorageSecretStore } from './safeStorageSecretStore.ts';
import { autoUpdaterOf, startUpdates, type MenuItemLike } from './updater.ts';
import {
  confirmClose,
  denyPermissions,
  guardAllWebContents,
  SECURE_WEB_PREFERENCES,
} from './windowSecurity.ts';

app.setName('Cronium');
if (!app.requestSingleInstanceLock()) app.quit();

let window: BrowserWindow | null = null;
let service: CroniumService | null = null;

const indexFile = () => join(app.getAppPath(), 'dist', 'renderer', 'index.html');
// Every webContents (the window's and any other) is hardened as it is created, before it can load.
guardAllWebContents(app, shell, pathToFileURL(indexFile()).toString());

async function start(): Promise<void> {
  denyPermissions(session.defaultSession);
  const runtimePort = runtimePortFromEnv(process.env);
  // Electron's userData for "Cronium" is the same folder the CLI defaults to, so both share one database.
  const dataDir = process.env.CRONIUM_DATA_DIR || app.getPath('userData');
  // A rotating log file in the data directory (logs/cronium.N.log); the app has no terminal to write to.
  await configureFileLogger({ dataDir, level: process.env.CRONIUM_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  log().info({ version: app.getVersion() }, 'desktop app starting');
  service = await CroniumService.open({
    dataDir,
    // Team mode: the shared store (and queue) on PostgreSQL, as for the CLI (see the README, team mode).
    databaseUrl: process.env.CRONIUM_DATABASE_URL || undefined,
    // One secret store with the CLI and browser mode (a data key in the OS keychain, else secret.key);
    // safeStorage only opens what an older version sealed with it ("ss1:"), re-sealed just below.
    legacyDecrypt: (sealed) => new SafeStorageSecretStore(safeStorage, null).openLegacy(sealed),
    unknownHostKeys: 'ask',
    appMode: 'desktop',
    appVersion: app.getVersion(),
    runtimePort,
  });
  const resealed = await service.resealLegacySecrets();
  if (resealed) log().warn(`moved ${resealed} secret(s) from safeStorage to the shared secret store`);
  // The service logs the runtime's note (its port was taken) once.
  await service.startRuntime();
  // The app fires schedules while it is open (or waits its turn while a daemon holds the scheduler lease).
  service.startScheduler();

  const appUrl = pathToFileURL(indexFile()).toString();
  registerIpc(ipcMain, createDispatcher(service), trustedFrame(appUrl));

  window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 560,
    title: 'Cronium',
    show: false,
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: join(import.meta.dirname, 'preload.cjs') },
  });
  // Runs the CLI starts on the same data directory show up live in the window, with cancel.
  service.followOtherProcesses();
  forwardEvents(
    (listener) => service!.subscribe(listener),
    (channel, event) => window && !window.isDestroyed() && window.webContents.send(channel, event),
  );
  // Jobs that ask for desktop notifications get them from here (the renderer's own are for browser mode).
  notifyFinishedRuns(service, (notice) => {
    if (Notification.isSupported()) new Notification(notice).show();
  });
  // Keep-running scripts a closed app (or a killed CLI) left on their hosts are followed again.
  const reattached = await service.reattachDetached();
  if (reattached.length) log().info(`following ${reattached.length} detached execution(s) again`);
  window.once('ready-to-show', () => window?.show());
  window.on('close', (event) => {
    const active = service?.activeRunIds().length ?? 0;
    if (active === 0) return;
    event.preventDefault();
    void confirmClose(active, async (message) => {
      const { response } = await dialog.showMessageBox(window!, {
        type: 'warning',
        buttons: ['Cancel runs and close', 'Keep running'],
        defaultId: 1,
        cancelId: 1,
        message,
      });
      return response === 0;
    }).then(async (close) => {
      if (!close) return;
      await service?.close();
      service = null;
      window?.destroy();
    });
  });
  await window.loadFile(indexFile());
  // Only a packaged app has a release feed (resources/app-update.yml) to check; a failure there never
  // stops the app.
  if (app.isPackaged)
    startUpdates({
      shell: {
        showMessageBox: (options) =>
          window && !window.isDestroyed()
            ? dialog.showMessageBox(window, options)
            : dialog.showMessageBox(options),
        setMenu: (template: MenuItemLike[]) =>
          Menu.setApplicationMenu(Menu.buildFromTemplate(template as Electron.MenuItemConstructorOptions[])),
        loadUpdater: async () => autoUpdaterOf(await import('electron-updater')),
      },
      settingsFile: join(dataDir, 'updates.json'),
      currentVersion: app.getVersion(),
      log: { info: (m) => log().info(m), warn: (m) => log().warn(m) },
    }).catch((err: unknown) => log().warn({ err }, 'updates could not start'));
}

app.on('second-instance', () => {
  if (window?.isMinimized()) window.restore();
  window?.focus();
});
app.on('window-all-closed', () => app.quit());
// Quitting waits for the service to close (runs cancelled, remote scripts stopped, the log flushed and the
// database closed); only then does the process exit.
let closing: Promise<void> | null = null;
app.on('before-quit', (event) => {
  event.preventDefault();
  closing ??= (async () => {
    try {
      await service?.close();
    } catch (err) {
      log().error({ err }, 'closing failed');
    } finally {
      service = null;
      closeLogger();
      app.exit(0);
    }
  })();
});
app
  .whenReady()
  .then(start)
  .catch((err: unknown) => {
    dialog.showErrorBox('Cronium could not start', err instanceof Error ? err.message : String(err));
    app.quit();
  });
