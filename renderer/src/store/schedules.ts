import { create } from 'zustand';

import { api, messageOf } from '../api/client.ts';
import type { Schedule, ScheduleInput } from '../api/types.ts';

interface SchedulesState {
  schedules: Schedule[];
  loaded: boolean;
  error: string | null;
  load(): Promise<void>;
  create(input: ScheduleInput): Promise<Schedule>;
  setEnabled(id: string, enabled: boolean): Promise<void>;
  remove(id: string): Promise<void>;
}

export const useSchedules = create<SchedulesState>()((set, get) => ({
  schedules: [],
  loaded: false,
  error: null,
  async load() {
    try {
      set({ schedules: await api().listSchedules(), loaded: true, error: null });
    } catch (err) {
      set({ error: messageOf(err), loaded: true });
    }
  },
  async create(input) {
    const saved = await api().createSchedule(input);
    await get().load();
    return saved;
  },
  async setEnabled(id, enabled) {
    // The switch moves at once; the list read afterwards (or a failure) sets it right.
    set((s) => ({ schedules: s.schedules.map((x) => (x.id === id ? { ...x, enabled } : x)) }));
    try {
      if (enabled) await api().resumeSchedule(id);
      else await api().pauseSchedule(id);
    } finally {
      await get().load();
    }
  },
  async remove(id) {
    await api().removeSchedule(id);
    await get().load();
  },
}));
