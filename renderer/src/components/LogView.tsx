import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';

import type { Execution } from '../api/types.ts';
import { ansiSpans, type Span } from '../lib/ansi.ts';
import { clockTime, logText, WrapLayout, type LogBuffer } from '../lib/logBuffer.ts';
import { FINAL, logOf, useLive } from '../store/live.ts';
import { useUi } from '../store/ui.ts';

const ROW_HEIGHT = 18;
const OVERSCAN = 30;
const STREAM_CLASS = ['out', 'err', 'sys'] as const;
/** Widths in px of what sits left of a line's text (see .log-line in styles.css): bar, number, time. */
const GUTTER = 3 + 64 + 8;
const TIME_WIDTH = 100;

function spanStyle(span: Span) {
  if (!span.fg && !span.bg && !span.bold && !span.italic && !span.underline) return undefined;
  return {
    color: span.fg ?? undefined,
    background: span.bg ?? undefined,
    fontWeight: span.bold ? 700 : undefined,
    fontStyle: span.italic ? 'italic' : undefined,
    textDecoration: span.underline ? 'underline' : undefined,
  };
}

/** Puts text on the clipboard; falls back to a selected textarea where the Clipboard API is refused. */
async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    if (!ok) throw new Error('The clipboard refused the text.');
  }
}

/** Why a log is empty: still to come, printed nothing, or never got as far as running the script. */
export function emptyLogText(execution: Execution | undefined): string {
  if (!execution || !FINAL.has(execution.status)) return 'No output yet.';
  if (execution.errorMessage && execution.timings.scriptMs === null)
    return `No output: the script never ran on ${execution.serverName}. ${execution.errorMessage}`;
  if (execution.errorMessage) return `No output. ${execution.errorMessage}`;
  return 'The script printed nothing.';
}

/**
 * One execution's log: only the visible lines are in the DOM (so a million lines stay smooth), ANSI
 * colours, stderr marked, search, and following the tail until the user scrolls up. Rows have one fixed
 * height, so the window is plain arithmetic on scrollTop: a general virtualizer measured every row again
 * each time lines arrived, which cost 100 ms per update at a million lines. Wrapping keeps the arithmetic:
 * a line takes ceil(characters / columns) rows (WrapLayout). Copy, download, wrap and timestamps sit in
 * the toolbar; copies and downloads are plain text (no escape codes), with times when they are shown.
 */
export function LogView({
  executionId,
  execution,
  source,
}: {
  /** The execution whose log this is; for a `source`, a key naming that log (a new key: a new layout). */
  executionId: string;
  execution?: Execution;
  /** A log built elsewhere (a run's merged log) instead of the execution's own, and its version. */
  source?: { buffer: LogBuffer; version: number; name: string };
}) {
  const storeVersion = useLive((s) => s.logVersions[executionId] ?? 0);
  const version = source ? source.version : storeVersion;
  const notify = useUi((s) => s.notify);
  const buffer = source?.buffer ?? logOf(executionId);
  const scroller = useRef<HTMLDivElement>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [hit, setHit] = useState(0);
  const [view, setView] = useState({ top: 0, height: 400, width: 800 });
  const [wrap, setWrap] = useState(false);
  const [timestamps, setTimestamps] = useState(false);
  const [charWidth, setCharWidth] = useState(7.5);
  // One layout per log; a new execution gets its own, and so does each new build of a merged log (lines
  // arriving interleave with the ones before).
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const layout = useMemo(() => new WrapLayout(), [executionId, source?.buffer]);

  const count = buffer.length;
  const cols = Math.max(20, Math.floor((view.width - GUTTER - (timestamps ? TIME_WIDTH : 0)) / charWidth));
  // Rows in the scroll area: one per line, or per wrapped piece. `version` says the buffer grew.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const totalRows = useMemo(() => (wrap ? layout.update(buffer, cols) : count), [wrap, cols, count, version]);
  const rowOf = (index: number) => (wrap ? layout.rowOf(index) : index);
  const lineAt = (row: number) => (wrap ? layout.lineAt(row) : row);
  // The buffer is mutable: `version` says it changed.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const hits = useMemo(() => buffer.search(query), [query, version, buffer]);
  const hitSet = useMemo(() => new Set(hits), [hits]);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight, width: el.clientWidth });
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    measure();
    // The log font's advance width, for the wrap arithmetic.
    const probe = document.createElement('span');
    probe.textContent = 'x'.repeat(100);
    probe.style.visibility = 'hidden';
    probe.style.position = 'absolute';
    el.append(probe);
    const width = probe.getBoundingClientRect().width / 100;
    probe.remove();
    if (width > 0) setCharWidth(width);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [follow, count, version, wrap]);

  useEffect(() => {
    const onFind = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'f') {
        e.preventDefault();
        searchBox.current?.focus();
      }
    };
    window.addEventListener('keydown', onFind);
    return () => window.removeEventListener('keydown', onFind);
  }, []);

  const jump = (delta: number) => {
    if (hits.length === 0 || !scroller.current) return;
    const next = (hit + delta + hits.length) % hits.length;
    setHit(next);
    setFollow(false);
    scroller.current.scrollTop = rowOf(hits[next]!) * ROW_HEIGHT - view.height / 2;
  };

  // The lines on screen, and the window rendered around them.
  const firstShown = Math.min(count, lineAt(Math.floor(view.top / ROW_HEIGHT)));
  const lastShown = Math.min(count, lineAt(Math.ceil((view.top + view.height) / ROW_HEIGHT) - 1) + 1);
  const first = Math.max(0, firstShown - OVERSCAN);
  const last = Math.min(count, lastShown + OVERSCAN);
  const rows = [];
  for (let index = first; index < last; index++) {
    const line = buffer.lines[index] ?? '';
    rows.push(
      <div
        key={index}
        className={`log-line ${STREAM_CLASS[buffer.streamAt(index)]} ${hitSet.has(index) ? 'hit' : ''} ${hits[hit] === index ? 'current' : ''}`}
        data-testid="log-line"
        style={{
          top: rowOf(index) * ROW_HEIGHT,
          height: wrap ? (rowOf(index + 1) - rowOf(index)) * ROW_HEIGHT : undefined,
        }}
      >
        <span className="ln">{index + 1}</span>
        {timestamps && (
          <span className="ts" data-testid="log-time">
            {clockTime(buffer.timeAt(index))}
          </span>
        )}
        <span className="text">
          {ansiSpans(line).map((span, i) => (
            <span key={i} style={spanStyle(span)}>
              {span.text}
            </span>
          ))}
        </span>
      </div>,
    );
  }

  const copy = (from: number, to: number, what: string) => {
    const lines = Math.max(0, Math.min(to, count) - from);
    copyText(logText(buffer, from, to, timestamps)).then(
      () => notify(`Copied ${lines.toLocaleString()} ${what} line${lines === 1 ? '' : 's'}.`),
      (err: unknown) => notify(`Could not copy: ${(err as Error).message}`, 'bad'),
    );
  };
  const download = () => {
    const blob = new Blob([logText(buffer, 0, count, timestamps)], { type: 'text/plain' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    const name = source
      ? `${source.name}-`
      : execution
        ? `${execution.jobName}-${execution.serverName}-`
        : 'execution-';
    link.download = `${name}${executionId.slice(0, 8)}.log`.replace(/[^\w.-]+/g, '_');
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  };

  return (
    <div className="log-view" data-testid="log-view">
      <div className="log-toolbar">
        <input
          ref={searchBox}
          placeholder="Search (Ctrl+F)"
          value={query}
          data-testid="log-search"
          onChange={(e) => {
            setQuery(e.target.value);
            setHit(0);
          }}
          onKeyDown={(e) => e.key === 'Enter' && jump(e.shiftKey ? -1 : 1)}
        />
        {query && (
          <span className="muted small" data-testid="log-hits">
            {hits.length ? `${hit + 1} / ${hits.length}` : 'no match'}
          </span>
        )}
        <button
          className="ghost"
          onClick={() => jump(-1)}
          disabled={!hits.length}
          aria-label="Previous match"
        >
          ↑
        </button>
        <button className="ghost" onClick={() => jump(1)} disabled={!hits.length} aria-label="Next match">
          ↓
        </button>
        <span className="spacer" />
        <span className="muted small" data-testid="log-count">
          {count.toLocaleString()} lines
        </span>
        <button
          className="ghost small"
          onClick={() => copy(0, count, 'log')}
          disabled={!count}
          data-testid="log-copy-all"
          title="Copy the whole log as plain text"
        >
          Copy all
        </button>
        <button
          className="ghost small"
          onClick={() => copy(firstShown, lastShown, 'visible')}
          disabled={!count}
          data-testid="log-copy-visible"
          title="Copy the lines on screen"
        >
          Copy visible
        </button>
        <button
          className="ghost small"
          onClick={download}
          disabled={!count}
          data-testid="log-download"
          title="Download the log as a .log file"
        >
          Download
        </button>
        <label className="check small">
          <input
            type="checkbox"
            checked={wrap}
            onChange={(e) => setWrap(e.target.checked)}
            data-testid="log-wrap"
          />
          wrap
        </label>
        <label className="check small">
          <input
            type="checkbox"
            checked={timestamps}
            onChange={(e) => setTimestamps(e.target.checked)}
            data-testid="log-timestamps"
          />
          times
        </label>
        <label className="check small">
          <input
            type="checkbox"
            checked={follow}
            onChange={(e) => setFollow(e.target.checked)}
            data-testid="log-follow"
          />
          follow
        </label>
      </div>
      <div
        className="log-lines"
        ref={scroller}
        onWheel={(e) => e.deltaY < 0 && setFollow(false)}
        onScroll={(e) => {
          const el = e.currentTarget;
          setView({ top: el.scrollTop, height: el.clientHeight, width: el.clientWidth });
          if (!follow && el.scrollHeight - el.scrollTop - el.clientHeight < ROW_HEIGHT) setFollow(true);
        }}
      >
        {count === 0 ? (
          <div
            className={`log-empty ${execution?.errorMessage && FINAL.has(execution.status) ? 'error-text' : 'muted'}`}
            data-testid="log-empty"
          >
            {emptyLogText(execution)}
          </div>
        ) : (
          <div
            className={wrap ? 'wrapped' : undefined}
            style={{ height: totalRows * ROW_HEIGHT, position: 'relative' }}
          >
            {rows}
          </div>
        )}
      </div>
    </div>
  );
}
