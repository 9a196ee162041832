import { useEffect, type ReactNode } from 'react';

import type { ExecutionStatus, RunStatus } from '../api/types.ts';
import { statusTone } from '../store/live.ts';

export function Badge({
  tone,
  children,
  title,
  testId,
}: {
  tone: string;
  children: ReactNode;
  title?: string;
  testId?: string;
}) {
  return (
    <span className={`badge tone-${tone}`} title={title} data-testid={testId}>
      {children}
    </span>
  );
}

export function StatusBadge({ status }: { status: ExecutionStatus | RunStatus }) {
  return (
    <Badge tone={statusTone(status)} testId="status-badge">
      {status.replace('_', ' ')}
    </Badge>
  );
}

/** The flag every execution that fell back to bundled mode carries, with its reason. */
export function HelperBadge({ mode, reason }: { mode: 'api' | 'bundled' | null; reason: string | null }) {
  if (!mode) return null;
  if (reason) {
    return (
      <Badge tone="warn" title={`Helpers fell back to bundled mode: ${reason}`} testId="fallback-badge">
        ⚠ bundled (fell back)
      </Badge>
    );
  }
  return <Badge tone="idle">{mode}</Badge>;
}

export function EmptyState({
  title,
  children,
  action,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="empty" data-testid="empty-state">
      <h3>{title}</h3>
      {children && <p>{children}</p>}
      {action}
    </div>
  );
}

export function Field({
  label,
  error,
  children,
  hint,
}: {
  label: string;
  error?: string;
  children: ReactNode;
  hint?: string;
}) {
  return (
    <label className={`field ${error ? 'has-error' : ''}`}>
      <span className="field-label">{label}</span>
      {children}
      {hint && !error && <span className="field-hint">{hint}</span>}
      {error && (
        <span className="field-error" role="alert" data-testid="field-error">
          {error}
        </span>
      )}
    </label>
  );
}

export function ErrorBanner({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <div className="error-banner" role="alert" data-testid="error-banner">
      {message}
    </div>
  );
}

export function Modal({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  // Escape closes the dialog wherever the focus is.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={`modal ${wide ? 'wide' : ''}`} role="dialog" aria-label={title}>
        <header>
          <h2>{title}</h2>
          <button className="ghost" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </header>
        <div className="modal-body">{children}</div>
      </div>
    </div>
  );
}

/** Checkboxes for choosing servers (a job's defaults, a run's targets). */
export function ServerChecklist({
  servers,
  selected,
  onChange,
  empty,
  testIdPrefix,
}: {
  servers: { id: string; name: string }[];
  selected: string[];
  onChange: (ids: string[]) => void;
  empty: string;
  testIdPrefix?: string;
}) {
  return (
    <div className="checklist">
      {servers.length === 0 && <span className="muted">{empty}</span>}
      {servers.map((s) => (
        <label key={s.id} className="check">
          <input
            type="checkbox"
            data-testid={testIdPrefix ? `${testIdPrefix}${s.name}` : undefined}
            checked={selected.includes(s.id)}
            onChange={(e) =>
              onChange(e.target.checked ? [...selected, s.id] : selected.filter((id) => id !== s.id))
            }
          />
          {s.name}
        </label>
      ))}
    </div>
  );
}
