import type { LogChunk } from '../core/domain.ts';
import { CroniumError } from '../core/errors.ts';
import { carriesBytes, chunkSize, storedUtf8 } from '../core/logBytes.ts';
import { PACK_FROM, packLogText } from './logPacking.ts';
import type { Sql, SqlValue } from './sql.ts';

/** Characters queued for the writer beyond which sources are paused, and below which they resume (as LogWriter). */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 2 * 1024 * 1024;
/**
 * Rows per INSERT: one statement per batch instead of one per chunk is what makes a chatty script cheap
 * over a network. 1,000 rows × 6 values stays far below PostgreSQL's 65,535 bound parameters.
 */
const BATCH_ROWS = 1000;
/** Characters per INSERT, so that one batch of large chunks stays a few MB on the wire. */
const BATCH_CHARS = 4 * 1024 * 1024;

const COLUMNS = '(execution_id, seq, stream, ts, text, packed)';

/**
 * Whether a chunk's text goes to the `packed` column: from PACK_FROM characters on (as on SQLite), and
 * whenever it holds a NUL character, which PostgreSQL's TEXT cannot store (a script may print binary).
 */
export function mustPack(text: string): boolean {
  return text.length >= PACK_FROM || text.includes('\0');
}

type Queued = { chunk: LogChunk } | { flush: { resolve: () => void; reject: (err: Error) => void } };

/**
 * Persists log chunks on PostgreSQL with the same surface as LogWriter (logWriter.ts, the SQLite one):
 * writes are fire-and-forget and kept in order; flush() resolves once everything written before it is
 * committed, or rejects when a batch since the previous flush failed (the chunks of a failed batch, and
 * those written after it until that flush, are dropped, as LogWriter does); write() returns false above
 * the high-water mark until whenDrained(). Chunks go through the pool as multi-row INSERTs, one batch in
 * flight at a time (so they land in order); large chunks, and those with a NUL, are stored packed (mustPack).
 */
export class PostgresLogWriter {
  private readonly db: Sql;
  /** Queued items from `head` on (an index, not shift(): 100k queued chunks would make shift quadratic). */
  private queue: Queued[] = [];
  private head = 0;
  private backlog = 0;
  private failure: string | null = null;
  private closed = false;
  /** The running pump, or null when the queue is empty and nothing is in flight. */
  private pumping: Promise<void> | null = null;
  private drainWaiters: (() => void)[] = [];

  /** Writes into `db` (the store's PostgreSQL database; any Sql works, the SQL is portable). */
  constructor(db: Sql) {
    this.db = db;
  }

  /**
   * Queues chunks. Returns false when the writer is behind (its backlog is over the high-water mark): the
   * caller should pause its source until whenDrained() resolves.
   */
  write(chunks: LogChunk[]): boolean {
    if (this.closed || chunks.length === 0) return true;
    for (const chunk of chunks) {
      this.queue.push({ chunk });
      this.backlog += chunkSize(chunk);
    }
    this.pump();
    return this.backlog < HIGH_WATER;
  }

  /** Resolves when the backlog is at or below the low-water mark. */
  whenDrained(): Promise<void> {
    if (this.backlog <= LOW_WATER) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Resolves once every chunk written before it is committed; rejects (CroniumError internal) when a batch
   * since the previous flush could not be stored, then starts afresh.
   */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.pending() === 0 && !this.pumping) return this.settle();
    return new Promise((resolve, reject) => {
      this.queue.push({ flush: { resolve, reject } });
      this.pump();
    });
  }

  /** Flushes (ignoring a failure it reports), then takes no more writes. Never ends the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => {});
    this.closed = true;
  }

  /** Settles a flush now: the failure since the last one, or success. */
  private settle(): Promise<void> {
    const failure = this.failure;
    this.failure = null;
    return failure
      ? Promise.reject(new CroniumError('internal', `The log could not be stored: ${failure}`))
      : Promise.resolve();
  }

  private pump(): void {
    this.pumping ??= this.drain().finally(() => {
      this.pumping = null;
      // Written while the last batch was settling.
      if (this.pending() > 0) this.pump();
    });
  }

  private pending(): number {
    return this.queue.length - this.head;
  }

  /** The next queued item, taken off the queue. */
  private take(): Queued {
    const item = this.queue[this.head++]!;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  private async drain(): Promise<void> {
    while (this.pending() > 0) {
      const first = this.queue[this.head]!;
      if ('flush' in first) {
        this.take();
        this.settle().then(first.flush.resolve, first.flush.reject);
        continue;
      }
      const batch: LogChunk[] = [];
      let chars = 0;
      while (batch.length < BATCH_ROWS && chars < BATCH_CHARS && this.pending() > 0) {
        const next = this.queue[this.head]!;
        if ('flush' in next) break;
        this.take();
        batch.push(next.chunk);
        chars += chunkSize(next.chunk);
      }
      // After a failure, chunks are dropped until a flush reports it (a log with a hole is not stored on).
      if (!this.failure) await this.insert(batch);
      this.backlog -= chars;
      if (this.backlog <= LOW_WATER) this.drained();
    }
  }

  private async insert(batch: LogChunk[]): Promise<void> {
    const values: SqlValue[] = [];
    for (const c of batch) {
      // Big output is packed from its bytes, never decoded (see core/logBytes.ts).
      if (carriesBytes(c) && chunkSize(c) >= PACK_FROM) {
        values.push(c.executionId, c.seq, c.stream, c.ts, '', packLogText(storedUtf8(c)));
        continue;
      }
      const text = c.text;
      const packed = mustPack(text);
      values.push(
        c.executionId,
        c.seq,
        c.stream,
        c.ts,
        packed ? '' : text,
        packed ? packLogText(text) : null,
      );
    }
    const rows = batch.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
    try {
      await this.db.run(`INSERT INTO log_chunks ${COLUMNS} VALUES ${rows}`, values);
    } catch (err) {
      this.failure = (err as Error).message;
    }
  }

  private drained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
