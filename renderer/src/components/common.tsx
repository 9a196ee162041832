import { useEffect, useRef, useState, type ReactNode } from 'react';

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

/** Statuses whose word needs a sentence beside it (as the badge's tooltip). */
const STATUS_TITLES: Partial<Record<ExecutionStatus | RunStatus, string>> = {
  worker_lost:
    'The worker running it stopped (no heartbeat) after the script had started: how the script ended is unknown. Re-run it.',
};

export function StatusBadge({ status }: { status: ExecutionStatus | RunStatus }) {
  return (
    <Badge tone={statusTone(status)} title={STATUS_TITLES[status]} testId="status-badge">
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

/** Open dialogs, innermost last: only the innermost one answers Escape and keeps the focus. */
const openDialogs: symbol[] = [];

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), [contenteditable="true"]';

/** The elements Tab can reach inside a dialog, in document order. */
export function focusableIn(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => !el.closest('[inert]') && el.getAttribute('aria-hidden') !== 'true',
  );
}

/**
 * The app's dialog (WAI-ARIA modal dialog pattern): the focus moves in when it opens (to an autoFocus
 * field, else the first field of the body), Tab and Shift+Tab cycle inside it, Escape or a click on the
 * backdrop calls onClose, and the focus returns to the element that opened it when it closes. Dialogs
 * stack: only the innermost answers Escape and traps the focus.
 */
export function Modal({
  title,
  onClose,
  children,
  wide,
  testId,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  // Taken while rendering, before an autoFocus field inside takes the focus.
  const [opener] = useState(() =>
    document.activeElement instanceof HTMLElement ? document.activeElement : null,
  );
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const self = Symbol('dialog');
    openDialogs.push(self);
    const root = box.current!;
    if (!root.contains(document.activeElement)) {
      const body = root.querySelector<HTMLElement>('.modal-body');
      (focusableIn(body ?? root)[0] ?? focusableIn(root)[0] ?? root).focus();
    }
    const onKey = (e: KeyboardEvent) => {
      if (openDialogs[openDialogs.length - 1] !== self) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        closeRef.current();
      } else if (e.key === 'Tab') {
        const items = focusableIn(root);
        if (items.length === 0) return e.preventDefault();
        const first = items[0]!;
        const last = items[items.length - 1]!;
        const inside = root.contains(document.activeElement);
        if (e.shiftKey && (document.activeElement === first || !inside)) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && (document.activeElement === last || !inside)) {
          e.preventDefault();
          first.focus();
        }
      }
    };
    // Capture phase: the innermost dialog decides before any field or view-level shortcut sees the key.
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      openDialogs.splice(openDialogs.indexOf(self), 1);
      if (opener && opener.isConnected) opener.focus();
    };
  }, [opener]);

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={box}
        className={`modal ${wide ? 'wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-label={title}
        tabIndex={-1}
        data-testid={testId}
      >
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

/** What a confirm dialog asks (see useUi().ask). */
export interface ConfirmRequest {
  title: string;
  message: ReactNode;
  /** The button that goes ahead, e.g. "Remove" or "Discard changes". */
  confirmLabel: string;
  /** The button that goes back; "Cancel" unless said. */
  cancelLabel?: string;
  /** Red confirm button, for removals and discards. */
  danger?: boolean;
}

/** The one confirmation dialog of the app (no native confirm()): Enter confirms, Escape cancels. */
export function ConfirmDialog({
  request,
  onAnswer,
}: {
  request: ConfirmRequest;
  onAnswer: (yes: boolean) => void;
}) {
  return (
    <Modal title={request.title} onClose={() => onAnswer(false)} testId="confirm-dialog">
      <div className="danger-box">
        <p data-testid="confirm-message">{request.message}</p>
        <footer>
          <button
            className="ghost"
            onClick={() => onAnswer(false)}
            data-testid="confirm-cancel"
            autoFocus={request.danger}
          >
            {request.cancelLabel ?? 'Cancel'}
          </button>
          <button
            className={request.danger ? 'danger' : ''}
            onClick={() => onAnswer(true)}
            data-testid="confirm-ok"
            autoFocus={!request.danger}
          >
            {request.confirmLabel}
          </button>
        </footer>
      </div>
    </Modal>
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
