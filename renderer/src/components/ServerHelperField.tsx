import type { ServerHelperMode } from '../api/types.ts';
import { SERVER_HELPER_MODES } from '../api/types.ts';
import { Field } from './common.tsx';

const LABELS: Record<ServerHelperMode, string> = {
  default: "The job's mode (API, else bundled)",
  api: 'API only (never fall back to bundled)',
  bundled: 'Bundled (this host allows no forwarding)',
};

/** The server form's helper mode: how the helpers of scripts run on this server reach the app. */
export function ServerHelperField({
  value,
  error,
  onChange,
}: {
  value: ServerHelperMode;
  error?: string;
  onChange: (mode: ServerHelperMode) => void;
}) {
  return (
    <Field
      label="Helpers"
      error={error}
      hint={
        value === 'bundled'
          ? 'runs here never try the tunnel, so they do not warn that it was refused'
          : 'how cronium.* calls in scripts reach the app'
      }
    >
      <select
        value={value}
        onChange={(e) => onChange(e.target.value as ServerHelperMode)}
        data-testid="server-helper-mode"
      >
        {SERVER_HELPER_MODES.map((mode) => (
          <option key={mode} value={mode}>
            {LABELS[mode]}
          </option>
        ))}
      </select>
    </Field>
  );
}
