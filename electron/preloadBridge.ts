import type { CoreEvent, PreloadBridge } from '../src/contract.ts';
import { METHOD_NAMES } from '../src/methodNames.ts';
import { channelOf, EVENT_CHANNEL } from './ipc.ts';

/** The parts of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): void;
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): void;
}

/**
 * What the renderer gets as window.cronium: a named verb per method of the contract, and a subscription
 * to core events that returns its disposer. Nothing else of Electron or Node crosses the bridge.
 */
export function buildBridge(ipc: IpcRendererLike): PreloadBridge {
  const api = Object.fromEntries(
    METHOD_NAMES.map((method) => [method, (...args: unknown[]) => ipc.invoke(channelOf(method), ...args)]),
  ) as PreloadBridge['api'];
  return {
    api,
    onEvent(listener: (event: CoreEvent) => void): () => void {
      const handler = (_event: unknown, payload: unknown) => listener(payload as CoreEvent);
      ipc.on(EVENT_CHANNEL, handler);
      return () => ipc.removeListener(EVENT_CHANNEL, handler);
    },
  };
}
