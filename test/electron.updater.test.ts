/**
 * Issue 11 part 9: updates of the packaged app. The real electron-updater (its Linux AppImage updater, as
 * the packaged app gets it) checks a local update feed — an HTTP server on 127.0.0.1 serving
 * latest-linux.yml and the AppImage, named by resources/app-update.yml as electron-builder writes it —
 * with Electron faked at its edge (app, net.request over node:http). Asserted: what is new is shown,
 * nothing is downloaded until the person agrees, the install happens only after they agree, the setting
 * turns the check off and stays off, and the publish configuration is the release workflow's feed.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  autoUpdaterOf,
  startUpdates,
  UpdateSettings,
  whatIsNew,
  type MenuItemLike,
  type ShowMessageBox,
  type UpdaterLike,
} from '../electron/updater.ts';
import { tempDir } from './support/fixtures.ts';

const NEW_VERSION = '9.9.9';
const APPIMAGE = Buffer.from('#!/bin/sh\necho new cronium\n'.repeat(2000));
const NOTES = "<h2>What's new</h2><ul><li>Output groups</li><li>Fixes &amp; speed</li></ul>";

describe('updates against a local feed (real electron-updater, Electron faked)', () => {
  const dir = tempDir('cronium-updater-');
  const requests: string[] = [];
  let feed: Server;
  let feedVersion = NEW_VERSION;
  const saved = {
    resourcesPath: (process as { resourcesPath?: string }).resourcesPath,
    APPIMAGE: process.env.APPIMAGE,
    XDG_CACHE_HOME: process.env.XDG_CACHE_HOME,
  };
  const fakeApp = Object.assign(new EventEmitter(), {
    isPackaged: true,
    getVersion: () => '0.1.0',
    getName: () => 'Cronium',
    getAppPath: () => join(dir.path, 'app'),
    getPath: () => join(dir.path, 'userData'),
    whenReady: () => Promise.resolve(),
    quit: vi.fn(),
    relaunch: vi.fn(),
  });

  beforeAll(async () => {
    const sha512 = createHash('sha512').update(APPIMAGE).digest('base64');
    feed = createServer((req, res) => {
      requests.push(req.url!.replace(/\?.*/, ''));
      if (req.url!.startsWith('/latest-linux.yml')) {
        res.setHeader('content-type', 'text/yaml');
        res.end(
          [
            `version: ${feedVersion}`,
            'files:',
            `  - url: Cronium-Desktop-${NEW_VERSION}.AppImage`,
            `    sha512: ${sha512}`,
            `    size: ${APPIMAGE.length}`,
            `path: Cronium-Desktop-${NEW_VERSION}.AppImage`,
            `sha512: ${sha512}`,
            "releaseDate: '2026-11-29T12:00:00.000Z'",
            `releaseName: Cronium ${NEW_VERSION}`,
            `releaseNotes: ${JSON.stringify(NOTES)}`,
            '',
          ].join('\n'),
        );
      } else if (req.url === `/Cronium-Desktop-${NEW_VERSION}.AppImage`) {
        res.setHeader('content-length', APPIMAGE.length);
        res.end(APPIMAGE);
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => feed.listen(0, '127.0.0.1', resolve));
    const { port } = feed.address() as AddressInfo;

    // The packaged app's resources: app-update.yml as electron-builder writes it, here for a generic feed.
    const resources = join(dir.path, 'resources');
    mkdirSync(resources, { recursive: true });
    writeFileSync(
      join(resources, 'app-update.yml'),
      `provider: generic\nurl: http://127.0.0.1:${port}/\nupdaterCacheDirName: cronium-desktop-updater\n`,
    );
    (process as { resourcesPath?: string }).resourcesPath = resources;
    // The running AppImage (electron-updater replaces it on install) and the download cache.
    writeFileSync(join(dir.path, 'Cronium-Desktop-0.1.0.AppImage'), 'old');
    process.env.APPIMAGE = join(dir.path, 'Cronium-Desktop-0.1.0.AppImage');
    process.env.XDG_CACHE_HOME = join(dir.path, 'cache');

    // Electron at electron-updater's edge: its app, and net.request as plain node:http.
    const fakeElectron = {
      app: fakeApp,
      autoUpdater: new EventEmitter(),
      session: { fromPartition: () => ({}) },
      net: {
        request: (o: {
          protocol: string;
          hostname: string;
          port: number;
          path: string;
          method?: string;
          headers?: Record<string, string>;
        }) =>
          httpRequest({
            agent: false,
            protocol: o.protocol,
            hostname: o.hostname,
            port: o.port,
            path: o.path,
            method: o.method,
            headers: o.headers,
          }),
      },
    };
    const req = createRequire(createRequire(import.meta.url).resolve('electron-updater'));
    const id = req.resolve('electron');
    req.cache[id] = { id, filename: id, loaded: true, exports: fakeElectron } as unknown as NodeJS.Module;
  });
  afterAll(async () => {
    await new Promise((r) => feed.close(r));
    (process as { resourcesPath?: string }).resourcesPath = saved.resourcesPath;
    for (const key of ['APPIMAGE', 'XDG_CACHE_HOME'] as const)
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    dir.remove();
  });
  beforeEach(async () => {
    requests.length = 0;
    feedVersion = NEW_VERSION;
  });

  /** The app's wiring with scripted answers to each message box; records what was asked. */
  async function start(answers: { response: number; checkboxChecked?: boolean }[], settingsFile: string) {
    const asked: Parameters<ShowMessageBox>[0][] = [];
    const menus: MenuItemLike[][] = [];
    const updater = autoUpdaterOf(await import('electron-updater'));
    // Installing would replace this process's AppImage and quit: recorded instead.
    const install = vi.spyOn(updater, 'quitAndInstall').mockImplementation(() => {});
    install.mockClear();
    const started = await startUpdates({
      shell: {
        showMessageBox: async (options) => {
          asked.push(options);
          return answers.shift() ?? { response: 1 };
        },
        setMenu: (template) => menus.push(template),
        loadUpdater: () => Promise.resolve(updater),
      },
      settingsFile,
      currentVersion: '0.1.0',
      log: { info: () => {}, warn: () => {} },
    });
    started.stop();
    return { ...started, asked, menus, install, updater };
  }
  const setting = (menu: MenuItemLike[]) =>
    menu.find((m) => m.role === 'help')!.submenu!.find((m) => m.type === 'checkbox')!;

  it('says what is new and downloads nothing when the person says not now', async () => {
    const { first, asked, install, updater } = await start([{ response: 1 }], join(dir.path, 'a.json'));
    expect(await first).toBe('declined');
    expect(updater.autoDownload).toBe(false);
    expect(updater.autoInstallOnAppQuit).toBe(false);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({
      message: 'Cronium 9.9.9 is available (you have 0.1.0).',
      buttons: ['Download and install', 'Not now'],
    });
    expect(asked[0]!.detail).toBe("What's new:\n\nWhat's new\n• Output groups\n• Fixes & speed");
    expect(requests).toEqual(['/latest-linux.yml']);
    expect(install).not.toHaveBeenCalled();
  });

  it('downloads (checksum verified) and installs only once the person agrees', async () => {
    const { first, asked, install, updater } = await start(
      [{ response: 0 }, { response: 0 }],
      join(dir.path, 'b.json'),
    );
    const downloaded = new Promise<string>((resolve) =>
      (updater as unknown as EventEmitter).once('update-downloaded', (e: { downloadedFile: string }) =>
        resolve(e.downloadedFile),
      ),
    );
    expect(await first).toBe('installing');
    expect(requests).toEqual(['/latest-linux.yml', `/Cronium-Desktop-${NEW_VERSION}.AppImage`]);
    expect(readFileSync(await downloaded)).toEqual(APPIMAGE);
    expect(asked.map((a) => a.title)).toEqual(['Update available', 'Update ready']);
    expect(install).toHaveBeenCalledExactlyOnceWith(false, true);
  });

  it('installs on quit when the person agrees but says "When I quit"', async () => {
    const { first, install, updater } = await start(
      [{ response: 0 }, { response: 1 }],
      join(dir.path, 'c.json'),
    );
    expect(await first).toBe('on-quit');
    expect(install).not.toHaveBeenCalled();
    expect(updater.autoInstallOnAppQuit).toBe(true);
  });

  it('asks nothing when the feed has no newer version; a manual check says so', async () => {
    feedVersion = '0.1.0';
    const { first, asked, updates } = await start([], join(dir.path, 'd.json'));
    expect(await first).toBe('none');
    expect(asked).toEqual([]);
    expect(await updates.check({ manual: true })).toBe('none');
    expect(asked.map((a) => a.message)).toEqual(['Cronium 0.1.0 is the newest version.']);
  });

  it('turns the check off from the dialog and from the menu; the setting is kept across starts', async () => {
    const file = join(dir.path, 'settings', 'updates.json');
    const one = await start([{ response: 1, checkboxChecked: true }], file);
    expect(await one.first).toBe('declined');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ checkAutomatically: false });
    // The menu was rebuilt to show the setting off.
    expect(setting(one.menus.at(-1)!).checked).toBe(false);

    requests.length = 0;
    const two = await start([], file);
    expect(await two.first).toBe('off');
    expect(requests).toEqual([]);
    expect(setting(two.menus[0]!)).toMatchObject({
      label: 'Check for Updates Automatically',
      checked: false,
    });
    // The person can still ask; and turn it back on from the menu.
    setting(two.menus[0]!).click!({ checked: true });
    expect(new UpdateSettings(file).checkAutomatically).toBe(true);
    const three = await start([{ response: 1 }], file);
    expect(await three.first).toBe('declined');
  });

  it('a failed check goes to the log only, unless the person asked', async () => {
    const warnings: string[] = [];
    const updater: UpdaterLike = {
      autoDownload: true,
      autoInstallOnAppQuit: true,
      logger: null,
      checkForUpdates: () => Promise.reject(new Error('net::ERR_NAME_NOT_RESOLVED')),
      downloadUpdate: vi.fn(),
      quitAndInstall: vi.fn(),
    };
    const asked: string[] = [];
    const { first, updates } = await startUpdates({
      shell: {
        showMessageBox: async (o) => (asked.push(o.message), { response: 0 }),
        setMenu: () => {},
        loadUpdater: () => Promise.resolve(updater),
      },
      settingsFile: join(dir.path, 'e.json'),
      currentVersion: '0.1.0',
      log: { info: () => {}, warn: (m) => warnings.push(m) },
    });
    expect(await first).toBe('failed');
    expect(asked).toEqual([]);
    expect(warnings).toEqual(['could not check for updates: net::ERR_NAME_NOT_RESOLVED']);
    expect(await updates.check({ manual: true })).toBe('failed');
    expect(asked).toEqual(['Cronium could not check for updates: net::ERR_NAME_NOT_RESOLVED.']);
    expect(updater.downloadUpdate).not.toHaveBeenCalled();
  });
});

describe('the release feed and the notes', () => {
  it('publishes to the GitHub releases the app checks (electron-builder.yml, release workflow)', async () => {
    const yml = readFileSync('electron-builder.yml', 'utf8');
    const publish = /^publish:\n((?: {2}.*\n)+)/m.exec(yml)![1]!;
    expect(publish).toMatch(/provider: github\n/);
    const owner = /owner: (\S+)/.exec(publish)![1];
    const repo = /repo: (\S+)/.exec(publish)![1];
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      homepage: string;
      dependencies: object;
    };
    expect(pkg.homepage).toBe(`https://github.com/${owner}/${repo}`);
    expect(pkg.dependencies).toHaveProperty('electron-updater');
    expect(readFileSync('.github/workflows/release.yml', 'utf8')).toMatch(
      /electron-builder .*--publish always/,
    );
    expect(existsSync('electron/updater.ts')).toBe(true);
  });

  it('turns release notes into text', async () => {
    expect(whatIsNew({ version: '1.0.0', releaseNotes: '<p>One &lt;two&gt;</p><p>Three<br>four</p>' })).toBe(
      'One <two>\nThree\nfour',
    );
    expect(
      whatIsNew({
        version: '1.0.0',
        releaseNotes: [
          { version: '1.0.0', note: 'b' },
          { version: '0.9.0', note: null },
        ],
      }),
    ).toBe('1.0.0: b\n0.9.0:');
    expect(whatIsNew({ version: '1.0.0', releaseName: 'Big one' })).toBe('Big one (no release notes).');
    expect(whatIsNew({ version: '1.0.0', releaseNotes: 'x'.repeat(5000) })).toHaveLength(1500);
  });
});
