import { create } from 'zustand';

import type { ConfirmRequest } from '../components/common.tsx';
import { messageOf } from '../api/client.ts';

export type View = 'servers' | 'jobs' | 'live' | 'history' | 'variables' | 'schedules' | 'tools';
export const VIEWS: { id: View; label: string; key: string }[] = [
  { id: 'servers', label: 'Servers', key: '1' },
  { id: 'jobs', label: 'Jobs', key: '2' },
  { id: 'live', label: 'Live', key: '3' },
  { id: 'history', label: 'History', key: '4' },
  { id: 'variables', label: 'Variables', key: '5' },
  { id: 'schedules', label: 'Schedules', key: '6' },
  { id: 'tools', label: 'Tools', key: '7' },
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
  /** The question the confirm dialog shows, if one is open (see ask). */
  confirm: (ConfirmRequest & { answer: (yes: boolean) => void }) | null;
  go(view: View): void;
  showRun(runId: string): void;
  openDetail(executionId: string | null): void;
  openRunDialog(jobId: string | null): void;
  notify(text: string, tone?: 'ok' | 'bad'): void;
  setConnected(connected: boolean): void;
  /**
   * Asks a yes/no question in the app's own confirm dialog; resolves true when the user confirms, false
   * when they cancel (button, Escape or backdrop). A second question while one is open cancels the first.
   */
  ask(request: ConfirmRequest): Promise<boolean>;
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
  confirm: null,
  go: (view) => set({ view }),
  showRun: (runId) => set({ view: 'live', liveRunId: runId }),
  openDetail: (detailId) => set({ detailId }),
  openRunDialog: (runJobId) => set({ runJobId }),
  notify: (text, tone = 'ok') => {
    set({ toast: { text, tone } });
    setTimeout(() => set((s) => (s.toast?.text === text ? { toast: null } : s)), 4000);
  },
  setConnected: (connected) => set({ connected }),
  ask(request) {
    get().confirm?.answer(false);
    return new Promise<boolean>((resolve) => {
      const answer = (yes: boolean) => {
        set((s) => (s.confirm?.answer === answer ? { confirm: null } : s));
        resolve(yes);
      };
      set({ confirm: { ...request, answer } });
    });
  },
  async confirmRemove(question, name, remove) {
    const yes = await get().ask({
      title: `Remove ${name}?`,
      message: question,
      confirmLabel: 'Remove',
      danger: true,
    });
    if (!yes) return;
    try {
      await remove();
      get().notify(`Removed ${name}.`);
    } catch (err) {
      get().notify(messageOf(err), 'bad');
    }
  },
}));
