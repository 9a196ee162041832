import { useEffect, useState } from 'react';

import { messageOf } from '../api/client.ts';
import type { Variable } from '../api/types.ts';
import { parseJsonField, when } from '../lib/format.ts';
import { useEditing } from '../lib/useEditing.ts';
import { useUi } from '../store/ui.ts';
import { useVariables } from '../store/variables.ts';
import { EmptyState, ErrorBanner, Field, Modal } from './common.tsx';

function VariableForm({ variable, onDone }: { variable: Variable | null; onDone: () => void }) {
  const save = useVariables((s) => s.save);
  const notify = useUi((s) => s.notify);
  const [key, setKey] = useState(variable?.key ?? '');
  const [value, setValue] = useState(
    variable && !variable.secret ? JSON.stringify(variable.value, null, 2) : '',
  );
  const [secret, setSecret] = useState(variable?.secret ?? false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = async () => {
    // Plain text is taken as a string, like the CLI; JSON keeps its type.
    const parsed = parseJsonField(value);
    const typed = 'error' in parsed ? value : parsed.value;
    try {
      await save(key, typed, secret);
      notify(`Saved ${key}.`);
      onDone();
    } catch (err) {
      setErrors({ key: messageOf(err) });
    }
  };
  return (
    <Modal title={variable ? `Edit ${variable.key}` : 'New variable'} onClose={onDone}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label="Key" error={errors.key}>
          <input
            value={key}
            onChange={(e) => setKey(e.target.value)}
            disabled={!!variable}
            data-testid="variable-key"
          />
        </Field>
        <Field
          label="Value (JSON or text)"
          hint={variable?.secret ? 'secret: type a new value to replace it' : undefined}
        >
          <textarea
            rows={4}
            className="mono"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            data-testid="variable-value"
          />
        </Field>
        <label className="check">
          <input type="checkbox" checked={secret} onChange={(e) => setSecret(e.target.checked)} /> secret
          (encrypted, never shown)
        </label>
        <footer>
          <button type="button" className="ghost" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" data-testid="variable-save">
            Save
          </button>
        </footer>
      </form>
    </Modal>
  );
}

export function VariablesView() {
  const { variables, loaded, error, load, remove } = useVariables();
  const notify = useUi((s) => s.notify);
  const [editing, setEditing] = useEditing<Variable>();
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section className="view" data-testid="variables-view">
      <header className="view-header">
        <h1>Variables</h1>
        <button onClick={() => setEditing('new')}>+ New variable</button>
      </header>
      <ErrorBanner message={error} />
      {loaded && variables.length === 0 ? (
        <EmptyState title="No variables yet">
          Scripts share values through cronium.setVariable() and cronium.getVariable(); you can set them here
          too.
        </EmptyState>
      ) : (
        <table className="table" data-testid="variables-table">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
              <th>Updated</th>
              <th>By</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {variables.map((v) => (
              <tr key={v.key}>
                <td className="mono">{v.key}</td>
                <td className="mono value-cell">{v.secret ? '••••••' : JSON.stringify(v.value)}</td>
                <td>{when(v.updatedAt)}</td>
                <td className="small">{v.updatedBy}</td>
                <td className="actions">
                  <button className="ghost" onClick={() => setEditing(v)}>
                    Edit
                  </button>
                  <button
                    className="ghost danger-text"
                    onClick={() =>
                      confirm(`Delete ${v.key}?`) &&
                      remove(v.key).catch((err: unknown) => notify(messageOf(err), 'bad'))
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
      {editing && (
        <VariableForm variable={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />
      )}
    </section>
  );
}
