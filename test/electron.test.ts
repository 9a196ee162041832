/**
 * The Electron layer cannot run here (no binary), so its wiring is tested with small fakes of the
 * Electron interfaces it uses; the code under test is the real adapter code the app ships.
 */
import { describe, expect, it, vi } from 'vitest';

import {
  channelOf,
  EVENT_CHANNEL,
  forwardEvents,
  registerIpc,
  trustedFrame,
  type IpcEventLike,
} from '../electron/ipc.ts';
import { buildBridge } from '../electron/preloadBridge.ts';
import { SafeStorageSecretStore, type SafeStorageLike } from '../electron/safeStorageSecretStore.ts';
import { confirmClose, hardenWebContents, SECURE_WEB_PREFERENCES } from '../electron/windowSecurity.ts';
import { createDispatcher } from '../src/api/dispatcher.ts';
import type { CoreEvent, CroniumApi } from '../src/contract.ts';
import { CroniumError } from '../src/core/errors.ts';
import { METHOD_NAMES } from '../src/methodNames.ts';
import { KeyFileSecretStore } from '../src/secrets/secretStore.ts';
import { tempDir } from './support/fixtures.ts';

const APP_URL = 'file:///opt/Cronium/resources/app.asar/dist/renderer/index.html';

function fakeApi(): CroniumApi {
  return {
    listServers: vi.fn(() => [{ id: 's1', name: 'web1' }]),
    getServer: vi.fn((ref: string) => {
      throw new CroniumError('not_found', `No server named "${ref}".`);
    }),
    removeServer: vi.fn(),
  } as unknown as CroniumApi;
}

class FakeIpcMain {
  handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown) {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  }
}

describe('dispatcher (the process boundary)', () => {
  const dispatch = createDispatcher(fakeApi());

  it('calls a method of the contract and wraps the answer', async () => {
    expect(await dispatch('listServers', [])).toEqual({ ok: true, value: [{ id: 's1', name: 'web1' }] });
  });

  it('keeps error kinds and plain messages, never stack traces', async () => {
    const result = await dispatch('getServer', ['ghost']);
    expect(result).toEqual({ ok: false, error: { kind: 'not_found', message: 'No server named "ghost".' } });
  });

  it('refuses unknown methods and badly shaped arguments before calling anything', async () => {
    const api = fakeApi();
    const guarded = createDispatcher(api);
    expect(await guarded('constructor', [])).toMatchObject({ ok: false, error: { kind: 'invalid_input' } });
    expect(await guarded('__proto__', [])).toMatchObject({ ok: false });
    expect(await guarded('removeServer', [42])).toMatchObject({
      ok: false,
      error: { kind: 'invalid_input' },
    });
    expect(await guarded('removeServer', ['a', 'extra'])).toMatchObject({ ok: false });
    expect(api.removeServer).not.toHaveBeenCalled();
  });
});

describe('IPC adapter', () => {
  it('registers one handler per method of the contract, and only answers the app’s own page', async () => {
    const ipcMain = new FakeIpcMain();
    const dispose = registerIpc(ipcMain, createDispatcher(fakeApi()), trustedFrame(APP_URL));
    expect([...ipcMain.handlers.keys()].sort()).toEqual(METHOD_NAMES.map(channelOf).sort());
    const handler = ipcMain.handlers.get('cronium:listServers')!;
    expect(await handler({ senderFrame: { url: APP_URL } })).toMatchObject({ ok: true });
    for (const url of ['https://evil.example/index.html', 'file:///tmp/other.html', '']) {
      expect(await handler({ senderFrame: { url } })).toMatchObject({
        ok: false,
        error: { message: /did not come from the Cronium window/ },
      });
    }
    expect(await handler({ senderFrame: null })).toMatchObject({ ok: false });
    dispose();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('forwards core events to the window on one channel', async () => {
    let emit: (e: CoreEvent) => void = () => {};
    const sent: [string, CoreEvent][] = [];
    const off = forwardEvents(
      (listener) => {
        emit = listener;
        return () => (emit = () => {});
      },
      (channel, event) => sent.push([channel, event]),
    );
    const event = {
      type: 'log',
      chunk: { executionId: 'e', seq: 0, stream: 'stdout', ts: 1, text: 'hi\n' },
    } as CoreEvent;
    emit(event);
    off();
    emit(event);
    expect(sent).toEqual([[EVENT_CHANNEL, event]]);
  });
});

describe('preload bridge', () => {
  it('exposes a named verb per method and an event subscription with a disposer — nothing generic', async () => {
    const calls: unknown[][] = [];
    const listeners = new Map<string, (e: unknown, p: unknown) => void>();
    const bridge = buildBridge({
      invoke: async (channel, ...args) => {
        calls.push([channel, ...args]);
        return { ok: true, value: null };
      },
      on: (channel, l) => listeners.set(channel, l),
      removeListener: (channel) => listeners.delete(channel),
    });
    expect(Object.keys(bridge.api).sort()).toEqual([...METHOD_NAMES].sort());
    expect(Object.keys(bridge)).toEqual(['api', 'onEvent']);
    await (bridge.api.trustHostKey as (...a: unknown[]) => Promise<unknown>)('web1', 'SHA256:x');
    expect(calls).toEqual([['cronium:trustHostKey', 'web1', 'SHA256:x']]);
    const seen: unknown[] = [];
    const off = bridge.onEvent((e) => seen.push(e));
    listeners.get(EVENT_CHANNEL)!({}, { type: 'run' });
    off();
    expect(listeners.has(EVENT_CHANNEL)).toBe(false);
    expect(seen).toEqual([{ type: 'run' }]);
  });
});

describe('window hardening', () => {
  it('isolates and sandboxes the renderer with no Node', async () => {
    expect(SECURE_WEB_PREFERENCES).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
  });

  it('blocks navigation away from the app, denies new windows, and opens web links in the OS browser', () => {
    const handlers: Record<string, (e: { preventDefault(): void }, url: string) => void> = {};
    let openHandler: (d: { url: string }) => { action: 'deny' } = () => ({ action: 'deny' });
    const opened: string[] = [];
    hardenWebContents(
      { on: (name, l) => (handlers[name] = l), setWindowOpenHandler: (h) => (openHandler = h) },
      { openExternal: async (url) => void opened.push(url) },
      APP_URL,
    );
    const prevent = vi.fn();
    handlers['will-navigate']!({ preventDefault: prevent }, 'https://evil.example/');
    expect(prevent).toHaveBeenCalledTimes(1);
    handlers['will-navigate']!({ preventDefault: prevent }, APP_URL);
    expect(prevent).toHaveBeenCalledTimes(1);
    expect(openHandler({ url: 'https://docs.example/help' })).toEqual({ action: 'deny' });
    expect(openHandler({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://docs.example/help']);
  });

  it('asks before closing while runs are going', async () => {
    const ask = vi.fn(async (_message: string) => false);
    expect(await confirmClose(0, ask)).toBe(true);
    expect(ask).not.toHaveBeenCalled();
    expect(await confirmClose(2, ask)).toBe(false);
    expect(ask.mock.calls[0]![0]).toMatch(/2 runs are still going/);
  });
});

describe('safeStorage secret store', () => {
  const fake = (available: boolean): SafeStorageLike => ({
    isEncryptionAvailable: () => available,
    encryptString: (plain) => Buffer.from(`sealed(${plain})`),
    decryptString: (sealed) => sealed.toString().replace(/^sealed\((.*)\)$/, '$1'),
  });

  it('seals through the OS keychain with its own format prefix', async () => {
    const store = new SafeStorageSecretStore(fake(true), null);
    const sealed = await store.encrypt('hunter2');
    expect(sealed.startsWith('ss1:')).toBe(true);
    expect(sealed).not.toContain('hunter2');
    expect(await store.decrypt(sealed)).toBe('hunter2');
  });

  it('refuses to store a secret when the keychain is unavailable', async () => {
    await expect(new SafeStorageSecretStore(fake(false), null).encrypt('x')).rejects.toThrow(
      /keychain is not available/,
    );
  });

  it('still reads what the headless CLI sealed', async () => {
    const dir = tempDir();
    const cli = new KeyFileSecretStore(dir.path);
    const store = new SafeStorageSecretStore(fake(true), cli);
    expect(await store.decrypt(await cli.encrypt('from the cli'))).toBe('from the cli');
    dir.remove();
  });
});
