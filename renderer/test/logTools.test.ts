import { describe, expect, it } from 'vitest';

import type { Execution, LogChunk, Run } from '../src/api/types.ts';
import { emptyLogText } from '../src/components/LogView.tsx';
import { clockTime, LogBuffer, logText, plainText, rowsOf, WrapLayout } from '../src/lib/logBuffer.ts';
import { cancellingNow } from '../src/store/live.ts';

const chunk = (seq: number, text: string, ts: number, stream: LogChunk['stream'] = 'stdout'): LogChunk => ({
  executionId: 'e',
  seq,
  stream,
  ts,
  text,
});

describe('log text for copy and download', () => {
  it('keeps when each line began, and gives plain text without escape codes', () => {
    const log = new LogBuffer();
    const t0 = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
    log.append(chunk(0, '\u001b[31mred\u001b[0m and pla', t0));
    log.append(chunk(1, 'in\nsecond\n', t0 + 1500));
    expect(log.timeAt(0)).toBe(t0);
    expect(log.timeAt(1)).toBe(t0 + 1500);
    expect(logText(log, 0, log.length, false)).toBe('red and plain\nsecond\n');
    expect(logText(log, 1, 99, true)).toBe(`${clockTime(t0 + 1500)} second\n`);
    expect(clockTime(t0)).toBe('03:04:05.006');
    expect(logText(log, 5, 9, false)).toBe('');
    expect(plainText('\u001b]0;title\u0007\u001b[1;32mok\u001b[0m')).toBe('ok');
  });
});

describe('WrapLayout', () => {
  it('places each line at the sum of the rows before it, growing as lines arrive', () => {
    const log = new LogBuffer();
    log.append(chunk(0, 'a'.repeat(25) + '\n' + 'b\n' + 'c'.repeat(10), 0));
    const layout = new WrapLayout();
    // 10 columns: 25 chars take 3 rows, "b" 1, the open line of 10 chars 1.
    expect(layout.update(log, 10)).toBe(5);
    expect([0, 1, 2].map((i) => layout.rowOf(i))).toEqual([0, 3, 4]);
    expect([0, 2, 3, 4].map((r) => layout.lineAt(r))).toEqual([0, 0, 1, 2]);
    // The open last line grows to 11 characters (2 rows), then a new line comes.
    log.append(chunk(1, 'c\nd\n', 1));
    expect(layout.update(log, 10)).toBe(7);
    expect(layout.lineAt(6)).toBe(3);
    // Wider rows: everything is measured again.
    expect(layout.update(log, 100)).toBe(4);
  });

  it('never counts a line short: escapes do not count, tabs and wide characters count more', () => {
    expect(rowsOf('\u001b[32m' + 'x'.repeat(20) + '\u001b[0m', 20)).toBe(1);
    expect(rowsOf('\t'.repeat(3), 20)).toBe(2);
    expect(rowsOf('漢'.repeat(15), 20)).toBe(2);
    expect(rowsOf('', 20)).toBe(1);
  });

  it('keeps up with a million lines', () => {
    const log = new LogBuffer();
    const text =
      Array.from({ length: 100_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 300)}`).join('\n') + '\n';
    for (let seq = 0; seq < 10; seq++) log.append(chunk(seq, text, seq));
    const layout = new WrapLayout();
    const started = performance.now();
    const rows = layout.update(log, 120);
    const layoutMs = performance.now() - started;
    // Against the least any layout must do — one pass over every character — in the same moment, so the
    // machine's load cancels out: the layout stays within a small multiple of reading the text.
    const scanStarted = performance.now();
    let newlines = 0;
    for (let seq = 0; seq < 10; seq++)
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) newlines++;
    const scanMs = performance.now() - scanStarted;
    console.log(
      `layout of ${newlines} lines: ${layoutMs.toFixed(0)} ms; one scan of the text: ${scanMs.toFixed(0)} ms`,
    );
    expect(layoutMs).toBeLessThan(Math.max(50, scanMs) * 40);
    expect(rows).toBeGreaterThan(1_000_000);
    expect(layout.lineAt(layout.rowOf(777_777))).toBe(777_777);
  });
});

describe('what an empty log says', () => {
  const exec = (extra: Partial<Execution>) =>
    ({
      status: 'running',
      serverName: 'web1',
      errorMessage: null,
      timings: { connectMs: null, deployMs: null, scriptMs: null, collectMs: null },
      ...extra,
    }) as Execution;

  it('says why, not "no output yet", when the host never ran the script', () => {
    expect(emptyLogText(exec({ status: 'connecting' }))).toBe('No output yet.');
    expect(emptyLogText(exec({ status: 'error', errorMessage: 'Connection refused by 10.0.0.9:22.' }))).toBe(
      'No output: the script never ran on web1. Connection refused by 10.0.0.9:22.',
    );
    expect(
      emptyLogText(
        exec({ status: 'succeeded', timings: { connectMs: 1, deployMs: 1, scriptMs: 5, collectMs: 1 } }),
      ),
    ).toBe('The script printed nothing.');
  });
});

describe('the Cancelling… notice', () => {
  it('shows from the request until the run reaches a final status', () => {
    const run = (status: Run['status']) => ({ id: 'r', status }) as Run;
    expect(cancellingNow(run('running'), {})).toBe(false);
    expect(cancellingNow(run('running'), { r: true })).toBe(true);
    for (const final of ['cancelled', 'partial', 'failed', 'succeeded'] as const)
      expect(cancellingNow(run(final), { r: true })).toBe(false);
  });
});
