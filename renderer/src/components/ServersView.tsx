import { useEffect, useState } from 'react';

import { ApiError, messageOf } from '../api/client.ts';
import type { Server, ServerHelperMode, ServerInput, ServerTestResult } from '../api/types.ts';
import { serverName, serverStatus, useServers } from '../store/servers.ts';
import { useDiscardGuard } from '../lib/useDiscardGuard.ts';
import { useEditing } from '../lib/useEditing.ts';
import { useUi } from '../store/ui.ts';
import { Badge, EmptyState, ErrorBanner, Field, Modal } from './common.tsx';
import { ImportDialog } from './ImportDialog.tsx';
import { filterList, ListFilter, tagsOf, useListFilter } from './ListFilter.tsx';
import { ServerHelperField } from './ServerHelperField.tsx';

type AuthType = 'key' | 'password' | 'agent';

interface FormState {
  name: string;
  host: string;
  port: string;
  username: string;
  authType: AuthType;
  keyPath: string;
  passphrase: string;
  /** Remove the stored passphrase on save (the key has none now). */
  clearSecret: boolean;
  password: string;
  jumpServerId: string;
  tags: string;
  description: string;
  helperMode: ServerHelperMode;
}

function formOf(server: Server | null): FormState {
  return {
    name: server?.name ?? '',
    host: server?.host ?? '',
    port: String(server?.port ?? 22),
    username: server?.username ?? '',
    authType: server?.authType ?? 'key',
    keyPath: server?.keyPath ?? '',
    passphrase: '',
    clearSecret: false,
    password: '',
    jumpServerId: server?.jumpServerId ?? '',
    tags: server?.tags.join(', ') ?? '',
    description: server?.description ?? '',
    helperMode: server?.helperMode ?? 'default',
  };
}

function inputOf(form: FormState): ServerInput {
  const auth: ServerInput['auth'] =
    form.authType === 'key'
      ? {
          type: 'key',
          keyPath: form.keyPath,
          passphrase: form.clearSecret ? null : form.passphrase || undefined,
        }
      : form.authType === 'password'
        ? { type: 'password', password: form.password || undefined }
        : { type: 'agent' };
  return {
    name: form.name,
    host: form.host,
    port: form.port as unknown as number,
    username: form.username,
    auth,
    jumpServerId: form.jumpServerId || null,
    tags: form.tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    description: form.description,
    helperMode: form.helperMode,
  };
}

export function ServerForm({ server, onDone }: { server: Server | null; onDone: () => void }) {
  const { servers, save } = useServers();
  const notify = useUi((s) => s.notify);
  const [form, setForm] = useState(() => formOf(server));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));
  const [initial] = useState(form);
  const close = useDiscardGuard(
    JSON.stringify(form) !== JSON.stringify(initial),
    onDone,
    server ? `The server ${server.name}` : 'The new server',
  );

  const submit = async () => {
    setSaving(true);
    setErrors({});
    setFailure(null);
    try {
      const saved = await save(inputOf(form), server?.id);
      notify(`Saved ${saved.name}.`);
      onDone();
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) setErrors(err.fields);
      else setFailure(messageOf(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal title={server ? `Edit ${server.name}` : 'Add a server'} onClose={close}>
      <form
        className="form"
        data-testid="server-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        // Messages describe what was sent: editing makes them stale.
        onChange={() => Object.keys(errors).length && setErrors({})}
      >
        <ErrorBanner message={failure} />
        <div className="row">
          <Field label="Name" error={errors.name}>
            <input
              autoFocus
              value={form.name}
              onChange={(e) => set({ name: e.target.value })}
              data-testid="server-name"
              placeholder="web1"
            />
          </Field>
        </div>
        <div className="row">
          <Field label="Host" error={errors.host}>
            <input
              value={form.host}
              onChange={(e) => set({ host: e.target.value })}
              data-testid="server-host"
              placeholder="10.0.0.11 or web1.example.com"
            />
          </Field>
          <Field label="Port" error={errors.port}>
            <input
              value={form.port}
              onChange={(e) => set({ port: e.target.value })}
              data-testid="server-port"
              className="narrow"
            />
          </Field>
          <Field label="User" error={errors.username}>
            <input
              value={form.username}
              onChange={(e) => set({ username: e.target.value })}
              data-testid="server-user"
              placeholder="deploy"
            />
          </Field>
        </div>
        <Field label="Authentication" error={errors.auth}>
          <select
            value={form.authType}
            onChange={(e) => set({ authType: e.target.value as AuthType })}
            data-testid="server-auth"
          >
            <option value="key">Private key file</option>
            <option value="password">Password</option>
            <option value="agent">SSH agent</option>
          </select>
        </Field>
        {form.authType === 'key' && (
          <div className="row">
            <Field label="Key file" error={errors['auth.keyPath']} hint="OpenSSH, PEM or PuTTY format">
              <input
                value={form.keyPath}
                onChange={(e) => set({ keyPath: e.target.value })}
                data-testid="server-key"
                placeholder="~/.ssh/id_ed25519"
              />
            </Field>
            <Field
              label="Passphrase"
              error={errors['auth.passphrase']}
              hint={
                form.clearSecret
                  ? 'the stored one is removed on save'
                  : server?.hasSecret
                    ? 'leave empty to keep the stored one'
                    : 'if the key has one'
              }
            >
              <input
                type="password"
                value={form.passphrase}
                disabled={form.clearSecret}
                onChange={(e) => set({ passphrase: e.target.value })}
                data-testid="server-passphrase"
              />
            </Field>
          </div>
        )}
        {form.authType === 'key' && server?.hasSecret && server.authType === 'key' && (
          <label className="check">
            <input
              type="checkbox"
              checked={form.clearSecret}
              onChange={(e) => set({ clearSecret: e.target.checked, passphrase: '' })}
              data-testid="server-clear-secret"
            />{' '}
            Remove the stored passphrase (the key has none now)
          </label>
        )}
        {form.authType === 'password' && (
          <Field
            label="Password"
            error={errors['auth.password']}
            hint={server?.hasSecret ? 'leave empty to keep the stored one' : 'stored encrypted'}
          >
            <input
              type="password"
              value={form.password}
              onChange={(e) => set({ password: e.target.value })}
              data-testid="server-password"
            />
          </Field>
        )}
        <Field label="Jump server" error={errors.jumpServerId} hint="hop through another saved server">
          <select
            value={form.jumpServerId}
            onChange={(e) => set({ jumpServerId: e.target.value })}
            data-testid="server-jump"
          >
            <option value="">none</option>
            {servers
              .filter((s) => s.id !== server?.id)
              .map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
          </select>
        </Field>
        <ServerHelperField
          value={form.helperMode}
          error={errors.helperMode}
          onChange={(helperMode) => set({ helperMode })}
        />
        <div className="row">
          <Field label="Tags" error={errors.tags} hint="comma-separated">
            <input value={form.tags} onChange={(e) => set({ tags: e.target.value })} />
          </Field>
        </div>
        <Field label="Description" error={errors.description}>
          <textarea
            rows={2}
            value={form.description}
            onChange={(e) => set({ description: e.target.value })}
          />
        </Field>
        <footer>
          <button type="button" className="ghost" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" disabled={saving} data-testid="server-save">
            {saving ? 'Saving…' : 'Save'}
          </button>
        </footer>
      </form>
    </Modal>
  );
}

/** Asks before trusting a new host key; refuses a changed one plainly, with both fingerprints. */
function HostKeyPrompt({
  server,
  result,
  onClose,
  onFailure,
}: {
  server: Server;
  result: ServerTestResult;
  onClose: () => void;
  /** A failure after the key (a refused login, say): the dialog closes and the list shows it. */
  onFailure: (message: string) => void;
}) {
  const trust = useServers((s) => s.trust);
  const notify = useUi((s) => s.notify);
  const [confirmed, setConfirmed] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const changed = result.error?.kind === 'host_key_mismatch';
  const accept = async () => {
    try {
      const after = await trust(server.id, result.fingerprint!);
      onClose();
      if (after.online) notify(`Trusted ${server.name}'s host key; it is online.`);
      else onFailure(after.error?.message ?? 'offline');
    } catch (err) {
      // Only a question about the key itself belongs in this dialog. Anything after the key (a refused
      // login, say) is the server's state: close the dialog and show it there.
      if (err instanceof ApiError && err.kind.startsWith('host_key')) return setFailure(messageOf(err));
      onClose();
      onFailure(messageOf(err));
    }
  };
  return (
    <Modal
      title={changed ? `The host key of ${server.name} has CHANGED` : `Trust ${server.name}?`}
      onClose={onClose}
    >
      <div
        data-testid={changed ? 'host-key-changed' : 'host-key-prompt'}
        className={changed ? 'danger-box' : ''}
      >
        <ErrorBanner message={failure} />
        {changed ? (
          <>
            <p>{result.error?.message}</p>
            <p>Trust the new key only if you know why it changed (the server was reinstalled, say).</p>
            <label className="check">
              <input
                type="checkbox"
                checked={confirmed}
                onChange={(e) => setConfirmed(e.target.checked)}
                data-testid="confirm-new-key"
              />
              I checked the new key with the server's administrator
            </label>
          </>
        ) : (
          <>
            <p>
              This is the first connection to {server.host}. Compare its key's fingerprint with the one the
              server's administrator gave you:
            </p>
            <code className="fingerprint" data-testid="fingerprint">
              {result.fingerprint}
            </code>
          </>
        )}
        <footer>
          <button className="ghost" onClick={onClose}>
            Cancel
          </button>
          <button
            className={changed ? 'danger' : ''}
            disabled={(changed && !confirmed) || !result.fingerprint}
            onClick={() => void accept()}
            data-testid="trust-key"
          >
            {changed ? 'Trust the new key' : 'Trust and connect'}
          </button>
        </footer>
      </div>
    </Modal>
  );
}

export function ServersView() {
  const { servers, loaded, error, load, remove, test } = useServers();
  const { notify, confirmRemove } = useUi();
  const [editing, setEditing] = useEditing<Server>();
  const [importing, setImporting] = useState(false);
  const [filter, setFilter] = useListFilter();
  const shown = filterList(servers, filter, (s) => [s.name, s.host, s.username, s.description]);
  const [testing, setTesting] = useState<string | null>(null);
  const [prompt, setPrompt] = useState<{ server: Server; result: ServerTestResult } | null>(null);
  // Failures of this session the core did not record as a check (trusting a key, then a refused login):
  // shown in the row until the server is tested again.
  const [failures, setFailures] = useState<Record<string, string>>({});

  useEffect(() => {
    void load();
  }, [load]);
  const runTest = async (server: Server) => {
    setTesting(server.id);
    setFailures(({ [server.id]: _, ...rest }) => rest);
    try {
      const result = await test(server.id);
      if (result.online)
        notify(`${server.name} is online — ${result.os ?? 'unknown OS'} (${result.latencyMs} ms).`);
      else if (result.error?.kind === 'host_key_unknown' || result.error?.kind === 'host_key_mismatch')
        setPrompt({ server, result });
      else notify(`${server.name}: ${result.error?.message}`, 'bad');
    } catch (err) {
      notify(messageOf(err), 'bad');
    } finally {
      setTesting(null);
    }
  };

  const del = (server: Server) =>
    confirmRemove(`Remove ${server.name}? Its history is kept.`, server.name, () => remove(server.id));
  // A server others hop through cannot be removed while they do; the list says so before anyone tries.
  const hoppingThrough = (server: Server) => servers.filter((o) => o.jumpServerId === server.id);

  return (
    <section className="view" data-testid="servers-view">
      <header className="view-header">
        <h1>Servers</h1>
        <span className="spacer" />
        <button className="ghost" onClick={() => setImporting(true)} data-testid="import-servers">
          Import from SSH config…
        </button>
        <button onClick={() => setEditing('new')} data-testid="add-server" title="Ctrl+N">
          + Add server
        </button>
      </header>
      <ErrorBanner message={error} />
      {servers.length > 0 && (
        <ListFilter
          value={filter}
          onChange={setFilter}
          tags={tagsOf(servers)}
          placeholder="Search name, address, user…"
          testIdPrefix="servers"
          shown={shown.length}
          total={servers.length}
        />
      )}
      {loaded && servers.length === 0 ? (
        <EmptyState
          title="No servers yet"
          action={<button onClick={() => setEditing('new')}>Add your first server</button>}
        >
          Add the SSH servers you run scripts on: a host, a user, and a key, a password or your SSH agent. Or
          import the hosts of your ~/.ssh/config.
        </EmptyState>
      ) : (
        <table className="table" data-testid="servers-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Address</th>
              <th>Auth</th>
              <th>Jump</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((s) => {
              const status = serverStatus(s);
              const dependents = hoppingThrough(s);
              const offlineReason =
                failures[s.id] ?? (s.lastCheck && !s.lastCheck.online ? s.lastCheck.error : null);
              const inUse =
                dependents.length > 0
                  ? `Jump server for ${dependents.map((d) => d.name).join(', ')}: change ${dependents.length === 1 ? 'that server' : 'those servers'} first to remove it.`
                  : null;
              return (
                <tr key={s.id} data-testid={`server-row-${s.name}`}>
                  <td>
                    <strong>{s.name}</strong>
                    {s.tags.map((t) => (
                      <span key={t} className="tag">
                        {t}
                      </span>
                    ))}
                  </td>
                  <td className="mono">
                    {s.username}@{s.host}:{s.port}
                  </td>
                  <td>{s.authType}</td>
                  <td>{s.jumpServerId ? serverName(servers, s.jumpServerId) : '—'}</td>
                  <td>
                    <Badge
                      tone={failures[s.id] ? 'bad' : status.tone}
                      title={s.lastCheck?.error ?? s.lastCheck?.os ?? undefined}
                      testId="server-status"
                    >
                      {failures[s.id] ? 'offline' : status.label}
                    </Badge>
                    {s.lastCheck?.os && <span className="muted small"> {s.lastCheck.os}</span>}
                    {offlineReason && (
                      <div className="small error-text" data-testid="server-offline-reason">
                        {offlineReason}
                      </div>
                    )}
                    {inUse && (
                      <div className="small muted" data-testid="server-in-use">
                        jump server for {dependents.map((d) => d.name).join(', ')}
                      </div>
                    )}
                  </td>
                  <td className="actions">
                    <button
                      className="ghost"
                      disabled={testing === s.id}
                      onClick={() => void runTest(s)}
                      data-testid="test-server"
                    >
                      {testing === s.id ? 'Testing…' : 'Test'}
                    </button>
                    <button className="ghost" onClick={() => setEditing(s)}>
                      Edit
                    </button>
                    <button
                      className="ghost danger-text"
                      onClick={() => void del(s)}
                      disabled={inUse !== null}
                      title={inUse ?? undefined}
                      data-testid="delete-server"
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {importing && <ImportDialog onClose={() => setImporting(false)} />}
      {editing && <ServerForm server={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      {prompt && (
        <HostKeyPrompt
          server={prompt.server}
          result={prompt.result}
          onClose={() => setPrompt(null)}
          onFailure={(message) => {
            setFailures((f) => ({ ...f, [prompt.server.id]: message }));
            notify(`${prompt.server.name}: ${message}`, 'bad');
          }}
        />
      )}
    </section>
  );
}
