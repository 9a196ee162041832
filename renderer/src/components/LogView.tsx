import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';

import { ansiSpans, type Span } from '../lib/ansi.ts';
import { logOf, useLive } from '../store/live.ts';

const ROW_HEIGHT = 18;
const OVERSCAN = 30;
const STREAM_CLASS = ['out', 'err', 'sys'] as const;

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

/**
 * One execution's log: only the visible lines are in the DOM (so a million lines stay smooth), ANSI
 * colours, stderr marked, search, and following the tail until the user scrolls up. Rows have one fixed
 * height, so the window is plain arithmetic on scrollTop: a general virtualizer measured every row again
 * each time lines arrived, which cost 100 ms per update at a million lines.
 */
export function LogView({ executionId }: { executionId: string }) {
  const version = useLive((s) => s.logVersions[executionId] ?? 0);
  const buffer = logOf(executionId);
  const scroller = useRef<HTMLDivElement>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [hit, setHit] = useState(0);
  const [view, setView] = useState({ top: 0, height: 400 });

  const count = buffer.length;
  // The buffer is mutable: `version` says it changed.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const hits = useMemo(() => buffer.search(query), [query, version, buffer]);
  const hitSet = useMemo(() => new Set(hits), [hits]);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight });
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    measure();
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [follow, count, version]);

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
    scroller.current.scrollTop = hits[next]! * ROW_HEIGHT - view.height / 2;
  };

  const first = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(count, Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN);
  const rows = [];
  for (let index = first; index < last; index++) {
    const line = buffer.lines[index] ?? '';
    rows.push(
      <div
        key={index}
        className={`log-line ${STREAM_CLASS[buffer.streamAt(index)]} ${hitSet.has(index) ? 'hit' : ''} ${hits[hit] === index ? 'current' : ''}`}
        data-testid="log-line"
        style={{ top: index * ROW_HEIGHT }}
      >
        <span className="ln">{index + 1}</span>
        {ansiSpans(line).map((span, i) => (
          <span key={i} style={spanStyle(span)}>
            {span.text}
          </span>
        ))}
      </div>,
    );
  }

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
          setView({ top: el.scrollTop, height: el.clientHeight });
          if (!follow && el.scrollHeight - el.scrollTop - el.clientHeight < ROW_HEIGHT) setFollow(true);
        }}
      >
        {count === 0 ? (
          <div className="muted log-empty">No output yet.</div>
        ) : (
          <div style={{ height: count * ROW_HEIGHT, position: 'relative' }}>{rows}</div>
        )}
      </div>
    </div>
  );
}
