import { useState } from 'react';

import { ApiError, messageOf } from '../api/client.ts';
import { paramValue, resolveParams, type HelperMode, type JobParam } from '../api/types.ts';
import { json, parseJsonField } from '../lib/format.ts';
import { useJobs } from '../store/jobs.ts';
import { useLive } from '../store/live.ts';
import { useServers } from '../store/servers.ts';
import { useUi } from '../store/ui.ts';
import { ErrorBanner, Field, Modal, ServerChecklist } from './common.tsx';
import { tagsOf } from './ListFilter.tsx';

/** Pick servers, input and helper mode; start; switch to the live view. */
export function RunDialog({ jobId }: { jobId: string }) {
  const job = useJobs((s) => s.jobs.find((j) => j.id === jobId));
  const servers = useServers((s) => s.servers);
  const startRun = useLive((s) => s.startRun);
  const { openRunDialog, showRun } = useUi();
  const [serverIds, setServerIds] = useState<string[]>(job?.defaultServerIds ?? []);
  const [input, setInput] = useState(
    job?.defaultInput === null || job?.defaultInput === undefined ? '' : json(job.defaultInput),
  );
  const [helperMode, setHelperMode] = useState<HelperMode>(job?.helperMode ?? 'auto');
  // Each parameter's field as typed (its default filled in); checked with the core's own rule.
  const [params, setParams] = useState<Record<string, string>>(() =>
    Object.fromEntries((job?.params ?? []).map((p) => [p.name, p.default === null ? '' : String(p.default)])),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const close = () => openRunDialog(null);
  if (!job) return null;

  const start = async () => {
    setErrors({});
    setFailure(null);
    const parsed = parseJsonField(input);
    if ('error' in parsed) return setErrors({ input: parsed.error });
    if (serverIds.length === 0) return setErrors({ serverIds: 'Choose at least one server.' });
    const checked = resolveParams(job.params, params);
    if ('errors' in checked) return setErrors(checked.errors);
    setStarting(true);
    try {
      const run = await startRun({
        jobId: job.id,
        serverIds,
        input: input.trim() === '' ? undefined : parsed.value,
        helperMode,
        trigger: 'manual',
        params: checked.values,
      });
      close();
      showRun(run.id);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) setErrors(err.fields);
      else setFailure(messageOf(err));
    } finally {
      setStarting(false);
    }
  };

  return (
    <Modal title={`Run ${job.name}`} onClose={close}>
      <form
        className="form"
        data-testid="run-dialog"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
        onKeyDown={(e) => {
          if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
            e.preventDefault();
            void start();
          }
        }}
      >
        <ErrorBanner message={failure} />
        <Field label="Servers" error={errors.serverIds}>
          {servers.length > 1 && (
            <div className="select-by" data-testid="run-select-by">
              <span className="muted small">Select:</span>
              <button
                type="button"
                className="ghost small"
                onClick={() => setServerIds(servers.map((s) => s.id))}
                data-testid="run-select-all"
              >
                all
              </button>
              <button
                type="button"
                className="ghost small"
                onClick={() => setServerIds([])}
                data-testid="run-select-none"
              >
                none
              </button>
              {tagsOf(servers).map((tag) => {
                const tagged = servers.filter((s) => s.tags.includes(tag)).map((s) => s.id);
                return (
                  <button
                    key={tag}
                    type="button"
                    className="ghost small"
                    title={`Add the ${tagged.length} server${tagged.length === 1 ? '' : 's'} tagged ${tag}`}
                    onClick={() => setServerIds((ids) => [...new Set([...ids, ...tagged])])}
                    data-testid={`run-select-tag-${tag}`}
                  >
                    tag:{tag} ({tagged.length})
                  </button>
                );
              })}
            </div>
          )}
          <ServerChecklist
            servers={servers}
            selected={serverIds}
            onChange={setServerIds}
            empty="Add a server first."
            testIdPrefix="run-server-"
          />
        </Field>
        {job.params.map((p) => (
          <ParamField
            key={p.name}
            param={p}
            value={params[p.name] ?? ''}
            error={errors[`params.${p.name}`]}
            onChange={(value) => {
              setParams({ ...params, [p.name]: value });
              // Said as soon as it is typed, by the rule the core checks with.
              const check = value === '' ? null : paramValue(p, value);
              const { [`params.${p.name}`]: _, ...rest } = errors;
              setErrors(check && 'error' in check ? { ...rest, [`params.${p.name}`]: check.error } : rest);
            }}
          />
        ))}
        <Field
          label="Input (JSON)"
          error={errors.input}
          hint={
            job.params.length
              ? 'cronium.input() returns this object with the parameters merged over it'
              : 'what cronium.input() returns'
          }
        >
          <textarea
            rows={4}
            className="mono"
            value={input}
            onChange={(e) => setInput(e.target.value)}
            data-testid="run-input"
          />
        </Field>
        <Field label="Helpers" error={errors.helperMode}>
          <select
            value={helperMode}
            onChange={(e) => setHelperMode(e.target.value as HelperMode)}
            data-testid="run-helpers"
          >
            <option value="auto">auto</option>
            <option value="api">api</option>
            <option value="bundled">bundled</option>
          </select>
        </Field>
        <footer>
          <span className="muted small">Ctrl+Enter starts</span>
          <button type="button" className="ghost" onClick={close}>
            Cancel
          </button>
          <button type="submit" disabled={starting} data-testid="run-start">
            {starting
              ? 'Starting…'
              : `▶ Run on ${serverIds.length} server${serverIds.length === 1 ? '' : 's'}`}
          </button>
        </footer>
      </form>
    </Modal>
  );
}

/** One job parameter as a form field: text, a number, true/false, or one of its choices. */
function ParamField({
  param,
  value,
  error,
  onChange,
}: {
  param: JobParam;
  value: string;
  error?: string;
  onChange: (value: string) => void;
}) {
  const required = param.default === null;
  const label = `${param.name}${required ? ' *' : ''} (${param.type === 'choice' ? 'one of' : param.type})`;
  const options =
    param.type === 'boolean' ? ['true', 'false'] : param.type === 'choice' ? param.choices : null;
  return (
    <Field label={label} error={error} hint={param.description || (required ? 'required' : undefined)}>
      {options ? (
        <select
          value={value}
          onChange={(e) => onChange(e.target.value)}
          data-testid={`run-param-${param.name}`}
        >
          {(required || value === '') && <option value="">— choose —</option>}
          {options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : (
        <input
          value={value}
          inputMode={param.type === 'number' ? 'decimal' : undefined}
          onChange={(e) => onChange(e.target.value)}
          data-testid={`run-param-${param.name}`}
          aria-invalid={error ? true : undefined}
        />
      )}
    </Field>
  );
}
