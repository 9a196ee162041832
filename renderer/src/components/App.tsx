import { Component, useEffect, type ReactNode } from 'react';

import { NEW_ITEM_EVENT } from '../lib/useEditing.ts';
import { useUi, VIEWS, type View } from '../store/ui.ts';
import { ConfirmDialog } from './common.tsx';
import { HistoryView, ExecutionDetail } from './HistoryView.tsx';
import { JobsView } from './JobsView.tsx';
import { LiveView } from './LiveView.tsx';
import { RunDialog } from './RunDialog.tsx';
import { SchedulesView } from './SchedulesView.tsx';
import { ServersView } from './ServersView.tsx';
import { ToolsView } from './ToolsView.tsx';
import { VariablesView } from './VariablesView.tsx';

const SCREENS: Record<View, () => React.JSX.Element> = {
  servers: ServersView,
  jobs: JobsView,
  live: LiveView,
  history: HistoryView,
  variables: VariablesView,
  schedules: SchedulesView,
  tools: ToolsView,
};

/** A screen that fails shows a sentence and a way back, never a blank window or a stack trace. */
class ScreenBoundary extends Component<{ children: ReactNode; view: View }, { error: string | null }> {
  state = { error: null as string | null };
  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  componentDidUpdate(previous: { view: View }) {
    if (previous.view !== this.props.view && this.state.error) this.setState({ error: null });
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="error-banner" role="alert" data-testid="screen-error">
        This screen ran into a problem: {this.state.error}. Pick another view, or reload the window.
      </div>
    );
  }
}

export function App() {
  const { view, go, runJobId, detailId, toast, connected, confirm } = useUi();

  useEffect(() => {
    // Ctrl/Cmd+1…6 switch views; Ctrl/Cmd+N adds in the current view.
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
      const target = VIEWS.find((v) => v.key === e.key);
      if (target) {
        e.preventDefault();
        go(target.id);
      } else if (e.key === 'n') {
        e.preventDefault();
        window.dispatchEvent(new Event(NEW_ITEM_EVENT));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go]);

  const Screen = SCREENS[view];
  return (
    <div className="app">
      <nav className="sidebar" aria-label="Views">
        <div className="brand">Cronium</div>
        {VIEWS.map((v) => (
          <button
            key={v.id}
            className={`nav ${view === v.id ? 'active' : ''}`}
            onClick={() => go(v.id)}
            data-testid={`nav-${v.id}`}
            title={`Ctrl+${v.key}`}
          >
            {v.label}
            <kbd>{v.key}</kbd>
          </button>
        ))}
      </nav>
      <main className="main">
        {!connected && (
          <div className="error-banner" data-testid="disconnected">
            The connection to Cronium was lost; reconnecting…
          </div>
        )}
        <ScreenBoundary view={view}>
          <Screen />
        </ScreenBoundary>
      </main>
      {runJobId && <RunDialog jobId={runJobId} />}
      {detailId && <ExecutionDetail executionId={detailId} />}
      {confirm && <ConfirmDialog request={confirm} onAnswer={confirm.answer} />}
      {toast && (
        <div className={`toast tone-${toast.tone}`} role="status" data-testid="toast">
          {toast.text}
        </div>
      )}
    </div>
  );
}
