import { useEffect, useState } from 'react';

import { ApiError, messageOf } from '../api/client.ts';
import {
  CHAIN_EVENTS,
  CHAIN_TARGETS,
  formatParamSpec,
  HELPER_MODES,
  LANGUAGES,
  NOTIFY_WHEN,
  parseParamSpec,
  RUN_VIA,
  type ChainEvent,
  type ChainTarget,
  type HelperMode,
  type Job,
  type JobInput,
  type JobParam,
  type Language,
  type NotifyWhen,
  type RunVia,
} from '../api/types.ts';

/** How each language and helper mode is shown (a value added to the domain must get its label here). */
const LANGUAGE_LABELS: Record<Language, string> = { bash: 'Bash', python: 'Python', node: 'Node.js' };
const HELPER_MODE_LABELS: Record<HelperMode, string> = {
  auto: 'auto',
  api: 'api (tunnel)',
  bundled: 'bundled (files)',
};
const RUN_VIA_LABELS: Record<RunVia, string> = {
  direct: 'here (direct)',
  workers: 'the team’s workers',
};
const CHAIN_EVENT_LABELS: Record<ChainEvent, string> = {
  success: 'on success',
  failure: 'on failure',
  condition: 'on condition',
};
const CHAIN_TARGET_LABELS: Record<ChainTarget, string> = {
  same: 'on the same server',
  own: "on that job's own servers",
};
const NOTIFY_LABELS: Record<NotifyWhen, string> = {
  never: 'never',
  failure: 'on failure',
  always: 'always',
};
import { json, parseJsonField } from '../lib/format.ts';
import { askNotificationPermission } from '../lib/notify.ts';
import { useJobs } from '../store/jobs.ts';
import { useServers } from '../store/servers.ts';
import { useDiscardGuard } from '../lib/useDiscardGuard.ts';
import { useEditing } from '../lib/useEditing.ts';
import { useUi } from '../store/ui.ts';
import { CodeEditor } from './CodeEditor.tsx';
import { Badge, EmptyState, ErrorBanner, Field, Modal, ServerChecklist } from './common.tsx';
import { filterList, ListFilter, tagsOf, useListFilter } from './ListFilter.tsx';

const SAMPLES: Record<Language, string> = {
  bash: '#!/bin/bash\necho "Hello from $(hostname)"\n',
  python: 'print("Hello from Python")\ncronium.output({"ok": True})\n',
  node: 'console.log("Hello from Node.js");\ncronium.output({ ok: true });\n',
};

interface LinkRow {
  on: ChainEvent;
  jobId: string;
  servers: ChainTarget;
}

interface EnvRow {
  key: string;
  value: string;
  secret: boolean;
  /** A stored secret the user did not touch: sent as null so the core keeps it. */
  keep: boolean;
}

export function JobEditor({ job, onDone }: { job: Job | null; onDone: () => void }) {
  const save = useJobs((s) => s.save);
  const allJobs = useJobs((s) => s.jobs);
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
  const [links, setLinks] = useState<LinkRow[]>(job?.chain.map((l) => ({ ...l })) ?? []);
  const [desktopNotify, setDesktopNotify] = useState<NotifyWhen>(job?.desktopNotify ?? 'never');
  // The stored webhook URL never reaches the renderer: an empty field keeps it.
  const [webhookUrl, setWebhookUrl] = useState('');
  const [webhookStored, setWebhookStored] = useState(!!job?.webhook);
  const [webhookNotify, setWebhookNotify] = useState<'failure' | 'always'>(job?.webhook?.notify ?? 'failure');
  // Parameters as the CLI's --param takes them, one per line (the core's own parser reads them).
  const [paramText, setParamText] = useState((job?.params ?? []).map(formatParamSpec).join('\n'));
  const [keepRunning, setKeepRunning] = useState(job?.keepRunning ?? false);
  const [defaultVia, setDefaultVia] = useState<RunVia>(job?.defaultVia ?? 'direct');
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
    links,
    desktopNotify,
    webhookUrl,
    webhookStored,
    webhookNotify,
    paramText,
    keepRunning,
    defaultVia,
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
    let params: JobParam[];
    try {
      params = paramText
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map(parseParamSpec);
    } catch (err) {
      setErrors({ params: messageOf(err).replace(/^Invalid input — param: /, '') });
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
      chain: links,
      desktopNotify,
      webhook: webhookUrl
        ? { url: webhookUrl, notify: webhookNotify }
        : webhookStored
          ? { url: null, notify: webhookNotify }
          : null,
      params,
      keepRunning,
      defaultVia,
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
  const chainError = Object.entries(errors).find(([k]) => k.startsWith('chain'))?.[1];
  const webhookError = Object.entries(errors).find(([k]) => k.startsWith('webhook'))?.[1];
  const others = allJobs.filter((j) => j.id !== job?.id);
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
            label="Runs go to"
            error={errors.defaultVia}
            hint="workers: queued for the team’s cronium worker processes (team mode)"
          >
            <select
              value={defaultVia}
              onChange={(e) => setDefaultVia(e.target.value as RunVia)}
              data-testid="job-via"
            >
              {RUN_VIA.map((v) => (
                <option key={v} value={v}>
                  {RUN_VIA_LABELS[v]}
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
          <Field
            label="Parameters"
            error={errors.params ?? Object.entries(errors).find(([k]) => k.startsWith('params.'))?.[1]}
            hint="one per line: name:type[=default] # description — types string, number, boolean, choice(a|b)"
          >
            <textarea
              rows={3}
              value={paramText}
              onChange={(e) => setParamText(e.target.value)}
              className="mono"
              data-testid="job-params"
              placeholder="region:choice(eu|us)=eu # where to deploy"
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
        <Field
          label="Then run"
          error={chainError}
          hint="after each execution; the next job gets its output as input"
        >
          <div className="env-rows" data-testid="chain-links">
            {links.map((link, i) => {
              const change = (patch: Partial<LinkRow>) =>
                setLinks(links.map((l, j) => (j === i ? { ...l, ...patch } : l)));
              return (
                <div className="env-row" key={i} data-testid="chain-link">
                  <select
                    value={link.on}
                    aria-label="When"
                    data-testid="chain-on"
                    onChange={(e) => change({ on: e.target.value as ChainEvent })}
                  >
                    {CHAIN_EVENTS.map((on) => (
                      <option key={on} value={on}>
                        {CHAIN_EVENT_LABELS[on]}
                      </option>
                    ))}
                  </select>
                  <select
                    value={link.jobId}
                    aria-label="Job"
                    data-testid="chain-job"
                    onChange={(e) => change({ jobId: e.target.value })}
                  >
                    <option value="">choose a job…</option>
                    {others.map((j) => (
                      <option key={j.id} value={j.id}>
                        {j.name}
                      </option>
                    ))}
                  </select>
                  <select
                    value={link.servers}
                    aria-label="Where"
                    data-testid="chain-servers"
                    onChange={(e) => change({ servers: e.target.value as ChainTarget })}
                  >
                    {CHAIN_TARGETS.map((t) => (
                      <option key={t} value={t}>
                        {CHAIN_TARGET_LABELS[t]}
                      </option>
                    ))}
                  </select>
                  <button
                    type="button"
                    className="ghost"
                    onClick={() => setLinks(links.filter((_, j) => j !== i))}
                    aria-label="Remove link"
                  >
                    ✕
                  </button>
                </div>
              );
            })}
            <button
              type="button"
              className="ghost"
              data-testid="add-chain-link"
              onClick={() => setLinks([...links, { on: 'success', jobId: '', servers: 'same' }])}
            >
              + Add a job to run next
            </button>
          </div>
        </Field>
        <div className="row">
          <Field label="Desktop notification" error={errors.desktopNotify}>
            <select
              value={desktopNotify}
              data-testid="job-desktop-notify"
              onChange={(e) => {
                const next = e.target.value as NotifyWhen;
                askNotificationPermission(next);
                setDesktopNotify(next);
              }}
            >
              {NOTIFY_WHEN.map((w) => (
                <option key={w} value={w}>
                  {NOTIFY_LABELS[w]}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Webhook URL"
            error={webhookError}
            hint="POSTs a JSON summary of each run; kept secret, like a password"
          >
            <div className="env-row">
              <input
                type="password"
                autoComplete="off"
                value={webhookUrl}
                data-testid="job-webhook"
                placeholder={
                  webhookStored && job?.webhook ? `${job.webhook.origin}/… (unchanged)` : 'https://…'
                }
                onChange={(e) => setWebhookUrl(e.target.value)}
              />
              <select
                value={webhookNotify}
                aria-label="Send the webhook"
                data-testid="job-webhook-notify"
                onChange={(e) => setWebhookNotify(e.target.value as 'failure' | 'always')}
              >
                <option value="failure">on failure</option>
                <option value="always">always</option>
              </select>
              {(webhookStored || webhookUrl) && (
                <button
                  type="button"
                  className="ghost"
                  aria-label="Remove the webhook"
                  data-testid="job-webhook-remove"
                  onClick={() => {
                    setWebhookStored(false);
                    setWebhookUrl('');
                  }}
                >
                  ✕
                </button>
              )}
            </div>
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
  const [filter, setFilter] = useListFilter();
  const shown = filterList(jobs, filter, (j) => [j.name, j.language]);

  useEffect(() => {
    void load();
    void loadServers();
  }, [load, loadServers]);
  const del = (job: Job) => {
    // Links to it from other jobs go with it: say which.
    const from = jobs.filter((j) => j.chain.some((l) => l.jobId === job.id)).map((j) => j.name);
    const links = from.length ? ` The links to it from ${from.join(', ')} are removed too.` : '';
    return confirmRemove(`Remove the job ${job.name}? Its history is kept.${links}`, job.name, () =>
      remove(job.id),
    );
  };

  return (
    <section className="view" data-testid="jobs-view">
      <header className="view-header">
        <h1>Jobs</h1>
        <button onClick={() => setEditing('new')} data-testid="add-job" title="Ctrl+N">
          + New job
        </button>
      </header>
      <ErrorBanner message={error} />
      {jobs.length > 0 && (
        <ListFilter
          value={filter}
          onChange={setFilter}
          tags={tagsOf(jobs)}
          placeholder="Search job name, language…"
          testIdPrefix="jobs"
          shown={shown.length}
          total={jobs.length}
        />
      )}
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
            {shown.map((j) => (
              <tr key={j.id} data-testid={`job-row-${j.name}`}>
                <td>
                  <strong>{j.name}</strong>
                  {j.tags.map((t) => (
                    <span key={t} className="tag">
                      {t}
                    </span>
                  ))}
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
