import { describe, expect, it } from 'vitest';

import type { Execution, LogChunk, Run } from '../src/api/types.ts';
import { ansiSpans } from '../src/lib/ansi.ts';
import { parseJsonField } from '../src/lib/format.ts';
import { LogBuffer } from '../src/lib/logBuffer.ts';
import { matches, toQuery } from '../src/store/history.ts';
import { executionsOfRun, runProgress, statusTone } from '../src/store/live.ts';

const chunk = (seq: number, stream: LogChunk['stream'], text: string): LogChunk => ({
  executionId: 'e',
  seq,
  stream,
  ts: seq,
  text,
});

describe('LogBuffer', () => {
  it('joins a line split across chunks and keeps each line’s stream', () => {
    const log = new LogBuffer();
    log.append(chunk(0, 'stdout', 'hel'));
    log.append(chunk(1, 'stdout', 'lo\nwor'));
    log.append(chunk(2, 'stderr', 'oops\n'));
    log.append(chunk(3, 'stdout', 'ld\n'));
    expect(log.lines).toEqual(['hello', 'wor', 'oops', 'ld']);
    expect([0, 1, 2, 3].map((i) => log.streamAt(i))).toEqual([0, 0, 1, 0]);
  });

  it('skips chunks it already has (a replay overlapping live events)', () => {
    const log = new LogBuffer();
    expect(log.append(chunk(0, 'stdout', 'a\n'))).toBe(true);
    expect(log.append(chunk(0, 'stdout', 'a\n'))).toBe(false);
    expect(log.lines).toEqual(['a']);
  });

  it('holds a million lines and finds the matching ones', () => {
    const log = new LogBuffer();
    const text = Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    for (let seq = 0; seq < 10; seq++) log.append(chunk(seq, 'stdout', text));
    expect(log.length).toBe(1_000_000);
    expect(log.search('LINE 99999')).toHaveLength(10);
    expect(log.search('')).toEqual([]);
  });
});

describe('selectors', () => {
  const exec = (id: string, status: Execution['status'], extra: Partial<Execution> = {}) =>
    ({ id, status, helperMode: 'api', fallbackReason: null, ...extra }) as Execution;

  it('summarises a run: done, not succeeded, fell back', () => {
    const list = [
      exec('a', 'succeeded'),
      exec('b', 'failed'),
      exec('c', 'running'),
      exec('d', 'succeeded', { helperMode: 'bundled', fallbackReason: 'no forwarding' }),
    ];
    expect(runProgress(list)).toEqual({ done: 3, total: 4, failed: 1, fellBack: 1 });
  });

  it('lists a run’s executions in its order, skipping unknown ones', () => {
    const run = { executionIds: ['b', 'a', 'zzz'] } as Run;
    expect(executionsOfRun(run, { a: exec('a', 'queued'), b: exec('b', 'queued') }).map((e) => e.id)).toEqual(
      ['b', 'a'],
    );
    expect(executionsOfRun(undefined, {})).toEqual([]);
  });

  it('gives statuses a tone', () => {
    expect(statusTone('succeeded')).toBe('ok');
    expect(statusTone('timed_out')).toBe('bad');
    expect(statusTone('partial')).toBe('warn');
    expect(statusTone('running')).toBe('busy');
  });

  it('turns history filters into a query, days into local-time bounds', () => {
    const q = toQuery(
      { jobId: 'j', serverId: '', status: 'failed', from: '2026-11-01', to: '2026-11-02' },
      'cur',
    );
    expect(q).toMatchObject({ jobId: 'j', serverId: undefined, status: 'failed', cursor: 'cur', limit: 100 });
    expect(q.to! - q.from!).toBe(2 * 24 * 3600 * 1000);
    expect(
      matches(
        { jobId: 'j', serverId: '', status: '', from: '', to: '' },
        exec('x', 'failed', { jobId: 'j' }),
      ),
    ).toBe(true);
    expect(
      matches(
        { jobId: 'k', serverId: '', status: '', from: '', to: '' },
        exec('x', 'failed', { jobId: 'j' }),
      ),
    ).toBe(false);
  });
});

describe('small helpers', () => {
  it('parses ANSI colours into spans and leaves plain lines alone', () => {
    expect(ansiSpans('plain')).toEqual([
      { text: 'plain', fg: null, bg: null, bold: false, italic: false, underline: false },
    ]);
    const spans = ansiSpans('\u001b[31mred\u001b[0m \u001b[1mbold\u001b[0m');
    expect(spans.map((s) => s.text)).toEqual(['red', ' ', 'bold']);
    expect(spans[0]!.fg).toMatch(/^rgb\(/);
    expect(spans[2]!.bold).toBe(true);
  });

  it('explains bad JSON instead of throwing', () => {
    expect(parseJsonField('{"a":1}')).toEqual({ value: { a: 1 } });
    expect(parseJsonField('')).toEqual({ value: null });
    expect(parseJsonField('{oops')).toMatchObject({ error: expect.stringMatching(/^Not valid JSON/) });
  });
});
