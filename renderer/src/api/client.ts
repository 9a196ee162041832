/**
 * The one interface to the core, over either transport: the Electron preload bridge (desktop) or a
 * WebSocket (browser mode). Components and stores never know which one they have.
 */
import type { ClientApi, CoreEvent, ErrorValue, MethodName, PreloadBridge, Result } from './types.ts';

export class ApiError extends Error {
  readonly kind: string;
  readonly fields: Record<string, string>;
  readonly details: Record<string, string>;
  constructor(error: ErrorValue) {
    super(error.message);
    this.kind = error.kind;
    this.fields = error.fields ?? {};
    this.details = error.details ?? {};
  }
}

export interface Transport {
  call(method: MethodName, args: unknown[]): Promise<Result<unknown>>;
  subscribe(listener: (event: CoreEvent) => void): () => void;
}

declare global {
  interface Window {
    cronium?: PreloadBridge;
  }
}

export function preloadTransport(bridge: PreloadBridge): Transport {
  return {
    call: (method, args) => bridge.api[method](...args),
    subscribe: (listener) => bridge.onEvent(listener),
  };
}

/** Browser mode: JSON messages over one WebSocket, reconnecting with backoff if it drops. */
export function webSocketTransport(
  url: string,
): Transport & { onStatus(listener: (connected: boolean) => void): void } {
  const listeners = new Set<(event: CoreEvent) => void>();
  const statusListeners = new Set<(connected: boolean) => void>();
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const queue: string[] = [];
  let socket: WebSocket | null = null;
  let nextId = 1;
  let delay = 250;

  const connect = () => {
    socket = new WebSocket(url);
    socket.onopen = () => {
      delay = 250;
      statusListeners.forEach((l) => l(true));
      for (const message of queue.splice(0)) socket!.send(message);
    };
    socket.onmessage = (message) => {
      const data = JSON.parse(String(message.data)) as
        { type: 'result'; id: number; result: Result<unknown> } | { type: 'event'; event: CoreEvent };
      if (data.type === 'result') {
        pending.get(data.id)?.(data.result);
        pending.delete(data.id);
      } else listeners.forEach((l) => l(data.event));
    };
    socket.onclose = () => {
      statusListeners.forEach((l) => l(false));
      for (const [id, resolve] of pending) {
        resolve({
          ok: false,
          error: { kind: 'connection_lost', message: 'The connection to Cronium was lost; retrying.' },
        });
        pending.delete(id);
      }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  connect();

  return {
    call: (method, args) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        const message = JSON.stringify({ id, method, args });
        if (socket?.readyState === WebSocket.OPEN) socket.send(message);
        else queue.push(message);
      }),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onStatus: (listener) => void statusListeners.add(listener),
  };
}

/** Every method of the contract as an async function that throws ApiError on failure. */
export function createClient(transport: Transport): ClientApi {
  return new Proxy({} as ClientApi, {
    get:
      (_target, method: string) =>
      async (...args: unknown[]) => {
        const result = await transport.call(method as MethodName, args);
        if (!result.ok) throw new ApiError(result.error);
        return result.value;
      },
  });
}

function pickTransport(): Transport {
  if (window.cronium) return preloadTransport(window.cronium);
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return webSocketTransport(`${scheme}://${location.host}/ws`);
}

let current: { transport: Transport; api: ClientApi } | null = null;

/** The app's client (created on first use; tests install their own with setTransport). */
export function client(): { transport: Transport; api: ClientApi } {
  if (!current) {
    const transport = pickTransport();
    current = { transport, api: createClient(transport) };
  }
  return current;
}

export function setTransport(transport: Transport): void {
  current = { transport, api: createClient(transport) };
}

export const api = (): ClientApi => client().api;

/** A message fit for a person: never a stack trace. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
