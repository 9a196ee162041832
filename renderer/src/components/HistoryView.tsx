import { useEffect, useState } from 'react';

import { api, messageOf } from '../api/client.ts';
import type { Execution, ExecutionStatus } from '../api/types.ts';
import { duration, json, ms, when } from '../lib/format.ts';
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
  'running',
  'queued',
  'connecting',
];

export function ExecutionDetail({ executionId }: { executionId: string }) {
  const { openDetail, showRun, notify } = useUi();
  const live = useLive((s) => s.executions[executionId]);
  const { loadLog, startRun, upsertExecution } = useLive();
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    api()
      .getExecution(executionId)
      .then(upsertExecution, (err: unknown) => setFailure(messageOf(err)));
    void loadLog(executionId);
  }, [executionId, loadLog, upsertExecution]);

  const e = live;
  const rerun = async () => {
    if (!e) return;
    try {
      const original = await api().getRun(e.runId);
      const run = await startRun({
        jobId: e.jobId,
        serverIds: [e.serverId],
        input: original.input ?? undefined,
        trigger: 'retry',
      });
      openDetail(null);
      showRun(run.id);
    } catch (err) {
      notify(messageOf(err), 'bad');
    }
  };

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
            <button onClick={() => void rerun()} data-testid="rerun">
              ↻ Re-run
            </button>
          </div>
          {e.fallbackReason && (
            <div className="warn-box" data-testid="fallback-reason">
              Helpers fell back to bundled mode: {e.fallbackReason}
            </div>
          )}
          {e.errorMessage && <div className="error-banner">{e.errorMessage}</div>}
          <dl className="facts">
            <dt>Started</dt>
            <dd>{when(e.startedAt)}</dd>
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
            <dt>Variables</dt>
            <dd>{e.variableChanges.map((c) => `${c.op} ${c.key}`).join(', ') || '—'}</dd>
            <dt>Output</dt>
            <dd>
              <pre className="output" data-testid="output">
                {json(e.output)}
              </pre>
            </dd>
          </dl>
          <LogView executionId={e.id} />
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

  useEffect(() => {
    void load(true);
    void jobs.load();
    void servers.load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <section className="view" data-testid="history-view">
      <header className="view-header">
        <h1>History</h1>
        {firstPageMs !== null && (
          <span className="muted small" data-testid="history-timing">
            first page in {firstPageMs} ms
          </span>
        )}
      </header>
      <div className="filters">
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
          onChange={(e) => setFilters({ status: e.target.value as ExecutionStatus | '' })}
          data-testid="filter-status"
          aria-label="Status"
        >
          <option value="">any status</option>
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
              <tr key={e.id} onClick={() => openDetail(e.id)} data-testid="history-row">
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
