import { create } from 'zustand';

import { api, messageOf } from '../api/client.ts';
import type { Server, ServerInput, ServerTestResult } from '../api/types.ts';

interface ServersState {
  servers: Server[];
  loaded: boolean;
  error: string | null;
  load(): Promise<void>;
  /** Creates or updates; rejects with ApiError (per-field messages) on bad input. */
  save(input: ServerInput, id?: string): Promise<Server>;
  remove(id: string): Promise<void>;
  test(id: string): Promise<ServerTestResult>;
  trust(id: string, fingerprint: string): Promise<ServerTestResult>;
}

export const useServers = create<ServersState>()((set, get) => ({
  servers: [],
  loaded: false,
  error: null,
  async load() {
    try {
      set({ servers: await api().listServers(), loaded: true, error: null });
    } catch (err) {
      set({ error: messageOf(err), loaded: true });
    }
  },
  async save(input, id) {
    const saved = id ? await api().updateServer(id, input) : await api().createServer(input);
    await get().load();
    return saved;
  },
  async remove(id) {
    await api().removeServer(id);
    await get().load();
  },
  async test(id) {
    const result = await api().testServer(id);
    await get().load();
    return result;
  },
  async trust(id, fingerprint) {
    const result = await api().trustHostKey(id, fingerprint);
    await get().load();
    return result;
  },
}));

export function serverName(servers: Server[], id: string | null): string {
  if (!id) return '—';
  return servers.find((s) => s.id === id)?.name ?? 'removed server';
}

export function serverStatus(server: Server): { label: string; tone: 'ok' | 'bad' | 'idle' } {
  if (!server.lastCheck) return { label: 'not checked', tone: 'idle' };
  return server.lastCheck.online ? { label: 'online', tone: 'ok' } : { label: 'offline', tone: 'bad' };
}
