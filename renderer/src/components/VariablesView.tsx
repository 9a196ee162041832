import { useEffect, useState } from 'react';

import { messageOf } from '../api/client.ts';
import type { Variable } from '../api/types.ts';
import { variableValue, when } from '../lib/format.ts';
import { useDiscardGuard } from '../lib/useDiscardGuard.ts';
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
  const initial = useState(() => ({ key, value, secret }))[0];
  const close = useDiscardGuard(
    key !== initial.key || value !== initial.value || secret !== initial.secret,
    onDone,
    variable ? `The variable ${variable.key}` : 'The new variable',
  );
  const submit = async () => {
    const typed = variableValue(value);
    if ('error' in typed) return setErrors({ value: typed.error });
    try {
      await save(key, typed.value, secret);
      notify(`Saved ${key}.`);
      onDone();
    } catch (err) {
      setErrors({ key: messageOf(err) });
    }
  };
  return (
    <Modal title={variable ? `Edit ${variable.key}` : 'New variable'} onClose={close}>
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
          error={errors.value}
          hint={
            variable?.secret
              ? 'secret: type a new value to replace it'
              : 'plain text is stored as a string; {…}, […] and "…" must be valid JSON'
          }
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
  const confirmRemove = useUi((s) => s.confirmRemove);
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
                      void confirmRemove(`Remove the variable ${v.key}?`, v.key, () => remove(v.key))
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
