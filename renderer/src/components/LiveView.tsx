import { useEffect, useMemo, useState } from 'react';

import { messageOf } from '../api/client.ts';
import { cancellingNow, executionsOfRun, runProgress, useLive } from '../store/live.ts';
import { useUi } from '../store/ui.ts';
import { EmptyState, HelperBadge, StatusBadge } from './common.tsx';
import { LogView } from './LogView.tsx';

export function LiveView() {
  const { liveRunId, go, notify } = useUi();
  const cancelRequested = useLive((s) => s.cancelRequested);
  const run = useLive((s) => (liveRunId ? s.runs[liveRunId] : undefined));
  const all = useLive((s) => s.executions);
  const tunnels = useLive((s) => s.tunnels);
  // Derived here, not in the selector: a selector returning a new array each time would re-render forever.
  const executions = useMemo(() => executionsOfRun(run, all), [run, all]);
  const { cancelRun, loadLog } = useLive();
  const [selected, setSelected] = useState<string | null>(null);
  const current = executions.find((e) => e.id === selected) ?? executions[0];

  useEffect(() => {
    // A window opened mid-run catches up from the store; live events continue from there.
    for (const e of executions) void loadLog(e.id);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [liveRunId]);

  if (!run) {
    return (
      <section className="view" data-testid="live-view">
        <header className="view-header">
          <h1>Live</h1>
        </header>
        <EmptyState
          title="Nothing running"
          action={<button onClick={() => go('jobs')}>Pick a job to run</button>}
        >
          Press Run on a job, choose servers, and its output streams in here.
        </EmptyState>
      </section>
    );
  }
  const progress = runProgress(executions);
  return (
    <section className="view live" data-testid="live-view">
      <header className="view-header">
        <h1>
          {run.jobName} <StatusBadge status={run.status} />
        </h1>
        <span className="muted" data-testid="run-progress">
          {progress.done}/{progress.total} done{progress.failed ? `, ${progress.failed} not succeeded` : ''}
          {progress.fellBack ? `, ${progress.fellBack} fell back to bundled helpers` : ''}
        </span>
        {run.status === 'running' &&
          (cancellingNow(run, cancelRequested) ? (
            <span className="badge tone-warn" data-testid="cancelling">
              Cancelling…
            </span>
          ) : (
            <button
              className="danger"
              data-testid="cancel-run"
              onClick={() => cancelRun(run.id).catch((err: unknown) => notify(messageOf(err), 'bad'))}
            >
              ■ Cancel
            </button>
          ))}
      </header>
      <div className="status-grid" data-testid="status-grid">
        {executions.map((e) => (
          <button
            key={e.id}
            className={`status-card ${current?.id === e.id ? 'selected' : ''}`}
            onClick={() => setSelected(e.id)}
            data-testid={`status-card-${e.serverName}`}
          >
            <strong>{e.serverName}</strong>
            <StatusBadge status={e.status} />
            {e.exitCode !== null && <span className="muted small">exit {e.exitCode}</span>}
            <HelperBadge mode={e.helperMode} reason={e.fallbackReason} />
            {e.helperMode === 'api' && tunnels[e.serverId] && (
              <span
                className="muted small"
                data-testid={`tunnel-${e.serverName}`}
                title={tunnels[e.serverId]!.error ?? undefined}
              >
                tunnel {tunnels[e.serverId]!.state}
              </span>
            )}
            {e.errorMessage && e.status !== 'succeeded' && (
              <span className="small error-text">{e.errorMessage}</span>
            )}
          </button>
        ))}
      </div>
      {current && (
        <>
          {current.fallbackReason && (
            <div className="warn-box" data-testid="fallback-reason">
              Helpers fell back to bundled mode: {current.fallbackReason}
            </div>
          )}
          <LogView executionId={current.id} execution={current} />
        </>
      )}
    </section>
  );
}
