import { create } from 'zustand';

import { api, messageOf } from '../api/client.ts';
import { type Execution, type HistoryStatusFilter, NOT_SUCCEEDED_STATUSES } from '../api/types.ts';

/** The statuses "not succeeded" stands for (the core's one list). */
const NOT_SUCCEEDED: readonly string[] = NOT_SUCCEEDED_STATUSES;

export interface HistoryFilters {
  jobId: string;
  serverId: string;
  status: HistoryStatusFilter | '';
  /** Words to find in the job name, server name, error or id (the core searches the same). */
  text?: string;
  /** yyyy-mm-dd, local time; empty for no bound. */
  from: string;
  to: string;
}

interface HistoryState {
  filters: HistoryFilters;
  items: Execution[];
  cursor: string | null;
  loading: boolean;
  error: string | null;
  /** How long the first page took to arrive, in ms (for the benchmark; not shown). */
  firstPageMs: number | null;
  setFilters(patch: Partial<HistoryFilters>): void;
  /** Loads the first page (reset) or the next one. */
  load(reset: boolean): Promise<void>;
  upsert(execution: Execution): void;
}

export const PAGE_SIZE = 100;

export function toQuery(filters: HistoryFilters, cursor: string | null) {
  const day = (text: string, endOfDay: boolean) => {
    if (!text) return undefined;
    const d = new Date(`${text}T00:00:00`);
    if (endOfDay) d.setDate(d.getDate() + 1);
    return d.getTime();
  };
  return {
    jobId: filters.jobId || undefined,
    serverId: filters.serverId || undefined,
    status: filters.status || undefined,
    text: filters.text?.trim() || undefined,
    from: day(filters.from, false),
    to: day(filters.to, true),
    limit: PAGE_SIZE,
    cursor: cursor ?? undefined,
  };
}

/** Does a live execution belong in the list as filtered? */
export function matches(filters: HistoryFilters, e: Execution): boolean {
  return (
    (!filters.jobId || e.jobId === filters.jobId) &&
    (!filters.serverId || e.serverId === filters.serverId) &&
    (!filters.status ||
      e.status === filters.status ||
      (filters.status === 'not_succeeded' && NOT_SUCCEEDED.includes(e.status))) &&
    (filters.text ?? '')
      .toLowerCase()
      .split(/\s+/)
      .filter(Boolean)
      .every((w) =>
        [e.jobName, e.serverName, e.errorMessage ?? '', e.id, e.runId].some((f) =>
          f.toLowerCase().includes(w),
        ),
      )
  );
}

export const useHistory = create<HistoryState>()((set, get) => ({
  filters: { jobId: '', serverId: '', status: '', text: '', from: '', to: '' },
  items: [],
  cursor: null,
  loading: false,
  error: null,
  firstPageMs: null,
  setFilters(patch) {
    set({ filters: { ...get().filters, ...patch } });
    void get().load(true);
  },
  async load(reset) {
    const started = performance.now();
    set({ loading: true, error: null });
    try {
      const page = await api().queryHistory(toQuery(get().filters, reset ? null : get().cursor));
      set({
        items: reset ? page.items : [...get().items, ...page.items],
        cursor: page.nextCursor,
        loading: false,
        firstPageMs: reset ? Math.round(performance.now() - started) : get().firstPageMs,
      });
    } catch (err) {
      set({ loading: false, error: messageOf(err) });
    }
  },
  upsert(execution) {
    const { items, filters } = get();
    const at = items.findIndex((e) => e.id === execution.id);
    if (at >= 0) set({ items: items.map((e) => (e.id === execution.id ? execution : e)) });
    else if (matches(filters, execution) && !filters.from && !filters.to)
      set({ items: [execution, ...items] });
  },
}));
