import { create } from 'zustand';

import { api, messageOf } from '../api/client.ts';
import type { Job, JobInput } from '../api/types.ts';

interface JobsState {
  jobs: Job[];
  loaded: boolean;
  error: string | null;
  load(): Promise<void>;
  save(input: JobInput, id?: string): Promise<Job>;
  remove(id: string): Promise<void>;
}

export const useJobs = create<JobsState>()((set, get) => ({
  jobs: [],
  loaded: false,
  error: null,
  async load() {
    try {
      set({ jobs: await api().listJobs(), loaded: true, error: null });
    } catch (err) {
      set({ error: messageOf(err), loaded: true });
    }
  },
  async save(input, id) {
    const saved = id ? await api().updateJob(id, input) : await api().createJob(input);
    await get().load();
    return saved;
  },
  async remove(id) {
    await api().removeJob(id);
    await get().load();
  },
}));
