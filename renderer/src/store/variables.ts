import { create } from 'zustand';

import { api, messageOf } from '../api/client.ts';
import type { Variable } from '../api/types.ts';

interface VariablesState {
  variables: Variable[];
  loaded: boolean;
  error: string | null;
  load(): Promise<void>;
  save(key: string, value: unknown, secret: boolean): Promise<void>;
  remove(key: string): Promise<void>;
}

export const useVariables = create<VariablesState>()((set, get) => ({
  variables: [],
  loaded: false,
  error: null,
  async load() {
    try {
      set({ variables: await api().listVariables(), loaded: true, error: null });
    } catch (err) {
      set({ error: messageOf(err), loaded: true });
    }
  },
  async save(key, value, secret) {
    await api().setVariable({ key, value, secret });
    await get().load();
  },
  async remove(key) {
    await api().removeVariable(key);
    await get().load();
  },
}));
