import { useEffect, useState } from 'react';

import { ApiError, messageOf } from '../api/client.ts';
import {
  SCHEDULE_MISSED,
  SCHEDULE_OVERLAPS,
  type Schedule,
  type ScheduleMissed,
  type ScheduleOverlap,
} from '../api/types.ts';
import { parseJsonField, when } from '../lib/format.ts';
import { useDiscardGuard } from '../lib/useDiscardGuard.ts';
import { useEditing } from '../lib/useEditing.ts';
import { useJobs } from '../store/jobs.ts';
import { useSchedules } from '../store/schedules.ts';
import { useServers } from '../store/servers.ts';
import { useUi } from '../store/ui.ts';
import { Badge, EmptyState, ErrorBanner, Field, Modal, ServerChecklist, StatusBadge } from './common.tsx';

/** How often the list is read again while shown: next fires move, and a daemon may have fired meanwhile. */
const REFRESH_MS = 5000;

const OVERLAP_LABELS: Record<ScheduleOverlap, string> = {
  skip: 'skip while the last run still runs',
  allow: 'run alongside',
};
const MISSED_LABELS: Record<ScheduleMissed, string> = {
  skip: 'skip occurrences missed while nothing ran',
  'run-once': 'run once for all missed occurrences',
};

function ScheduleForm({ onDone }: { onDone: () => void }) {
  const jobs = useJobs((s) => s.jobs);
  const servers = useServers((s) => s.servers);
  const create = useSchedules((s) => s.create);
  const notify = useUi((s) => s.notify);
  const [name, setName] = useState('');
  const [jobId, setJobId] = useState(jobs[0]?.id ?? '');
  const [cron, setCron] = useState('');
  const [timezone, setTimezone] = useState('');
  const [serverIds, setServerIds] = useState<string[]>([]);
  const [tags, setTags] = useState('');
  const [input, setInput] = useState('');
  const [overlap, setOverlap] = useState<ScheduleOverlap>('skip');
  const [missed, setMissed] = useState<ScheduleMissed>('skip');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const dirty = !!(name || cron || timezone || serverIds.length || tags || input);
  const close = useDiscardGuard(dirty, onDone, 'The new schedule');

  const submit = async () => {
    setErrors({});
    setFailure(null);
    const parsed = parseJsonField(input);
    if ('error' in parsed) return setErrors({ input: parsed.error });
    const tagTargets = tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)
      .map((t) => `tag:${t}`);
    try {
      const saved = await create({
        name,
        jobId,
        cron,
        timezone: timezone.trim() || null,
        targets: [...serverIds, ...tagTargets],
        input: parsed.value,
        overlap,
        missed,
      });
      notify(`Saved ${saved.name}.`);
      onDone();
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) {
        // Per-target messages (targets.0) go under the servers.
        const fields: Record<string, string> = {};
        for (const [k, v] of Object.entries(err.fields)) fields[k.split('.')[0]!] ??= v;
        setErrors(fields);
      } else setFailure(messageOf(err));
    }
  };

  return (
    <Modal title="New schedule" onClose={close}>
      <form
        className="form"
        data-testid="schedule-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <ErrorBanner message={failure} />
        <Field label="Name" error={errors.name}>
          <input
            autoFocus
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-testid="schedule-name"
            placeholder="nightly-report"
          />
        </Field>
        <Field label="Job" error={errors.jobId}>
          <select value={jobId} onChange={(e) => setJobId(e.target.value)} data-testid="schedule-job">
            {jobs.length === 0 && <option value="">Add a job first</option>}
            {jobs.map((j) => (
              <option key={j.id} value={j.id}>
                {j.name}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Cron expression"
          error={errors.cron}
          hint="5 fields (min hour day month weekday), 6 with seconds first, or @hourly, @daily, @weekly…"
        >
          <input
            className="mono"
            value={cron}
            onChange={(e) => setCron(e.target.value)}
            data-testid="schedule-cron"
            placeholder="0 3 * * *"
          />
        </Field>
        <Field
          label="Time zone"
          error={errors.timezone}
          hint="an IANA name such as Europe/Berlin; empty: local time"
        >
          <input
            value={timezone}
            onChange={(e) => setTimezone(e.target.value)}
            data-testid="schedule-tz"
            placeholder="local"
          />
        </Field>
        <Field label="Servers" error={errors.targets} hint="none chosen: the job's own servers">
          <ServerChecklist
            servers={servers}
            selected={serverIds}
            onChange={setServerIds}
            empty="No servers yet."
            testIdPrefix="schedule-server-"
          />
        </Field>
        <Field label="Tags" hint="servers with these tags, comma-separated, when each run starts">
          <input value={tags} onChange={(e) => setTags(e.target.value)} data-testid="schedule-tags" />
        </Field>
        <Field label="Input (JSON)" error={errors.input} hint="empty: the job's default input">
          <textarea
            rows={3}
            className="mono"
            value={input}
            onChange={(e) => setInput(e.target.value)}
            data-testid="schedule-input"
          />
        </Field>
        <Field label="Overlap" error={errors.overlap}>
          <select
            value={overlap}
            onChange={(e) => setOverlap(e.target.value as ScheduleOverlap)}
            data-testid="schedule-overlap"
          >
            {SCHEDULE_OVERLAPS.map((o) => (
              <option key={o} value={o}>
                {OVERLAP_LABELS[o]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Missed occurrences" error={errors.missed}>
          <select
            value={missed}
            onChange={(e) => setMissed(e.target.value as ScheduleMissed)}
            data-testid="schedule-missed"
          >
            {SCHEDULE_MISSED.map((m) => (
              <option key={m} value={m}>
                {MISSED_LABELS[m]}
              </option>
            ))}
          </select>
        </Field>
        <footer>
          <button type="button" className="ghost" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" data-testid="schedule-save">
            Save
          </button>
        </footer>
      </form>
    </Modal>
  );
}

/** What the last occurrence came to: its run's status, a skip, or why it could not start. */
function LastResult({ s }: { s: Schedule }) {
  if (s.lastOutcome === null) return <span className="muted">—</span>;
  const at = <span className="small muted"> {when(s.lastFireAt)}</span>;
  if (s.lastOutcome === 'started')
    return (
      <span data-testid="schedule-last">
        {s.lastResult ? <StatusBadge status={s.lastResult} /> : <Badge tone="busy">started</Badge>}
        {at}
      </span>
    );
  if (s.lastOutcome === 'error')
    return (
      <span data-testid="schedule-last" title={s.lastError ?? undefined}>
        <Badge tone="bad">could not start</Badge>
        {at}
      </span>
    );
  return (
    <span data-testid="schedule-last">
      <Badge tone="idle">
        {s.lastOutcome === 'skipped_overlap' ? 'skipped (overlap)' : 'skipped (missed)'}
      </Badge>
      {at}
    </span>
  );
}

export function SchedulesView() {
  const { schedules, loaded, error, load, setEnabled, remove } = useSchedules();
  const loadJobs = useJobs((s) => s.load);
  const loadServers = useServers((s) => s.load);
  const { confirmRemove, notify } = useUi();
  const [editing, setEditing] = useEditing<Schedule>();
  useEffect(() => {
    void load();
    void loadJobs();
    void loadServers();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load, loadJobs, loadServers]);
  const toggle = (s: Schedule, enabled: boolean) =>
    setEnabled(s.id, enabled).then(
      () => notify(enabled ? `Resumed ${s.name}.` : `Paused ${s.name}.`),
      (err: unknown) => notify(messageOf(err), 'bad'),
    );

  return (
    <section className="view" data-testid="schedules-view">
      <header className="view-header">
        <h1>Schedules</h1>
        <button onClick={() => setEditing('new')} data-testid="add-schedule">
          + New schedule
        </button>
      </header>
      <ErrorBanner message={error} />
      {loaded && schedules.length === 0 ? (
        <EmptyState title="No schedules yet">
          A schedule runs a job by a cron expression while the app, browser mode or `cronium daemon` is
          running.
        </EmptyState>
      ) : (
        <table className="table" data-testid="schedules-table">
          <thead>
            <tr>
              <th>Enabled</th>
              <th>Name</th>
              <th>Job</th>
              <th>When</th>
              <th>Next</th>
              <th>Last</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {schedules.map((s) => (
              <tr key={s.id} data-testid={`schedule-row-${s.name}`}>
                <td>
                  <input
                    type="checkbox"
                    role="switch"
                    aria-label={`${s.name} enabled`}
                    checked={s.enabled}
                    onChange={(e) => void toggle(s, e.target.checked)}
                    data-testid="schedule-enabled"
                  />
                </td>
                <td>{s.name}</td>
                <td>{s.jobName ?? <span className="muted">(removed)</span>}</td>
                <td>
                  <code className="mono">{s.cron}</code>
                  <span className="small muted"> {s.timezone ?? 'local'}</span>
                </td>
                <td className="small" data-testid="schedule-next">
                  {s.enabled ? (
                    s.nextFires.map((t) => (
                      <div key={t} data-testid="schedule-next-fire" data-at={t}>
                        {when(t)}
                      </div>
                    ))
                  ) : (
                    <span className="muted">paused</span>
                  )}
                </td>
                <td>
                  <LastResult s={s} />
                </td>
                <td className="actions">
                  <button
                    className="ghost danger-text"
                    data-testid="remove-schedule"
                    onClick={() =>
                      void confirmRemove(
                        `Remove the schedule ${s.name}? The runs it started stay in the history.`,
                        s.name,
                        () => remove(s.id),
                      )
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing === 'new' && <ScheduleForm onDone={() => setEditing(null)} />}
    </section>
  );
}
