import { useEffect, useState } from 'react';

import { ApiError, messageOf } from '../api/client.ts';
import {
  HELPER_MODES,
  LANGUAGES,
  type HelperMode,
  type Job,
  type JobInput,
  type Language,
} from '../api/types.ts';

/** How each language and helper mode is shown (a value added to the domain must get its label here). */
const LANGUAGE_LABELS: Record<Language, string> = { bash: 'Bash', python: 'Python', node: 'Node.js' };
const HELPER_MODE_LABELS: Record<HelperMode, string> = {
  auto: 'auto',
  api: 'api (tunnel)',
  bundled: 'bundled (files)',
};
import { json, parseJsonField } from '../lib/format.ts';
import { useJobs } from '../store/jobs.ts';
import { useServers } from '../store/servers.ts';
import { useDiscardGuard } from '../lib/useDiscardGuard.ts';
import { useEditing } from '../lib/useEditing.ts';
import { useUi } from '../store/ui.ts';
import { CodeEditor } from './CodeEditor.tsx';
import { Badge, EmptyState, ErrorBanner, Field, Modal, ServerChecklist } from './common.tsx';

const SAMPLES: Record<Language, string> = {
  bash: '#!/bin/bash\necho "Hello from $(hostname)"\n',
  python: 'print("Hello from Python")\ncronium.output({"ok": True})\n',
  node: 'console.log("Hello from Node.js");\ncronium.output({ ok: true });\n',
};

interface EnvRow {
  key: string;
  value: string;
  secret: boolean;
  /** A stored secret the user did not touch: sent as null so the core keeps it. */
  keep: boolean;
}

export function JobEditor({ job, onDone }: { job: Job | null; onDone: () => void }) {
  const save = useJobs((s) => s.save);
  const servers = useServers((s) => s.servers);
  const notify = useUi((s) => s.notify);
  const [name, setName] = useState(job?.name ?? '');
  const [language, setLanguage] = useState<Language>(job?.language ?? 'bash');
  const [script, setScript] = useState(job?.script ?? SAMPLES.bash);
  const [timeout, setTimeoutSec] = useState(String(job?.timeoutSec ?? 3600));
  const [env, setEnv] = useState<EnvRow[]>(
    job?.env.map((e) => ({ key: e.key, value: e.value ?? '', secret: e.secret, keep: e.secret })) ?? [],
  );
  const [input, setInput] = useState(
    job?.defaultInput === null || job?.defaultInput === undefined ? '' : json(job.defaultInput),
  );
  const [serverIds, setServerIds] = useState<string[]>(job?.defaultServerIds ?? []);
  const [helperMode, setHelperMode] = useState<HelperMode>(job?.helperMode ?? 'auto');
  const [keepRunning, setKeepRunning] = useState(job?.keepRunning ?? false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const snapshot = JSON.stringify([
    name,
    language,
    script,
    timeout,
    env,
    input,
    serverIds,
    helperMode,
    keepRunning,
  ]);
  const [initial] = useState(snapshot);
  const close = useDiscardGuard(snapshot !== initial, onDone, job ? `The job ${job.name}` : 'The new job');

  const submit = async () => {
    setErrors({});
    setFailure(null);
    const parsed = parseJsonField(input);
    if ('error' in parsed) {
      setErrors({ defaultInput: parsed.error });
      return;
    }
    const body: JobInput = {
      name,
      language,
      script,
      timeoutSec: timeout as unknown as number,
      env: env.map((e) => ({ key: e.key, value: e.keep ? null : e.value, secret: e.secret })),
      defaultInput: parsed.value,
      defaultServerIds: serverIds,
      helperMode,
      keepRunning,
    };
    try {
      const saved = await save(body, job?.id);
      notify(`Saved ${saved.name}.`);
      onDone();
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) setErrors(err.fields);
      else setFailure(messageOf(err));
    }
  };

  const envError = Object.entries(errors).find(([k]) => k.startsWith('env'))?.[1];
  return (
    <Modal title={job ? `Edit ${job.name}` : 'New job'} onClose={close} wide>
      <form
        className="form"
        data-testid="job-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        onChange={() => Object.keys(errors).length && setErrors({})}
        onKeyDown={(e) => {
          if ((e.ctrlKey || e.metaKey) && (e.key === 's' || e.key === 'Enter')) {
            e.preventDefault();
            void submit();
          }
        }}
      >
        <ErrorBanner message={failure} />
        <div className="row">
          <Field label="Name" error={errors.name}>
            <input
              autoFocus
              value={name}
              onChange={(e) => setName(e.target.value)}
              data-testid="job-name"
              placeholder="disk-report"
            />
          </Field>
          <Field label="Language" error={errors.language}>
            <select
              value={language}
              data-testid="job-language"
              onChange={(e) => {
                const next = e.target.value as Language;
                if (script === SAMPLES[language]) setScript(SAMPLES[next]);
                setLanguage(next);
              }}
            >
              {LANGUAGES.map((l) => (
                <option key={l} value={l}>
                  {LANGUAGE_LABELS[l]}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Timeout (s)" error={errors.timeoutSec}>
            <input
              value={timeout}
              onChange={(e) => setTimeoutSec(e.target.value)}
              className="narrow"
              data-testid="job-timeout"
            />
          </Field>
          <Field
            label="Helpers"
            error={errors.helperMode}
            hint="auto falls back to bundled mode when no tunnel can be had"
          >
            <select
              value={helperMode}
              onChange={(e) => setHelperMode(e.target.value as HelperMode)}
              data-testid="job-helpers"
            >
              {HELPER_MODES.map((m) => (
                <option key={m} value={m}>
                  {HELPER_MODE_LABELS[m]}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Keep running"
            error={errors.keepRunning}
            hint="the script outlives a lost connection or a closed app; reattach with cronium attach"
          >
            <label className="check">
              <input
                type="checkbox"
                checked={keepRunning}
                onChange={(e) => setKeepRunning(e.target.checked)}
                data-testid="job-keep-running"
              />
              keep running on the host
            </label>
          </Field>
        </div>
        <Field label="Script" error={errors.script}>
          <CodeEditor language={language} value={script} onChange={setScript} />
        </Field>
        <Field label="Environment" error={envError}>
          <div className="env-rows">
            {env.map((row, i) => (
              <div className="env-row" key={i}>
                <input
                  placeholder="NAME"
                  value={row.key}
                  onChange={(e) => setEnv(env.map((r, j) => (j === i ? { ...r, key: e.target.value } : r)))}
                />
                <input
                  placeholder={row.keep ? '•••••• (unchanged)' : 'value'}
                  type={row.secret ? 'password' : 'text'}
                  value={row.keep ? '' : row.value}
                  onChange={(e) =>
                    setEnv(env.map((r, j) => (j === i ? { ...r, value: e.target.value, keep: false } : r)))
                  }
                />
                <label className="check">
                  <input
                    type="checkbox"
                    checked={row.secret}
                    onChange={(e) =>
                      setEnv(
                        env.map((r, j) => (j === i ? { ...r, secret: e.target.checked, keep: false } : r)),
                      )
                    }
                  />
                  secret
                </label>
                <button
                  type="button"
                  className="ghost"
                  onClick={() => setEnv(env.filter((_, j) => j !== i))}
                  aria-label="Remove variable"
                >
                  ✕
                </button>
              </div>
            ))}
            <button
              type="button"
              className="ghost"
              onClick={() => setEnv([...env, { key: '', value: '', secret: false, keep: false }])}
            >
              + Add variable
            </button>
          </div>
        </Field>
        <div className="row">
          <Field label="Default input (JSON)" error={errors.defaultInput}>
            <textarea
              rows={3}
              value={input}
              onChange={(e) => setInput(e.target.value)}
              className="mono"
              data-testid="job-input"
              placeholder='{"items": [1, 2, 3]}'
            />
          </Field>
          <Field label="Default servers" error={errors.defaultServerIds}>
            <ServerChecklist
              servers={servers}
              selected={serverIds}
              onChange={setServerIds}
              empty="No servers yet."
            />
          </Field>
        </div>
        <footer>
          <span className="muted small">Ctrl+S saves</span>
          <button type="button" className="ghost" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" data-testid="job-save">
            Save
          </button>
        </footer>
      </form>
    </Modal>
  );
}

export function JobsView() {
  const { jobs, loaded, error, load, remove } = useJobs();
  const loadServers = useServers((s) => s.load);
  const { openRunDialog, confirmRemove } = useUi();
  const [editing, setEditing] = useEditing<Job>();

  useEffect(() => {
    void load();
    void loadServers();
  }, [load, loadServers]);
  const del = (job: Job) =>
    confirmRemove(`Remove the job ${job.name}? Its history is kept.`, job.name, () => remove(job.id));

  return (
    <section className="view" data-testid="jobs-view">
      <header className="view-header">
        <h1>Jobs</h1>
        <button onClick={() => setEditing('new')} data-testid="add-job" title="Ctrl+N">
          + New job
        </button>
      </header>
      <ErrorBanner message={error} />
      {loaded && jobs.length === 0 ? (
        <EmptyState
          title="No jobs yet"
          action={<button onClick={() => setEditing('new')}>Write your first job</button>}
        >
          A job is a Bash, Python or Node.js script you run on one or many servers.
        </EmptyState>
      ) : (
        <table className="table" data-testid="jobs-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Language</th>
              <th>Timeout</th>
              <th>Helpers</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id} data-testid={`job-row-${j.name}`}>
                <td>
                  <strong>{j.name}</strong>
                </td>
                <td>
                  <Badge tone="idle">{j.language}</Badge>
                </td>
                <td>{j.timeoutSec} s</td>
                <td>{j.helperMode}</td>
                <td className="actions">
                  <button onClick={() => openRunDialog(j.id)} data-testid="run-job">
                    ▶ Run
                  </button>
                  <button className="ghost" onClick={() => setEditing(j)}>
                    Edit
                  </button>
                  <button className="ghost danger-text" onClick={() => void del(j)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && <JobEditor job={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
    </section>
  );
}
