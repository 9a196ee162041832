/**
 * The IPC adapter: one handler per method of the contract (never a generic channel), each checking that
 * the call comes from the app's own window, and one channel pushing core events to the window.
 */
import type { Dispatch } from '../src/api/dispatcher.ts';
import type { CoreEvent } from '../src/contract.ts';
import { METHOD_NAMES } from '../src/methodNames.ts';

export const EVENT_CHANNEL = 'cronium:event';
export const channelOf = (method: string) => `cronium:${method}`;

/** The parts of Electron's ipcMain and its events this adapter uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}
export interface IpcEventLike {
  senderFrame: { url: string } | null;
}

/**
 * Registers the handlers. A call whose sender is not trusted gets `{ ok: false, error: { kind:
 * 'forbidden_sender' } }` and never reaches the dispatcher.
 */
export function registerIpc(
  ipcMain: IpcMainLike,
  dispatch: Dispatch,
  isTrusted: (event: IpcEventLike) => boolean,
): () => void {
  for (const method of METHOD_NAMES) {
    ipcMain.handle(channelOf(method), (event, ...args) => {
      if (!isTrusted(event))
        return {
          ok: false,
          error: {
            kind: 'forbidden_sender',
            message: 'Refused: this call did not come from the Cronium window.',
          },
        };
      return dispatch(method, args);
    });
  }
  return () => METHOD_NAMES.forEach((method) => ipcMain.removeHandler(channelOf(method)));
}

/** Only the app's own page, loaded from its own files, may call the core. */
export function trustedFrame(appUrl: string): (event: IpcEventLike) => boolean {
  return (event) => {
    const url = event.senderFrame?.url;
    if (!url) return false;
    try {
      const a = new URL(url);
      const b = new URL(appUrl);
      return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
    } catch {
      return false;
    }
  };
}

export function forwardEvents(
  subscribe: (listener: (event: CoreEvent) => void) => () => void,
  send: (channel: string, event: CoreEvent) => void,
): () => void {
  return subscribe((event) => send(EVENT_CHANNEL, event));
}
