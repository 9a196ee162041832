/**
 * A stored log is read in pages that grow: the first small, so a 100 MB execution's first lines show at
 * once (verify20: a first page of 2,000 chunks of ~256 KB was the whole log in one answer, 12 s), then
 * larger ones; every chunk arrives once, in order.
 */
import { describe, expect, it } from 'vitest';

import { setTransport } from '../src/api/client.ts';
import type { LogChunk } from '../src/api/types.ts';
import { LOG_PAGE_FIRST, LOG_PAGE_MAX, logOf, useLive } from '../src/store/live.ts';

describe('loadLog', () => {
  it('asks for a small first page, then growing ones, and keeps every chunk once in order', async () => {
    const stored: LogChunk[] = Array.from({ length: 1500 }, (_, seq) => ({
      executionId: 'big',
      seq,
      stream: 'stdout',
      ts: 1_700_000_000_000 + seq,
      text: `line ${seq}\n`,
    }));
    const limits: number[] = [];
    setTransport({
      call: async (method, args) => {
        if (method !== 'readLog') return { ok: true, value: null };
        const [, after, limit] = args as [string, number, number];
        limits.push(limit);
        return { ok: true, value: stored.filter((c) => c.seq > after).slice(0, limit) };
      },
      subscribe: () => () => {},
    });
    await useLive.getState().loadLog('big');
    expect(limits[0]).toBe(LOG_PAGE_FIRST);
    expect(LOG_PAGE_FIRST).toBeLessThanOrEqual(16);
    // Each page at least as large as the one before, none over the maximum.
    expect(limits.every((l, i) => i === 0 || l >= limits[i - 1]!)).toBe(true);
    expect(Math.max(...limits)).toBe(LOG_PAGE_MAX);
    expect(limits.length).toBeLessThan(12);
    const buffer = logOf('big');
    expect(buffer.lastSeq).toBe(1499);
  });
});
