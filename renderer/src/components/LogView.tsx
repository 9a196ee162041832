import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';

import { ansiSpans } from '../lib/ansi.ts';
import { logOf, useLive } from '../store/live.ts';

const ROW_HEIGHT = 18;
const STREAM_CLASS = ['out', 'err', 'sys'] as const;

/**
 * One execution's log: virtualized (only visible lines are in the DOM, so a million lines stay smooth),
 * ANSI colours, stderr marked, search, and following the tail until the user scrolls up.
 */
export function LogView({ executionId }: { executionId: string }) {
  const version = useLive((s) => s.logVersions[executionId] ?? 0);
  const buffer = logOf(executionId);
  const scroller = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [hit, setHit] = useState(0);
  const searchBox = useRef<HTMLInputElement>(null);

  const count = buffer.length;
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the buffer is mutable; version says it changed
  const hits = useMemo(() => buffer.search(query), [query, version, buffer]);
  const hitSet = useMemo(() => new Set(hits), [hits]);

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });

  useEffect(() => {
    if (follow && count > 0) virtualizer.scrollToIndex(count - 1, { align: 'end' });
  }, [follow, count, version, virtualizer]);

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
    if (hits.length === 0) return;
    const next = (hit + delta + hits.length) % hits.length;
    setHit(next);
    setFollow(false);
    virtualizer.scrollToIndex(hits[next]!, { align: 'center' });
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
          if (el.scrollHeight - el.scrollTop - el.clientHeight < ROW_HEIGHT * 2 && !follow) setFollow(true);
        }}
      >
        {count === 0 ? (
          <div className="muted log-empty">No output yet.</div>
        ) : (
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((row) => {
              const line = buffer.lines[row.index] ?? '';
              const cls = STREAM_CLASS[buffer.streamAt(row.index)];
              return (
                <div
                  key={row.key}
                  className={`log-line ${cls} ${hitSet.has(row.index) ? 'hit' : ''} ${hits[hit] === row.index ? 'current' : ''}`}
                  data-testid="log-line"
                  style={{
                    position: 'absolute',
                    top: 0,
                    left: 0,
                    right: 0,
                    height: ROW_HEIGHT,
                    transform: `translateY(${row.start}px)`,
                  }}
                >
                  <span className="ln">{row.index + 1}</span>
                  {ansiSpans(line).map((span, i) => (
                    <span
                      key={i}
                      style={
                        span.fg || span.bg || span.bold || span.italic || span.underline
                          ? {
                              color: span.fg ?? undefined,
                              background: span.bg ?? undefined,
                              fontWeight: span.bold ? 700 : undefined,
                              fontStyle: span.italic ? 'italic' : undefined,
                              textDecoration: span.underline ? 'underline' : undefined,
                            }
                          : undefined
                      }
                    >
                      {span.text}
                    </span>
                  ))}
                </div>
              );
            })}
          </div>
        )}
      </div>
    </div>
  );
}
