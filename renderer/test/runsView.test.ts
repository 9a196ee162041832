import { describe, expect, it } from 'vitest';

import type { Execution, LogChunk } from '../src/api/types.ts';
import { LogBuffer } from '../src/lib/logBuffer.ts';
import { mergeLogs, outputDiff, stdoutText } from '../src/lib/mergedLog.ts';
import { elapsedMs } from '../src/store/live.ts';

const log = (...chunks: [string, number, LogChunk['stream']?][]) => {
  const buffer = new LogBuffer();
  chunks.forEach(([text, ts, stream = 'stdout'], seq) =>
    buffer.append({ executionId: 'e', seq, stream, ts, text }),
  );
  return buffer;
};

describe("a run's merged log", () => {
  const sources = [
    { executionId: 'e1', serverName: 'web1', log: log(['a1\na2\n', 10], ['warn\n', 30, 'stderr']) },
    { executionId: 'e2', serverName: 'web2', log: log(['b1\n', 10], ['b2\n', 20], ['note\n', 25, 'system']) },
  ];
  const all = new Set([0, 1, 2] as const);

  it('interleaves the hosts by when each line began, prefixed, keeping each host in order', () => {
    const merged = mergeLogs(sources, { executionIds: ['e1', 'e2'], streams: all });
    expect(merged.lines).toEqual([
      '[web1] a1',
      '[web1] a2',
      '[web2] b1',
      '[web2] b2',
      '[web2] note',
      '[web1] warn',
    ]);
    expect([...merged.lines.keys()].map((i) => merged.streamAt(i))).toEqual([0, 0, 0, 0, 2, 1]);
  });

  it('filters by host and by stream', () => {
    expect(mergeLogs(sources, { executionIds: ['e2'], streams: all }).lines).toEqual([
      '[web2] b1',
      '[web2] b2',
      '[web2] note',
    ]);
    expect(
      mergeLogs(sources, { executionIds: ['e1', 'e2'], streams: new Set([1, 2] as const) }).lines,
    ).toEqual(['[web2] note', '[web1] warn']);
  });
});

describe('a host against the baseline', () => {
  it('compares stdout only, line by line', () => {
    const base = stdoutText(log(['same\nold\n', 1], ['noise\n', 2, 'stderr'], ['end\n', 3]));
    const other = stdoutText(log(['same\nnew\nend\n', 1]));
    expect(base).toBe('same\nold\nend\n');
    expect(outputDiff(base, other)).toEqual([
      { kind: ' ', text: 'same' },
      { kind: '-', text: 'old' },
      { kind: '+', text: 'new' },
      { kind: ' ', text: 'end' },
    ]);
  });
});

describe('elapsed time per host', () => {
  const e = (status: Execution['status'], endedAt: number | null) =>
    ({ status, startedAt: 1000, endedAt }) as Execution;
  it('counts to now while it goes, to its end once ended, and not while queued', () => {
    expect(elapsedMs(e('running', null), 4500)).toBe(3500);
    expect(elapsedMs(e('succeeded', 2000), 9999)).toBe(1000);
    expect(elapsedMs(e('queued', null), 9999)).toBeNull();
  });
});
