import { useCallback, useEffect, useState } from 'react';

import { api, ApiError, messageOf } from '../api/client.ts';
import type { ImportedServer, ImportPlan } from '../api/types.ts';
import { useServers } from '../store/servers.ts';
import { useUi } from '../store/ui.ts';
import { Badge, ErrorBanner, Field, Modal } from './common.tsx';

const ACTION_LABEL: Record<ImportedServer['action'], string> = {
  create: 'new',
  update: 'update',
  unchanged: 'unchanged',
};

function address(s: ImportedServer): string {
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  return `${s.username}@${host}:${s.port}`;
}

function hostKeyText(s: ImportedServer): string {
  if (!s.hostKey) return 'not in known_hosts: asked on first connect';
  if (s.hostKey.status === 'new') return `trusted from known_hosts (${s.hostKey.keyType})`;
  if (s.hostKey.status === 'trusted') return 'already trusted';
  return 'known_hosts has another key: the trusted one is kept';
}

/**
 * Import from ~/.ssh/config and known_hosts: the hosts found, each with what it becomes (address, login,
 * jump server, host key), checkboxes to choose, and what cannot be imported and why.
 */
export function ImportDialog({ onClose }: { onClose: () => void }) {
  const load = useServers((s) => s.load);
  const notify = useUi((s) => s.notify);
  const [sshConfig, setSshConfig] = useState('');
  const [knownHosts, setKnownHosts] = useState('');
  const [plan, setPlan] = useState<ImportPlan | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const request = useCallback(
    () => ({
      sshConfig: sshConfig.trim() || undefined,
      knownHosts: knownHosts.trim() ? [knownHosts.trim()] : undefined,
    }),
    [sshConfig, knownHosts],
  );

  const preview = useCallback(async () => {
    setBusy(true);
    setErrors({});
    setFailure(null);
    try {
      const found = await api().importServers({ ...request(), dryRun: true });
      setPlan(found);
      setChosen(new Set(found.servers.filter((s) => s.selected).map((s) => s.name)));
    } catch (err) {
      setPlan(null);
      if (err instanceof ApiError && Object.keys(err.fields).length) setErrors(err.fields);
      else setFailure(messageOf(err));
    } finally {
      setBusy(false);
    }
  }, [request]);

  // The default files are looked at as soon as the dialog opens.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => void preview(), []);

  // A chosen server brings the jump servers it hops through.
  const needed = new Set<string>();
  if (plan) {
    const byName = new Map(plan.servers.map((s) => [s.name, s]));
    for (const name of chosen)
      for (let j = byName.get(name)?.jump; j && !needed.has(j); j = byName.get(j)?.jump) needed.add(j);
  }
  const selected = plan ? plan.servers.filter((s) => chosen.has(s.name) || needed.has(s.name)) : [];
  const toggle = (name: string, on: boolean) =>
    setChosen((c) => {
      const next = new Set(c);
      if (on) next.add(name);
      else next.delete(name);
      return next;
    });

  const apply = async () => {
    setBusy(true);
    setFailure(null);
    try {
      const done = await api().importServers({ ...request(), select: selected.map((s) => s.name) });
      const made = done.servers.filter((s) => s.selected && s.action !== 'unchanged').length;
      await load();
      notify(`Imported ${made} server${made === 1 ? '' : 's'} from your SSH config.`);
      onClose();
    } catch (err) {
      setFailure(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="Import from SSH config" onClose={onClose} wide testId="import-dialog">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void preview();
        }}
      >
        <div className="row">
          <Field label="ssh_config file" error={errors.sshConfig} hint="empty: ~/.ssh/config">
            <input
              value={sshConfig}
              onChange={(e) => setSshConfig(e.target.value)}
              placeholder="~/.ssh/config"
              data-testid="import-ssh-config"
            />
          </Field>
          <Field
            label="known_hosts file"
            error={errors.knownHosts}
            hint="empty: the files ssh reads for each host"
          >
            <input
              value={knownHosts}
              onChange={(e) => setKnownHosts(e.target.value)}
              placeholder="~/.ssh/known_hosts"
              data-testid="import-known-hosts"
            />
          </Field>
        </div>
        <footer>
          <button type="submit" className="ghost" disabled={busy} data-testid="import-preview">
            {busy ? 'Reading…' : 'Read these files'}
          </button>
        </footer>
      </form>
      <ErrorBanner message={failure} />
      {plan && !plan.sshConfig && <p className="muted">No ssh_config file was found.</p>}
      {plan && plan.servers.length > 0 && (
        <table className="table" data-testid="import-table">
          <thead>
            <tr>
              <th />
              <th>Name</th>
              <th>Becomes</th>
              <th>Host key</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {plan.servers.map((s) => {
              const required = needed.has(s.name);
              return (
                <tr key={s.name} data-testid={`import-row-${s.name}`}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Import ${s.name}`}
                      checked={chosen.has(s.name) || required}
                      disabled={required}
                      title={required ? 'a chosen server jumps through it' : undefined}
                      onChange={(e) => toggle(s.name, e.target.checked)}
                      data-testid={`import-check-${s.name}`}
                    />
                  </td>
                  <td>
                    <strong>{s.name}</strong>
                    {s.hop && <div className="small muted">jump host of {s.requiredBy.join(', ')}</div>}
                  </td>
                  <td>
                    <span className="mono">{address(s)}</span>
                    <div className="small muted">
                      {s.authType === 'key' ? `key ${s.keyPath}` : 'SSH agent'}
                      {s.jump ? ` · via ${s.jump}` : ''}
                    </div>
                    {s.notes.map((n) => (
                      <div key={n} className="small muted">
                        {n}
                      </div>
                    ))}
                  </td>
                  <td className="small" data-testid="import-host-key">
                    {hostKeyText(s)}
                  </td>
                  <td>
                    <Badge tone={s.action === 'create' ? 'ok' : s.action === 'update' ? 'warn' : 'idle'}>
                      {ACTION_LABEL[s.action]}
                    </Badge>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {plan && plan.servers.length === 0 && <p className="muted">No importable hosts were found.</p>}
      {plan && plan.skipped.length > 0 && (
        <div className="warn-box" data-testid="import-skipped">
          <strong>Cannot be imported:</strong>
          <ul>
            {plan.skipped.map((s) => (
              <li key={s.name} data-testid={`import-skipped-${s.name}`}>
                <strong>{s.name}</strong>: {s.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      {plan && plan.notes.length > 0 && (
        <ul className="small muted">
          {plan.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <footer className="modal-footer">
        <button type="button" className="ghost" onClick={onClose}>
          Cancel
        </button>
        <button
          onClick={() => void apply()}
          disabled={busy || selected.length === 0}
          data-testid="import-apply"
        >
          Import {selected.length} server{selected.length === 1 ? '' : 's'}
        </button>
      </footer>
    </Modal>
  );
}
