/**
 * PostgresLogWriter on a real PostgreSQL (a throwaway server for this file): order over 100k chunks, large
 * and NUL-holding chunks packed, flush() resolving only after what was written before it is committed,
 * a failed batch reported by the next flush (and only that one), and the backpressure signals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LogChunk } from '../src/core/domain.ts';
import { PACK_FROM, unpackLogText } from '../src/store/logPacking.ts';
import { openPostgres, type PostgresDatabase } from '../src/store/postgresEngine.ts';
import { PostgresLogWriter } from '../src/store/postgresLogWriter.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

let server: TestPostgres;
let db: PostgresDatabase;
let executions = 0;

beforeAll(async () => {
  server = await startPostgres();
  db = await openPostgres(server.createDatabase('logs'));
});
afterAll(async () => {
  await db?.close();
  server?.stop();
});

/** A run and one execution to hang chunks on; returns the execution's id. */
async function execution(): Promise<string> {
  const id = `e${++executions}`;
  await db.run(
    "INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at) VALUES (?, 'j', 'job', 'cli', 10, 'auto', 'running', ?)",
    [`r${id}`, Date.now()],
  );
  await db.run(
    "INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, started_at) VALUES (?, ?, 'j', 'job', 's', 'srv', 'running', ?)",
    [id, `r${id}`, Date.now()],
  );
  return id;
}

/** The stored log of an execution, texts unpacked, in seq order. */
async function stored(executionId: string): Promise<{ seq: number; stream: string; text: string }[]> {
  const rows = await db.all<{ seq: number; stream: string; text: string; packed: Uint8Array | null }>(
    'SELECT seq, stream, text, packed FROM log_chunks WHERE execution_id = ? ORDER BY seq',
    [executionId],
  );
  return rows.map((r) => ({
    seq: r.seq,
    stream: r.stream,
    text: r.packed ? unpackLogText(r.packed) : r.text,
  }));
}

const chunk = (executionId: string, seq: number, text: string): LogChunk => ({
  executionId,
  seq,
  stream: seq % 7 === 0 ? 'stderr' : 'stdout',
  ts: 1_700_000_000_000 + seq,
  text,
});

describe('PostgresLogWriter', () => {
  it('stores 100,000 chunks in order, packing large ones and those holding a NUL', async () => {
    const id = await execution();
    const writer = new PostgresLogWriter(db);
    const big = 'a line of a big chunk\n'.repeat(Math.ceil(PACK_FROM / 22));
    const text = (seq: number) =>
      seq % 10_000 === 5 ? big + seq : seq % 10_000 === 6 ? `bin\0ary ${seq}` : `line ${seq} ✓\n`;
    const started = performance.now();
    for (let seq = 0; seq < 100_000; seq += 100) {
      const batch: LogChunk[] = [];
      for (let i = seq; i < seq + 100; i++) batch.push(chunk(id, i, text(i)));
      if (!writer.write(batch)) await writer.whenDrained();
    }
    await writer.flush();
    const elapsed = performance.now() - started;
    const rows = await stored(id);
    expect(rows).toHaveLength(100_000);
    const expected = Array.from({ length: 100_000 }, (_, i) => ({
      seq: i,
      stream: i % 7 === 0 ? 'stderr' : 'stdout',
      text: text(i),
    }));
    expect(rows).toEqual(expected);
    const packed = await db.get<{ n: number }>(
      "SELECT count(*) AS n FROM log_chunks WHERE execution_id = ? AND packed IS NOT NULL AND text = ''",
      [id],
    );
    expect(packed).toEqual({ n: 20 });
    // A figure for the report, not a bound: 100k chunks through multi-row INSERTs.
    console.log(`PostgresLogWriter: 100,000 chunks stored in ${Math.round(elapsed)} ms`);
    await writer.close();
  });

  it('resolves flush only after everything written before it is committed', async () => {
    const id = await execution();
    const writer = new PostgresLogWriter(db);
    // Nothing written: nothing to wait for.
    await writer.flush();
    for (let round = 1; round <= 5; round++) {
      const before = round * 3000;
      const batch = Array.from({ length: 3000 }, (_, i) => chunk(id, before - 3000 + i, `r${round} ${i}\n`));
      writer.write(batch);
      const flushed = writer.flush();
      // Written after the flush was asked for: not awaited by it, but stored in order after it.
      writer.write([chunk(id, 1_000_000 + round, 'after\n')]);
      await flushed;
      const count = await db.get<{ n: number }>(
        'SELECT count(*) AS n FROM log_chunks WHERE execution_id = ? AND seq < 1000000',
        [id],
      );
      expect(count).toEqual({ n: before });
    }
    await writer.close();
    expect(await stored(id)).toHaveLength(15_005);
  });

  it('reports a failed batch through the next flush only, and stores again afterwards', async () => {
    const id = await execution();
    const writer = new PostgresLogWriter(db);
    writer.write([chunk(id, 0, 'kept\n')]);
    await writer.flush();
    // A chunk of an execution that does not exist breaks its batch (foreign key).
    writer.write([chunk('no-such-execution', 0, 'lost\n')]);
    writer.write([chunk(id, 1, 'dropped with it: the log has a hole now\n')]);
    await expect(writer.flush()).rejects.toThrow(/The log could not be stored: .*foreign key/);
    writer.write([chunk(id, 2, 'stored again\n')]);
    await writer.flush();
    expect((await stored(id)).map((r) => r.text)).toEqual(['kept\n', 'stored again\n']);
    // A duplicate seq fails too, and close() still ends cleanly.
    writer.write([chunk(id, 2, 'duplicate\n')]);
    await expect(writer.flush()).rejects.toThrow(/duplicate key/);
    await writer.close();
    expect(writer.write([chunk(id, 3, 'after close\n')])).toBe(true);
    await writer.flush();
    expect(await stored(id)).toHaveLength(2);
  });

  it('asks its source to pause above the high-water mark and releases it when drained', async () => {
    const id = await execution();
    const writer = new PostgresLogWriter(db);
    const mb = 'x'.repeat(1024 * 1024 - 1) + '\n';
    const accepted = Array.from({ length: 9 }, (_, i) => writer.write([chunk(id, i, mb)]));
    expect(accepted.slice(0, 7).every(Boolean)).toBe(true);
    expect(accepted[8]).toBe(false);
    await writer.whenDrained();
    await writer.flush();
    expect(await writer.whenDrained()).toBeUndefined();
    expect((await stored(id)).map((r) => r.text.length)).toEqual(Array(9).fill(mb.length));
    await writer.close();
  });
});
