/**
 * Issue 11 part 9: electron/main.ts wires updates in the packaged app only — against small fakes of the
 * electron module and of electron-updater's autoUpdater, with the real core: the Help menu with the
 * setting, a check once the window is up, the offer shown over the window, the setting kept in the data
 * directory, and an updater that fails to load leaving the app running.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

import type { MenuItemLike, UpdaterLike } from '../electron/updater.ts';
import { tempDir } from './support/fixtures.ts';

interface Fakes {
  packaged: boolean;
  loaded: Promise<void>;
  markLoaded: () => void;
  menus: MenuItemLike[][];
  boxes: { parent: unknown; options: { message: string; checkboxLabel?: string } }[];
  answers: { response: number; checkboxChecked?: boolean }[];
  errorBox: string[];
  windows: unknown[];
  updater: UpdaterLike & { checks: number };
  updaterFails: boolean;
  exited: number;
  /** Reads of app.isPackaged, and of electron-updater's autoUpdater. */
  packagedReads: number;
  updaterLoads: number;
}
declare global {
  var __croniumUpdateFakes: Fakes;
}

function freshFakes(packaged: boolean, updaterFails = false): Fakes {
  let markLoaded!: () => void;
  const loaded = new Promise<void>((r) => (markLoaded = r));
  const updater = {
    checks: 0,
    autoDownload: true,
    autoInstallOnAppQuit: true,
    logger: null,
    checkForUpdates: async () => {
      updater.checks++;
      return { isUpdateAvailable: true, updateInfo: { version: '2.0.0', releaseNotes: '<p>Groups</p>' } };
    },
    downloadUpdate: vi.fn(async () => []),
    quitAndInstall: vi.fn(),
  };
  return {
    packaged,
    loaded,
    markLoaded,
    menus: [],
    boxes: [],
    answers: [],
    errorBox: [],
    windows: [],
    updater,
    updaterFails,
    exited: 0,
    packagedReads: 0,
    updaterLoads: 0,
  };
}
globalThis.__croniumUpdateFakes = freshFakes(false);

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  const fakes = () => globalThis.__croniumUpdateFakes;
  const app = Object.assign(new EventEmitter(), {
    setName: () => {},
    requestSingleInstanceLock: () => true,
    quit: () => {},
    exit: () => fakes().exited++,
    whenReady: () => Promise.resolve(),
    getPath: () => process.env.CRONIUM_DATA_DIR,
    getVersion: () => '1.0.0',
    getAppPath: () => '/opt/cronium/resources/app.asar',
  });
  Object.defineProperty(app, 'isPackaged', {
    get: () => (fakes().packagedReads++, fakes().packaged),
  });
  class WebContents extends EventEmitter {
    setWindowOpenHandler() {}
    send() {}
  }
  class BrowserWindow extends EventEmitter {
    webContents = new WebContents();
    constructor() {
      super();
      fakes().windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    loadFile() {
      fakes().markLoaded();
      return Promise.resolve();
    }
    show() {}
    isDestroyed() {
      return false;
    }
  }
  return {
    app,
    BrowserWindow,
    Menu: {
      buildFromTemplate: (template: MenuItemLike[]) => template,
      setApplicationMenu: (menu: MenuItemLike[]) => fakes().menus.push(menu),
    },
    dialog: {
      showErrorBox: (_title: string, message: string) => fakes().errorBox.push(message),
      showMessageBox: async (parent: unknown, options: { message: string }) => {
        fakes().boxes.push({ parent, options });
        return fakes().answers.shift() ?? { response: 1 };
      },
    },
    ipcMain: { handle: () => {}, removeHandler: () => {} },
    safeStorage: {
      isEncryptionAvailable: () => true,
      encryptString: (s: string) => Buffer.from(s),
      decryptString: (b: Buffer) => b.toString(),
    },
    session: {
      defaultSession: { setPermissionRequestHandler: () => {}, setPermissionCheckHandler: () => {} },
    },
    shell: { openExternal: async () => {} },
  };
});

vi.mock('electron-updater', () => ({
  get autoUpdater() {
    globalThis.__croniumUpdateFakes.updaterLoads++;
    if (globalThis.__croniumUpdateFakes.updaterFails) throw new Error('no app-update.yml in resources');
    return globalThis.__croniumUpdateFakes.updater;
  },
}));

const dirs: { path: string; remove: () => void }[] = [];
afterAll(async () => dirs.forEach((d) => d.remove()));
// Quitting closes the core main.ts started (runs, runtime, database) before the next test loads another.
afterEach(async () => {
  const fakes = globalThis.__croniumUpdateFakes;
  const { app } = (await import('electron')) as unknown as { app: EventEmitter };
  app.emit('before-quit', { preventDefault: () => {} });
  await vi.waitFor(() => expect(fakes.exited).toBeGreaterThan(0));
});

/** Loads main.ts afresh on a data directory of its own; resolves once the window has loaded. */
async function loadMain(fakes: Fakes): Promise<{ dataDir: string }> {
  const dir = tempDir('cronium-main-updates-');
  dirs.push(dir);
  vi.resetModules();
  globalThis.__croniumUpdateFakes = fakes;
  process.env.CRONIUM_DATA_DIR = dir.path;
  process.env.CRONIUM_RUNTIME_PORT = '0';
  await import('../electron/main.ts');
  await fakes.loaded;
  return { dataDir: dir.path };
}

describe('electron/main.ts: updates in the packaged app (fake electron and updater, real core)', () => {
  it('checks once the window is up, asks over the window, keeps the setting in the data directory', async () => {
    const fakes = freshFakes(true);
    fakes.answers.push({ response: 1, checkboxChecked: true });
    const { dataDir } = await loadMain(fakes);
    await vi.waitFor(() => expect(fakes.boxes).toHaveLength(1));
    expect(fakes.updater.checks).toBe(1);
    expect(fakes.updater.autoDownload).toBe(false);
    expect(fakes.boxes[0]!.parent).toBe(fakes.windows[0]);
    expect(fakes.boxes[0]!.options).toMatchObject({
      message: 'Cronium 2.0.0 is available (you have 1.0.0).',
      checkboxLabel: "Don't check for updates automatically",
    });
    expect(fakes.updater.downloadUpdate).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(existsSync(join(dataDir, 'updates.json'))).toBe(true));
    expect(JSON.parse(readFileSync(join(dataDir, 'updates.json'), 'utf8'))).toEqual({
      checkAutomatically: false,
    });
    const help = fakes.menus.at(-1)!.find((m) => m.role === 'help')!;
    expect(help.submenu!.map((m) => [m.label, m.checked])).toEqual([
      ['Check for Updates…', undefined],
      ['Check for Updates Automatically', false],
    ]);
    expect(fakes.errorBox).toEqual([]);
  });

  it('does not check when not packaged (a source checkout has no feed)', async () => {
    const fakes = freshFakes(false);
    await loadMain(fakes);
    // main.ts has asked whether it is packaged (after the window loaded); give a stray check a turn.
    await vi.waitFor(() => expect(fakes.packagedReads).toBeGreaterThan(0));
    await new Promise((r) => setImmediate(r));
    expect(fakes.updaterLoads).toBe(0);
    expect(fakes.updater.checks).toBe(0);
    expect(fakes.menus).toEqual([]);
  });

  it('keeps running when the updater cannot load', async () => {
    const fakes = freshFakes(true, true);
    await loadMain(fakes);
    await vi.waitFor(() => expect(fakes.updaterLoads).toBe(1));
    await new Promise((r) => setImmediate(r));
    expect(fakes.errorBox).toEqual([]);
    expect(fakes.boxes).toEqual([]);
    expect(fakes.windows).toHaveLength(1);
  });
});
