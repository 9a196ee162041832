/**
 * Issue 9 case 6: the wiring of electron/main.ts itself, run against small fakes of the electron module
 * (the binary cannot run here) and the real core: permission requests denied, every webContents guarded
 * (navigation, new windows, <webview>), an untrusted IPC sender refused as forbidden_sender, quit waiting
 * for the service to close, CRONIUM_RUNTIME_PORT checked by the port rule. Also the Linux safeStorage
 * backend check and the packaging fuses hook (on a file carrying a fuse wire).
 */
import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { tempDir } from './support/fixtures.ts';

interface FakeEvent {
  preventDefault: ReturnType<typeof vi.fn>;
}

// Plain module state: the mock factory below runs only when main.ts is imported (dynamically, in a test).
const fakes = (() => {
  const Emitter = EventEmitter;
  class FakeWebContents extends Emitter {
    openHandler: ((d: { url: string }) => { action: string }) | null = null;
    sent: unknown[] = [];
    setWindowOpenHandler(h: (d: { url: string }) => { action: string }) {
      this.openHandler = h;
    }
    send(channel: string, payload: unknown) {
      this.sent.push([channel, payload]);
    }
  }
  const state = {
    app: new Emitter() as InstanceType<typeof Emitter> & Record<string, unknown>,
    windows: [] as unknown[],
    loaded: null as null | { promise: Promise<void>; resolve: () => void },
    handlers: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
    permissionRequest: null as null | ((c: unknown, p: string, cb: (granted: boolean) => void) => void),
    permissionCheck: null as null | ((c: unknown, p: string) => boolean),
    errorBox: [] as [string, string][],
    FakeWebContents,
  };
  const reset = () => {
    const app = new Emitter() as InstanceType<typeof Emitter> & Record<string, unknown>;
    let resolveLoaded!: () => void;
    state.loaded = { promise: new Promise<void>((r) => (resolveLoaded = r)), resolve: () => resolveLoaded() };
    Object.assign(app, {
      setName: () => {},
      requestSingleInstanceLock: () => true,
      quit: vi.fn(),
      exit: vi.fn(),
      whenReady: () => Promise.resolve(),
      getPath: () => process.env.CRONIUM_DATA_DIR,
      getVersion: () => '0.0.0-test',
      getAppPath: () => '/opt/cronium/resources/app.asar',
    });
    state.app = app;
    state.windows = [];
    state.handlers.clear();
    state.permissionRequest = null;
    state.permissionCheck = null;
    state.errorBox = [];
  };
  return { state, reset };
})();
declare global {
  var __croniumElectronFakes: unknown;
}
globalThis.__croniumElectronFakes = fakes;

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  const { state } = globalThis.__croniumElectronFakes as typeof fakes;
  class BrowserWindow extends EventEmitter {
    webContents = new state.FakeWebContents();
    readonly options: unknown;
    constructor(options: unknown) {
      super();
      this.options = options;
      state.windows.push(this);
      // As Electron does: a new webContents is announced before anything loads in it.
      state.app.emit('web-contents-created', {}, this.webContents);
    }
    loadFile() {
      state.loaded!.resolve();
      return Promise.resolve();
    }
    show() {}
    isDestroyed() {
      return false;
    }
    destroy() {}
    isMinimized() {
      return false;
    }
    restore() {}
    focus() {}
  }
  const proxyApp = new Proxy(
    {},
    {
      get: (_t, prop) => {
        const value = (state.app as unknown as Record<string | symbol, unknown>)[prop];
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(state.app) : value;
      },
    },
  );
  return {
    app: proxyApp,
    BrowserWindow,
    dialog: {
      showErrorBox: (title: string, message: string) => state.errorBox.push([title, message]),
      showMessageBox: async () => ({ response: 0 }),
    },
    ipcMain: {
      handle: (channel: string, fn: (event: unknown, ...args: unknown[]) => unknown) =>
        state.handlers.set(channel, fn),
      removeHandler: (channel: string) => state.handlers.delete(channel),
    },
    safeStorage: {
      isEncryptionAvailable: () => true,
      encryptString: (s: string) => Buffer.from(s),
      decryptString: (b: Buffer) => b.toString(),
      getSelectedStorageBackend: () => 'gnome_libsecret',
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: typeof state.permissionRequest) => (state.permissionRequest = h),
        setPermissionCheckHandler: (h: typeof state.permissionCheck) => (state.permissionCheck = h),
      },
    },
    shell: { openExternal: vi.fn(async () => {}) },
  };
});

const APP_URL = 'file:///opt/cronium/resources/app.asar/dist/renderer/index.html';
const dir = tempDir('cronium-electron-main-');
afterAll(async () => dir.remove());

async function loadMain(runtimePort: string) {
  vi.resetModules();
  fakes.reset();
  process.env.CRONIUM_DATA_DIR = dir.path;
  process.env.CRONIUM_RUNTIME_PORT = runtimePort;
  await import('../electron/main.ts');
}

describe('electron/main.ts wiring (fake electron, real core)', () => {
  beforeEach(async () => {
    delete process.env.CRONIUM_RUNTIME_PORT;
  });

  it('refuses a CRONIUM_RUNTIME_PORT that is not a decimal port, says so, and quits', async () => {
    for (const bad of ['1e3', '0x16', '70000']) {
      await loadMain(bad);
      await vi.waitFor(() => expect(fakes.state.errorBox.length).toBe(1));
      expect(fakes.state.errorBox[0]![1]).toMatch(
        /CRONIUM_RUNTIME_PORT: port (is a whole number in decimal digits, 0|must be 0) \(any free port\) to 65535/,
      );
      expect(fakes.state.app.quit).toHaveBeenCalled();
      expect(fakes.state.windows).toHaveLength(0);
    }
  });

  it('opens the store CRONIUM_DATABASE_URL names (team mode): without the team key it says so and quits', async () => {
    process.env.CRONIUM_DATABASE_URL = 'postgres://cronium@127.0.0.1:1/team';
    const key = process.env.CRONIUM_TEAM_KEY;
    delete process.env.CRONIUM_TEAM_KEY;
    try {
      await loadMain('0');
      await vi.waitFor(() => expect(fakes.state.errorBox.length).toBe(1), { timeout: 10_000 });
      expect(fakes.state.errorBox[0]![1]).toMatch(/team key/);
      expect(fakes.state.app.quit).toHaveBeenCalled();
      expect(fakes.state.windows).toHaveLength(0);
      // The quit the app asked for: its log file closed before the data directory goes.
      fakes.state.app.emit('before-quit', { preventDefault: vi.fn() });
      await vi.waitFor(() => expect(fakes.state.app.exit).toHaveBeenCalledWith(0));
    } finally {
      delete process.env.CRONIUM_DATABASE_URL;
      if (key !== undefined) process.env.CRONIUM_TEAM_KEY = key;
    }
  });

  it('denies permissions, guards every webContents, refuses untrusted IPC, and quits only after close', async () => {
    await loadMain('0');
    await fakes.state.loaded!.promise;
    const { state } = fakes;

    // Permissions: requests and checks are denied, whatever the permission.
    for (const permission of ['media', 'notifications', 'clipboard-read', 'geolocation']) {
      const callback = vi.fn();
      state.permissionRequest!({}, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
      expect(state.permissionCheck!({}, permission)).toBe(false);
    }

    // The window's own contents and any other created later are guarded.
    const windowContents = (state.windows[0] as { webContents: InstanceType<typeof state.FakeWebContents> })
      .webContents;
    const later = new state.FakeWebContents();
    state.app.emit('web-contents-created', {}, later);
    for (const contents of [windowContents, later]) {
      const away: FakeEvent = { preventDefault: vi.fn() };
      contents.emit('will-navigate', away, 'https://evil.example/');
      expect(away.preventDefault).toHaveBeenCalled();
      const home: FakeEvent = { preventDefault: vi.fn() };
      contents.emit('will-navigate', home, APP_URL);
      expect(home.preventDefault).not.toHaveBeenCalled();
      expect(contents.openHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
      const webview: FakeEvent = { preventDefault: vi.fn() };
      contents.emit('will-attach-webview', webview, {}, {});
      expect(webview.preventDefault).toHaveBeenCalled();
    }

    // IPC: the app's page reaches the real core; any other sender gets forbidden_sender.
    const listServers = state.handlers.get('cronium:listServers')!;
    expect(await listServers({ senderFrame: { url: APP_URL } })).toEqual({ ok: true, value: [] });
    expect(await listServers({ senderFrame: { url: 'https://evil.example/' } })).toMatchObject({
      ok: false,
      error: { kind: 'forbidden_sender' },
    });
    // The dispatcher behind it uses the same rules as the CLI.
    expect(
      await state.handlers.get('cronium:createServer')!(
        { senderFrame: { url: APP_URL } },
        { name: 'x', host: '[::1]:22', port: '0x16', username: 'u', auth: { type: 'agent' } },
      ),
    ).toMatchObject({
      ok: false,
      error: { kind: 'invalid_input', fields: { host: /port field/, port: /decimal digits, 1–65535/ } },
    });

    // Quit: prevented until the service has closed, then exit.
    const { CroniumService } = await import('../src/service/service.ts');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const original = CroniumService.prototype.close;
    const close = vi.spyOn(CroniumService.prototype, 'close').mockImplementation(async function (
      this: InstanceType<typeof CroniumService>,
    ) {
      await gate;
      return original.call(this);
    });
    const quit: FakeEvent = { preventDefault: vi.fn() };
    state.app.emit('before-quit', quit);
    state.app.emit('before-quit', { preventDefault: vi.fn() });
    expect(quit.preventDefault).toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 50));
    expect(state.app.exit).not.toHaveBeenCalled();
    release();
    await vi.waitFor(() => expect(state.app.exit).toHaveBeenCalledWith(0));
    expect(close).toHaveBeenCalledTimes(1);
    close.mockRestore();
  });
});

describe('packaging: Electron fuses (build/afterPack.mjs)', () => {
  // A file laid out as @electron/fuses finds the wire in an Electron binary: sentinel, version, length,
  // then one byte per fuse ('0' off, '1' on), as Electron ships them.
  const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
  const shipped = '10101000'; // RunAsNode on, cookie encryption off, NODE_OPTIONS on, inspect on, …
  const fakeBinary = (path: string) =>
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('\x7fELF...'),
        Buffer.from(SENTINEL),
        Buffer.from([1, shipped.length]),
        Buffer.from(shipped),
        Buffer.from('...'),
      ]),
    );

  it.each(['linux', 'win32'])(
    'on %s: keeps RunAsNode for the CLI, turns off NODE_OPTIONS and --inspect',
    async (platform) => {
      const { default: afterPack } = await import('../build/afterPack.mjs');
      const out = tempDir('cronium-fuses-');
      const exe = platform === 'win32' ? 'Cronium Desktop.exe' : 'cronium-desktop';
      fakeBinary(join(out.path, exe));
      await afterPack({
        appOutDir: out.path,
        electronPlatformName: platform,
        packager: {
          executableName: 'cronium-desktop',
          appInfo: { productFilename: 'Cronium Desktop' },
          config: {},
        },
      });
      const bytes = readFileSync(join(out.path, exe));
      const at = bytes.indexOf(SENTINEL) + SENTINEL.length + 2;
      const wire = bytes.subarray(at, at + shipped.length).toString();
      // RunAsNode, CookieEncryption, NodeOptions, CliInspect, AsarIntegrity, OnlyLoadFromAsar, V8 snapshot, file://
      expect(wire).toBe('11000100');
      out.remove();
    },
  );

  it('refuses a binary without a fuse wire, unless the build was given a local stand-in Electron', async () => {
    const { default: afterPack } = await import('../build/afterPack.mjs');
    const out = tempDir('cronium-fuses-');
    writeFileSync(join(out.path, 'cronium-desktop'), '#!/bin/sh\n');
    const context = (config: object) => ({
      appOutDir: out.path,
      electronPlatformName: 'linux',
      packager: {
        executableName: 'cronium-desktop',
        appInfo: { productFilename: 'Cronium Desktop' },
        config,
      },
    });
    await expect(afterPack(context({}))).rejects.toThrow(/no Electron fuse wire/);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await expect(afterPack(context({ electronDist: '/tmp/stand-in' }))).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/fuses not set/));
    warn.mockRestore();
    out.remove();
  });
});
