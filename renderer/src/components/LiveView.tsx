import { useEffect, useMemo, useState } from 'react';

import { messageOf } from '../api/client.ts';
import type { Execution } from '../api/types.ts';
import type { StreamCode } from '../lib/logBuffer.ts';
import { mergeLogs } from '../lib/mergedLog.ts';
import {
  cancellingNow,
  elapsedMs,
  executionsOfRun,
  FINAL,
  logOf,
  runProgress,
  runsNewestFirst,
  useLive,
} from '../store/live.ts';
import { useUi } from '../store/ui.ts';
import { EmptyState, HelperBadge, StatusBadge } from './common.tsx';
import { LogView } from './LogView.tsx';
import { OutputGroups } from './OutputGroups.tsx';

const STREAMS: { code: StreamCode; label: string }[] = [
  { code: 0, label: 'stdout' },
  { code: 1, label: 'stderr' },
  { code: 2, label: 'cronium' },
];

/** "1.2 s", "3 min 4 s": an elapsed time on a status card. */
function elapsedText(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
}

/** Re-renders every `ms` while `active` (the elapsed times of hosts still going). */
function useTick(active: boolean, ms = 500): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
  return active ? Date.now() : now;
}

export function LiveView() {
  const { liveRunId, go, notify, showRun } = useUi();
  const cancelRequested = useLive((s) => s.cancelRequested);
  const cancelExecutionRequested = useLive((s) => s.cancelExecutionRequested);
  const runs = useLive((s) => s.runs);
  const run = liveRunId ? runs[liveRunId] : undefined;
  const all = useLive((s) => s.executions);
  const tunnels = useLive((s) => s.tunnels);
  const versions = useLive((s) => s.logVersions);
  // Derived here, not in the selector: a selector returning a new array each time would re-render forever.
  const executions = useMemo(() => executionsOfRun(run, all), [run, all]);
  const { cancelRun, cancelExecution, loadLog, loadRun, rerun } = useLive();
  const [selected, setSelected] = useState<string | null>(null);
  /** The merged log of every host, else one host's own. */
  const [merged, setMerged] = useState(false);
  const [hostFilter, setHostFilter] = useState<string[] | null>(null);
  const [streams, setStreams] = useState<ReadonlySet<StreamCode>>(new Set([0, 1, 2]));
  const current = executions.find((e) => e.id === selected) ?? executions[0];
  const now = useTick(executions.some((e) => !FINAL.has(e.status)));
  const executionKey = executions.map((e) => e.id).join(',');

  useEffect(() => {
    setMerged(false);
    setHostFilter(null);
    setSelected(null);
    // A run opened from history, or started elsewhere, is read from the store.
    if (liveRunId && (!run || run.executionIds.length > executions.length)) void loadRun(liveRunId);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [liveRunId]);
  useEffect(() => {
    // A window opened mid-run catches up from the store; live events continue from there.
    for (const e of executions) void loadLog(e.id);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [executionKey]);

  const shownHosts = hostFilter ?? executions.map((e) => e.id);
  const mergedVersion = executions.map((e) => versions[e.id] ?? 0).join(',');
  const mergedLog = useMemo(
    () =>
      merged
        ? mergeLogs(
            executions.map((e) => ({ executionId: e.id, serverName: e.serverName, log: logOf(e.id) })),
            { executionIds: shownHosts, streams },
          )
        : null,
    // The buffers are mutable: their versions say they changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [merged, mergedVersion, executionKey, shownHosts.join(','), streams],
  );

  const otherRuns = runsNewestFirst(runs);
  const switcher = otherRuns.length > 1 && (
    <select
      value={liveRunId ?? ''}
      onChange={(e) => showRun(e.target.value)}
      data-testid="run-switch"
      aria-label="Run shown"
    >
      {otherRuns.map((r) => (
        <option key={r.id} value={r.id}>
          {r.jobName} · {r.status} · {new Date(r.startedAt).toLocaleTimeString()}
        </option>
      ))}
    </select>
  );

  if (!run) {
    return (
      <section className="view" data-testid="live-view">
        <header className="view-header">
          <h1>Live</h1>
          {switcher}
        </header>
        <EmptyState
          title="Nothing running"
          action={<button onClick={() => go('jobs')}>Pick a job to run</button>}
        >
          Press Run on a job, choose servers, and its output streams in here. Runs started from the command
          line on this data folder show up here too.
        </EmptyState>
      </section>
    );
  }
  const progress = runProgress(executions);
  const again = (failed: boolean) =>
    rerun(run.id, { failed }).then(
      (started) => showRun(started.id),
      (err: unknown) => notify(messageOf(err), 'bad'),
    );
  const toggleHost = (id: string) => {
    const next = shownHosts.includes(id) ? shownHosts.filter((h) => h !== id) : [...shownHosts, id];
    setHostFilter(next);
  };
  const toggleStream = (code: StreamCode) => {
    const next = new Set(streams);
    if (next.has(code)) next.delete(code);
    else next.add(code);
    setStreams(next);
  };
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
        <span className="muted small" data-testid="run-started-by">
          started by {run.startedBy ?? 'unknown'}
        </span>
        {run.retryOf && (
          <button className="ghost small" onClick={() => showRun(run.retryOf!)} data-testid="retry-of">
            attempt {run.attempt} · repeats run {run.retryOf.slice(0, 8)}
          </button>
        )}
        {switcher}
        <span className="spacer" />
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
        {run.status !== 'running' && (
          <>
            <button
              onClick={() => void again(false)}
              data-testid="rerun-run"
              title="The same job, input, parameters and servers"
            >
              ↻ Re-run
            </button>
            {progress.failed > 0 && (
              <button
                onClick={() => void again(true)}
                data-testid="rerun-failed"
                title="Only the hosts that did not succeed"
              >
                ↻ Re-run {progress.failed} not succeeded
              </button>
            )}
          </>
        )}
      </header>
      <div className="status-grid" data-testid="status-grid">
        {executions.map((e) => (
          <HostCard
            key={e.id}
            e={e}
            selected={!merged && current?.id === e.id}
            now={now}
            // Tunnel events are this process's: a CLI run's tunnels are the CLI's own, not shown here.
            tunnel={e.helperMode === 'api' && run.trigger !== 'cli' ? tunnels[e.serverId] : undefined}
            cancelling={cancelExecutionRequested[e.id] === true}
            onSelect={() => {
              setSelected(e.id);
              setMerged(false);
            }}
            onCancel={() => cancelExecution(e.id).catch((err: unknown) => notify(messageOf(err), 'bad'))}
          />
        ))}
      </div>
      <OutputGroups executions={executions} />
      {executions.length > 1 && (
        <div className="log-tabs" role="tablist">
          <button
            role="tab"
            aria-selected={merged}
            className={merged ? 'selected' : 'ghost'}
            onClick={() => setMerged(true)}
            data-testid="log-merged"
          >
            All hosts
          </button>
          <button
            role="tab"
            aria-selected={!merged}
            className={!merged ? 'selected' : 'ghost'}
            onClick={() => setMerged(false)}
            data-testid="log-single"
          >
            {current?.serverName ?? 'One host'}
          </button>
          {merged && (
            <span className="merged-filters" data-testid="merged-filters">
              {executions.map((e) => (
                <label key={e.id} className="check small">
                  <input
                    type="checkbox"
                    checked={shownHosts.includes(e.id)}
                    onChange={() => toggleHost(e.id)}
                    data-testid={`merged-host-${e.serverName}`}
                  />
                  {e.serverName}
                </label>
              ))}
              <span className="muted small">|</span>
              {STREAMS.map((s) => (
                <label key={s.code} className="check small">
                  <input
                    type="checkbox"
                    checked={streams.has(s.code)}
                    onChange={() => toggleStream(s.code)}
                    data-testid={`merged-stream-${s.label}`}
                  />
                  {s.label}
                </label>
              ))}
            </span>
          )}
        </div>
      )}
      {merged && mergedLog ? (
        <LogView
          executionId={`merged:${run.id}`}
          source={{ buffer: mergedLog, version: mergedLog.length, name: `${run.jobName}-all-hosts` }}
        />
      ) : (
        current && (
          <>
            {current.fallbackReason && (
              <div className="warn-box" data-testid="fallback-reason">
                Helpers fell back to bundled mode: {current.fallbackReason}
              </div>
            )}
            <LogView executionId={current.id} execution={current} />
          </>
        )
      )}
    </section>
  );
}

/** One host of a run: status, exit code, elapsed time, helpers, its tunnel, why it failed, and its cancel. */
function HostCard({
  e,
  selected,
  now,
  tunnel,
  cancelling,
  onSelect,
  onCancel,
}: {
  e: Execution;
  selected: boolean;
  now: number;
  tunnel: { state: string; error: string | null } | undefined;
  cancelling: boolean;
  onSelect: () => void;
  onCancel: () => void;
}) {
  const going = !FINAL.has(e.status);
  return (
    <div
      role="button"
      tabIndex={0}
      className={`status-card ${selected ? 'selected' : ''}`}
      onClick={onSelect}
      onKeyDown={(ev) => (ev.key === 'Enter' || ev.key === ' ') && (ev.preventDefault(), onSelect())}
      data-testid={`status-card-${e.serverName}`}
    >
      <strong>{e.serverName}</strong>
      <StatusBadge status={e.status} />
      {e.exitCode !== null && <span className="muted small">exit {e.exitCode}</span>}
      <span className="muted small" data-testid={`elapsed-${e.serverName}`}>
        {elapsedText(elapsedMs(e, now))}
      </span>
      <HelperBadge mode={e.helperMode} reason={e.fallbackReason} />
      {tunnel && (
        <span
          className="muted small"
          data-testid={`tunnel-${e.serverName}`}
          title={tunnel.error ?? undefined}
        >
          tunnel {tunnel.state}
        </span>
      )}
      {e.errorMessage && e.status !== 'succeeded' && (
        <span className="small error-text">{e.errorMessage}</span>
      )}
      {going &&
        (cancelling ? (
          <span className="badge tone-warn small" data-testid={`cancelling-${e.serverName}`}>
            Stopping…
          </span>
        ) : (
          <button
            className="ghost small danger"
            onClick={(ev) => {
              ev.stopPropagation();
              onCancel();
            }}
            data-testid={`cancel-host-${e.serverName}`}
            title={`Stop ${e.serverName} only; the other hosts go on`}
          >
            ■ Stop
          </button>
        ))}
    </div>
  );
}
