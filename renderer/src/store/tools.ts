import { create } from 'zustand';

import { api, messageOf } from '../api/client.ts';
import type { ToolCredential, ToolInput } from '../api/types.ts';

/** The stored tool credentials (never their secrets: the core sends a summary only). */
interface ToolsState {
  tools: ToolCredential[];
  loaded: boolean;
  error: string | null;
  load(): Promise<void>;
  add(input: ToolInput): Promise<void>;
  remove(name: string): Promise<void>;
}

export const useTools = create<ToolsState>()((set, get) => ({
  tools: [],
  loaded: false,
  error: null,
  async load() {
    try {
      set({ tools: await api().listTools(), loaded: true, error: null });
    } catch (err) {
      set({ error: messageOf(err), loaded: true });
    }
  },
  async add(input) {
    await api().createTool(input);
    await get().load();
  },
  async remove(name) {
    await api().removeTool(name);
    await get().load();
  },
}));
