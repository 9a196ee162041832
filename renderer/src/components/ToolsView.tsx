import { useEffect, useState } from 'react';

import { ApiError, messageOf } from '../api/client.ts';
import { TOOL_TYPES, type ToolCredential, type ToolInput, type ToolType } from '../api/types.ts';
import { when } from '../lib/format.ts';
import { useDiscardGuard } from '../lib/useDiscardGuard.ts';
import { useEditing } from '../lib/useEditing.ts';
import { useTools } from '../store/tools.ts';
import { useUi } from '../store/ui.ts';
import { EmptyState, ErrorBanner, Field, Modal } from './common.tsx';

const LABELS: Record<ToolType, string> = { slack: 'Slack', discord: 'Discord', email: 'Email (SMTP)' };

interface FormState {
  type: ToolType;
  name: string;
  webhookUrl: string;
  host: string;
  port: string;
  secure: boolean;
  user: string;
  password: string;
  from: string;
}

const EMPTY: FormState = {
  type: 'slack',
  name: '',
  webhookUrl: '',
  host: '',
  port: '587',
  secure: false,
  user: '',
  password: '',
  from: '',
};

/** The contract's input from the form: only the fields of the chosen type (empty optional ones left out). */
function inputOf(f: FormState): ToolInput {
  if (f.type !== 'email') return { type: f.type, name: f.name, webhookUrl: f.webhookUrl };
  return {
    type: 'email',
    name: f.name,
    host: f.host,
    port: f.port,
    secure: f.secure,
    user: f.user.trim() ? f.user : undefined,
    password: f.password ? f.password : undefined,
    from: f.from,
  };
}

/** Adding a credential: secrets are typed here once, sent to the core, and never shown again. */
function ToolForm({ onDone }: { onDone: () => void }) {
  const add = useTools((s) => s.add);
  const notify = useUi((s) => s.notify);
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));
  const close = useDiscardGuard(JSON.stringify(form) !== JSON.stringify(EMPTY), onDone, 'The new tool');
  const submit = async () => {
    setErrors({});
    setFailure(null);
    try {
      await add(inputOf(form));
      notify(`Saved ${form.name}.`);
      onDone();
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) setErrors(err.fields);
      else setFailure(messageOf(err));
    }
  };
  const webhook = form.type !== 'email';
  return (
    <Modal title="Add a tool" onClose={close}>
      <form
        className="form"
        data-testid="tool-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <ErrorBanner message={failure} />
        <Field label="Type" error={errors.type}>
          <select
            value={form.type}
            onChange={(e) => set({ type: e.target.value as ToolType })}
            data-testid="tool-type"
          >
            {TOOL_TYPES.map((t) => (
              <option key={t} value={t}>
                {LABELS[t]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Name" error={errors.name} hint="scripts use the newest tool of each type">
          <input value={form.name} onChange={(e) => set({ name: e.target.value })} data-testid="tool-name" />
        </Field>
        {webhook ? (
          <Field
            label="Incoming webhook URL"
            error={errors.webhookUrl}
            hint="a secret: stored encrypted, never shown again"
          >
            <input
              type="password"
              autoComplete="off"
              value={form.webhookUrl}
              onChange={(e) => set({ webhookUrl: e.target.value })}
              data-testid="tool-webhook-url"
            />
          </Field>
        ) : (
          <>
            <Field label="SMTP server" error={errors.host}>
              <input
                value={form.host}
                onChange={(e) => set({ host: e.target.value })}
                data-testid="tool-host"
              />
            </Field>
            <Field label="Port" error={errors.port} hint="587 (STARTTLS when offered) or 465 (TLS)">
              <input
                value={form.port}
                onChange={(e) => set({ port: e.target.value })}
                data-testid="tool-port"
              />
            </Field>
            <label className="check">
              <input
                type="checkbox"
                checked={form.secure}
                onChange={(e) => set({ secure: e.target.checked })}
              />{' '}
              TLS from the start (SMTPS)
            </label>
            <Field label="User" error={errors.user}>
              <input
                value={form.user}
                onChange={(e) => set({ user: e.target.value })}
                data-testid="tool-user"
              />
            </Field>
            <Field label="Password" error={errors.password} hint="stored encrypted, never shown again">
              <input
                type="password"
                autoComplete="off"
                value={form.password}
                onChange={(e) => set({ password: e.target.value })}
                data-testid="tool-password"
              />
            </Field>
            <Field label="From" error={errors.from}>
              <input
                value={form.from}
                onChange={(e) => set({ from: e.target.value })}
                data-testid="tool-from"
              />
            </Field>
          </>
        )}
        <footer>
          <button type="button" className="ghost" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" data-testid="tool-save">
            Save
          </button>
        </footer>
      </form>
    </Modal>
  );
}

/** Tools: the credentials scripts' tool actions (Slack, Discord, email) are sent with. */
export function ToolsView() {
  const { tools, loaded, error, load, remove } = useTools();
  const confirmRemove = useUi((s) => s.confirmRemove);
  const [editing, setEditing] = useEditing<ToolCredential>();
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section className="view" data-testid="tools-view">
      <header className="view-header">
        <h1>Tools</h1>
        <button onClick={() => setEditing('new')} data-testid="tool-add">
          + Add tool
        </button>
      </header>
      <ErrorBanner message={error} />
      {loaded && tools.length === 0 ? (
        <EmptyState title="No tools yet">
          Scripts send Slack and Discord messages and email with cronium.sendSlackMessage(),
          sendDiscordMessage() and sendEmail(); the app sends them with the credentials you add here.
        </EmptyState>
      ) : (
        <table className="table" data-testid="tools-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Where</th>
              <th>Added</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tools.map((t) => (
              <tr key={t.id} data-testid="tool-row">
                <td className="mono">{t.name}</td>
                <td>{LABELS[t.type]}</td>
                <td className="small">{t.summary}</td>
                <td>{when(t.createdAt)}</td>
                <td className="actions">
                  <button
                    className="ghost danger-text"
                    data-testid="tool-remove"
                    onClick={() =>
                      void confirmRemove(`Remove the tool ${t.name}?`, t.name, () => remove(t.name))
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
      {editing && <ToolForm onDone={() => setEditing(null)} />}
    </section>
  );
}
