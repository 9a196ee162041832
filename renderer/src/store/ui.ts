import { create } from 'zustand';

import { messageOf } from '../api/client.ts';

export type View = 'servers' | 'jobs' | 'live' | 'history' | 'variables';
export const VIEWS: { id: View; label: string; key: string }[] = [
  { id: 'servers', label: 'Servers', key: '1' },
  { id: 'jobs', label: 'Jobs', key: '2' },
  { id: 'live', label: 'Live', key: '3' },
  { id: 'history', label: 'History', key: '4' },
  { id: 'variables', label: 'Variables', key: '5' },
];

interface UiState {
  view: View;
  /** The run the live view shows. */
  liveRunId: string | null;
  /** The execution whose detail is open (history). */
  detailId: string | null;
  /** The job whose run dialog is open. */
  runJobId: string | null;
  toast: { text: string; tone: 'ok' | 'bad' } | null;
  connected: boolean;
  go(view: View): void;
  showRun(runId: string): void;
  openDetail(executionId: string | null): void;
  openRunDialog(jobId: string | null): void;
  notify(text: string, tone?: 'ok' | 'bad'): void;
  setConnected(connected: boolean): void;
  /** Asks, then removes, and says how it went (the list views' Delete buttons). */
  confirmRemove(question: string, name: string, remove: () => Promise<void>): Promise<void>;
}

export const useUi = create<UiState>()((set, get) => ({
  view: 'servers',
  liveRunId: null,
  detailId: null,
  runJobId: null,
  toast: null,
  connected: true,
  go: (view) => set({ view }),
  showRun: (runId) => set({ view: 'live', liveRunId: runId }),
  openDetail: (detailId) => set({ detailId }),
  openRunDialog: (runJobId) => set({ runJobId }),
  notify: (text, tone = 'ok') => {
    set({ toast: { text, tone } });
    setTimeout(() => set((s) => (s.toast?.text === text ? { toast: null } : s)), 4000);
  },
  setConnected: (connected) => set({ connected }),
  async confirmRemove(question, name, remove) {
    if (!confirm(question)) return;
    try {
      await remove();
      get().notify(`Removed ${name}.`);
    } catch (err) {
      get().notify(messageOf(err), 'bad');
    }
  },
}));
