import { useEffect, useState } from 'react';

import { api, ApiError, messageOf } from '../api/client.ts';
import type { Execution, ExecutionStatus, HistoryStatusFilter, Run } from '../api/types.ts';
import { changeLabel, duration, json, ms, when } from '../lib/format.ts';
import { useHistory } from '../store/history.ts';
import { useJobs } from '../store/jobs.ts';
import { useLive } from '../store/live.ts';
import { useServers } from '../store/servers.ts';
import { useUi } from '../store/ui.ts';
import { EmptyState, ErrorBanner, HelperBadge, Modal, StatusBadge } from './common.tsx';
import { LogView } from './LogView.tsx';

const STATUSES: ExecutionStatus[] = [
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'error',
  'worker_lost',
  'running',
  'detached',
  'queued',
  'connecting',
];

export function ExecutionDetail({ executionId }: { executionId: string }) {
  const { openDetail, showRun, notify } = useUi();
  const live = useLive((s) => s.executions[executionId]);
  const { loadLog, rerun: rerunRun, upsertExecution } = useLive();
  const jobs = useJobs();
  const [failure, setFailure] = useState<string | null>(null);
  const [run, setRun] = useState<Run | null>(null);
  const [scheduleName, setScheduleName] = useState<string | null>(null);

  useEffect(() => {
    api()
      .getExecution(executionId)
      .then((execution) => {
        upsertExecution(execution);
        return api().getRun(execution.runId).then(setRun);
      })
      .catch((err: unknown) => setFailure(messageOf(err)));
    void loadLog(executionId);
  }, [executionId, loadLog, upsertExecution]);
  useEffect(() => {
    if (!run?.scheduleId) return;
    api()
      .getSchedule(run.scheduleId)
      .then(
        (schedule) => setScheduleName(schedule.name),
        () => setScheduleName('removed'),
      );
  }, [run?.scheduleId]);
  const loadJobs = jobs.load;
  useEffect(() => void loadJobs(), [loadJobs]);

  const e = live;
  // History keeps a removed job's name; the job itself cannot run again.
  const jobRemoved = !!e && jobs.loaded && !jobs.error && !jobs.jobs.some((j) => j.id === e.jobId);
  const removedText = e
    ? `The job "${e.jobName}" was removed; its history is kept, but it cannot run again.`
    : '';
  const rerun = async () => {
    if (!e) return;
    try {
      // The core repeats the run's job, input, parameters and helper mode, on this host only.
      const started = await rerunRun(e.runId, { serverIds: [e.serverId] });
      openDetail(null);
      showRun(started.id);
    } catch (err) {
      // The job went between loading the list and pressing the button: say so in the user's words.
      if (err instanceof ApiError && err.kind === 'not_found' && /job/i.test(err.message)) {
        notify(removedText, 'bad');
        void loadJobs();
      } else notify(messageOf(err), 'bad');
    }
  };
  const openRun = () => {
    openDetail(null);
    showRun(e!.runId);
  };
  const copyId = () =>
    navigator.clipboard.writeText(executionId).then(
      () => notify('Copied the execution id.'),
      () => notify('The clipboard refused the id; select it and copy by hand.', 'bad'),
    );

  return (
    <Modal title={e ? `${e.jobName} on ${e.serverName}` : 'Execution'} onClose={() => openDetail(null)} wide>
      <ErrorBanner message={failure} />
      {e && (
        <div className="detail" data-testid="execution-detail">
          <div className="detail-head">
            <StatusBadge status={e.status} />
            <span>exit code {e.exitCode ?? '—'}</span>
            <HelperBadge mode={e.helperMode} reason={e.fallbackReason} />
            <span className="spacer" />
            {run && run.executionIds.length > 1 && (
              <button
                className="ghost"
                onClick={openRun}
                data-testid="open-run"
                title="Every host of this run: merged log, output groups, re-run what failed"
              >
                Whole run ({run.executionIds.length} hosts)
              </button>
            )}
            <button
              onClick={() => void rerun()}
              data-testid="rerun"
              disabled={jobRemoved}
              title={
                jobRemoved
                  ? removedText
                  : 'Run the same job with the same input and parameters on this server'
              }
            >
              ↻ Re-run
            </button>
          </div>
          {jobRemoved && (
            <div className="warn-box" data-testid="job-removed">
              {removedText}
            </div>
          )}
          {e.fallbackReason && (
            <div className="warn-box" data-testid="fallback-reason">
              Helpers fell back to bundled mode: {e.fallbackReason}
            </div>
          )}
          {e.errorMessage && <div className="error-banner">{e.errorMessage}</div>}
          <dl className="facts">
            <dt>Execution</dt>
            <dd className="id-line">
              <code className="mono" data-testid="execution-id">
                {e.id}
              </code>
              <button className="ghost small" onClick={() => void copyId()} data-testid="copy-id">
                Copy
              </button>
              <span className="muted small">run {e.runId.slice(0, 8)}</span>
            </dd>
            <dt>Trigger</dt>
            <dd data-testid="run-trigger">{run ? run.trigger : '…'}</dd>
            {run?.parentExecutionId && (
              <>
                <dt>After</dt>
                <dd>
                  <button
                    className="link"
                    data-testid="chain-parent"
                    onClick={() => openDetail(run.parentExecutionId)}
                  >
                    execution {run.parentExecutionId.slice(0, 8)}
                  </button>{' '}
                  <span className="muted small">chain depth {run.chainDepth}</span>
                </dd>
              </>
            )}
            {e.chain.length > 0 && (
              <>
                <dt>Then</dt>
                <dd data-testid="chain-steps">
                  {e.chain.map((step, i) => (
                    <div key={i} className="small" data-testid="chain-step">
                      on {step.on} → <strong>{step.jobName}</strong>{' '}
                      {step.executionIds.length > 0
                        ? step.executionIds.map((id) => (
                            <button
                              key={id}
                              className="link"
                              data-testid="chain-child"
                              onClick={() => openDetail(id)}
                            >
                              execution {id.slice(0, 8)}
                            </button>
                          ))
                        : `not started: ${step.skipped ?? 'no server'}`}
                    </div>
                  ))}
                </dd>
              </>
            )}
            {run && run.notifications.length > 0 && (
              <>
                <dt>Notices</dt>
                <dd data-testid="notifications">
                  {run.notifications.map((n, i) => (
                    <div key={i} className={`small ${n.ok ? '' : 'danger-text'}`}>
                      {n.channel}:{' '}
                      {n.ok
                        ? `delivered (HTTP ${n.httpStatus}, ${n.attempts} ${n.attempts === 1 ? 'try' : 'tries'})`
                        : `failed: ${n.error}`}
                    </div>
                  ))}
                </dd>
              </>
            )}
            <dt>Started</dt>
            <dd>{when(e.startedAt)}</dd>
            <dt>Started by</dt>
            <dd data-testid="execution-started-by">{e.startedBy ?? 'unknown'}</dd>
            {e.worker !== null && (
              <>
                <dt>Worker</dt>
                <dd data-testid="execution-worker">{e.worker}</dd>
              </>
            )}
            <dt>Trigger</dt>
            <dd data-testid="execution-trigger">
              {run ? (run.scheduleId ? `schedule ${scheduleName ?? '…'}` : run.trigger) : '…'}
            </dd>
            <dt>Took</dt>
            <dd>{duration(e.startedAt, e.endedAt)}</dd>
            <dt>Phases</dt>
            <dd data-testid="phases">
              connect {ms(e.timings.connectMs)} · deploy {ms(e.timings.deployMs)} · script{' '}
              {ms(e.timings.scriptMs)} · collect {ms(e.timings.collectMs)}
            </dd>
            <dt>Helpers</dt>
            <dd>{e.helperMode ?? '—'}</dd>
            <dt>Condition</dt>
            <dd>{e.condition === null ? '—' : String(e.condition)}</dd>
            <dt>Input</dt>
            <dd>
              <pre className="output" data-testid="execution-input">
                {run ? json(run.input) : '…'}
              </pre>
            </dd>
            {run && Object.keys(run.params).length > 0 && (
              <>
                <dt>Parameters</dt>
                <dd className="mono small" data-testid="execution-params">
                  {Object.entries(run.params)
                    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                    .join('  ')}
                </dd>
              </>
            )}
            {run?.retryOf && (
              <>
                <dt>Attempt</dt>
                <dd data-testid="execution-attempt">
                  {run.attempt} (repeats run {run.retryOf.slice(0, 8)})
                </dd>
              </>
            )}
            <dt>Variables</dt>
            <dd data-testid="variable-changes">
              {e.variableChanges.length === 0
                ? '—'
                : e.variableChanges.map((c) => (
                    <div key={`${c.op}:${c.key}`} className="mono small" data-testid="variable-change">
                      {changeLabel(c)}
                    </div>
                  ))}
            </dd>
            <dt>Tool actions</dt>
            <dd data-testid="tool-actions">
              {(e.toolActions ?? []).length === 0
                ? '—'
                : e.toolActions.map((a, i) => (
                    <div key={i} className="mono small" data-testid="tool-action">
                      {a.status === 'sent' ? '✓' : '✗'} {a.tool} {a.action}
                      {a.target ? ` to ${a.target}` : ''}
                      {a.credential ? ` (${a.credential})` : ''}: {a.status}
                      {a.mode === 'bundled' ? ' at collection' : ''}
                      {a.error ? ` — ${a.error}` : ''}
                    </div>
                  ))}
            </dd>
            <dt>Output</dt>
            <dd>
              <pre className="output" data-testid="output">
                {json(e.output)}
              </pre>
            </dd>
          </dl>
          <LogView executionId={e.id} execution={e} />
        </div>
      )}
    </Modal>
  );
}

export function HistoryView() {
  const { filters, items, cursor, loading, error, firstPageMs, setFilters, load } = useHistory();
  const jobs = useJobs();
  const servers = useServers();
  const openDetail = useUi((s) => s.openDetail);
  // Typed text reaches the core after a pause, not on every key.
  const [text, setText] = useState(filters.text ?? '');
  useEffect(() => {
    if (text === (filters.text ?? '')) return;
    const timer = setTimeout(() => setFilters({ text }), 250);
    return () => clearTimeout(timer);
  }, [text, filters.text, setFilters]);

  useEffect(() => {
    void load(true);
    void jobs.load();
    void servers.load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    // The first page's time is for the benchmark (bench/renderer.ts), not for people: an attribute only.
    <section className="view" data-testid="history-view" data-first-page-ms={firstPageMs ?? undefined}>
      <header className="view-header">
        <h1>History</h1>
      </header>
      <div className="filters">
        <input
          type="search"
          value={text}
          placeholder="Search job, server, error…"
          aria-label="Search history"
          onChange={(e) => setText(e.target.value)}
          data-testid="history-search"
        />
        <select
          value={filters.jobId}
          onChange={(e) => setFilters({ jobId: e.target.value })}
          data-testid="filter-job"
          aria-label="Job"
        >
          <option value="">all jobs</option>
          {jobs.jobs.map((j) => (
            <option key={j.id} value={j.id}>
              {j.name}
            </option>
          ))}
        </select>
        <select
          value={filters.serverId}
          onChange={(e) => setFilters({ serverId: e.target.value })}
          data-testid="filter-server"
          aria-label="Server"
        >
          <option value="">all servers</option>
          {servers.servers.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
        <select
          value={filters.status}
          onChange={(e) => setFilters({ status: e.target.value as HistoryStatusFilter | '' })}
          data-testid="filter-status"
          aria-label="Status"
        >
          <option value="">any status</option>
          <option value="not_succeeded">not succeeded</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace('_', ' ')}
            </option>
          ))}
        </select>
        <label className="small">
          from{' '}
          <input
            type="date"
            value={filters.from}
            onChange={(e) => setFilters({ from: e.target.value })}
            data-testid="filter-from"
          />
        </label>
        <label className="small">
          to{' '}
          <input
            type="date"
            value={filters.to}
            onChange={(e) => setFilters({ to: e.target.value })}
            data-testid="filter-to"
          />
        </label>
      </div>
      <ErrorBanner message={error} />
      {!loading && items.length === 0 ? (
        <EmptyState title="No executions match">Run a job, or loosen the filters.</EmptyState>
      ) : (
        <table className="table clickable" data-testid="history-table">
          <thead>
            <tr>
              <th>Started</th>
              <th>Job</th>
              <th>Server</th>
              <th>Status</th>
              <th>Exit</th>
              <th>Took</th>
              <th>Helpers</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e: Execution) => (
              <tr
                key={e.id}
                onClick={() => openDetail(e.id)}
                title={`started by ${e.startedBy ?? 'unknown'}`}
                data-testid="history-row"
              >
                <td>{when(e.startedAt)}</td>
                <td>{e.jobName}</td>
                <td>{e.serverName}</td>
                <td>
                  <StatusBadge status={e.status} />
                </td>
                <td>{e.exitCode ?? '—'}</td>
                <td>{duration(e.startedAt, e.endedAt)}</td>
                <td>
                  <HelperBadge mode={e.helperMode} reason={e.fallbackReason} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button
          className="ghost load-more"
          disabled={loading}
          onClick={() => void load(false)}
          data-testid="load-more"
        >
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
