import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';

import type { LogChunk } from '../core/domain.ts';
import { CroniumError } from '../core/errors.ts';
import { carriesBytes, chunkSize, storedUtf8 } from '../core/logBytes.ts';
import { INSERT_LOG_CHUNK, PACK_FROM, packLogText, type StoredChunk, storeChunks } from './logPacking.ts';

/** Size queued for the writer (chunkSize) beyond which sources are paused, and below which they resume. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;
/**
 * Backlog (chunkSize) from which big output chunks are compressed on the caller's thread before they are
 * sent, instead of on the writer's. Compression is most of the writer's work (about 0.5 s of CPU per 100 MB
 * of log text, against ~0.1 s for the inserts), so in the bench's 100 MB run the thread fell behind ~25
 * times and paused the channel each time, while the caller's thread sat idle waiting for it to drain. Past
 * this mark both threads compress, and a packed chunk is ~4× smaller to copy to the thread. A caller busy
 * with its own work reads less, the backlog falls, and the thread does it all again.
 */
const SHARE_FROM = 2 * 1024 * 1024;
/**
 * Output a writer stores itself, on the caller's thread, before it starts its thread: most runs print a
 * few lines, and a thread costs every such process its start (a few hundred ms of CPU on a loaded
 * machine, before a line is stored) and ~18 MiB. Past this size (bytes/characters in total), or for one
 * batch bigger than it, the thread takes over for good.
 */
const DIRECT_LIMIT = 512 * 1024;

/**
 * Where an execution's log chunks are persisted, off the caller's path. The SQLite store's writer is
 * LogWriter (its own thread and connection); a PostgreSQL store supplies its own with the same surface,
 * chosen where the service is composed.
 */
export interface LogStore {
  /**
   * Queues chunks, kept in order. False when the store is behind (backlog over its high-water mark): the
   * caller pauses its source until whenDrained() resolves.
   */
  write(chunks: LogChunk[]): boolean;
  /** Resolves when the backlog is back under the low-water mark (at once when it is). */
  whenDrained(): Promise<void>;
  /**
   * Resolves once everything written before it is stored.
   * @throws CroniumError internal when a write since the last flush failed.
   */
  flush(): Promise<void>;
  /** Flushes what it can and ends the writer; later writes are ignored. */
  close(): Promise<void>;
}

/**
 * Persists log chunks through a worker thread (see logWriterWorker.ts), after the first few hundred KiB
 * (DIRECT_LIMIT) that it stores itself, synchronously, without starting the thread. Writes are fire-and-forget and
 * kept in order; flush() resolves once everything sent before it is committed, which the executor awaits
 * before it marks an execution finished, so a finished execution always has its whole log.
 */
export class LogWriter implements LogStore {
  private nextFlushId = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private closed = false;
  private backlog = 0;
  /** Batches sent since the last flush: a failure in any of them must still be reported by a flush. */
  private unflushed = 0;
  private drainWaiters: (() => void)[] = [];

  private readonly databasePath: string;
  private thread: Worker | null = null;
  /** The connection for writes on this thread (see DIRECT_LIMIT), opened on first use. */
  private direct: { db: DatabaseSync; insert: StatementSync } | null = null;
  /** Size stored directly so far; once the thread has started, Infinity (everything goes there). */
  private directSize = 0;
  /** A direct write failed since the last flush: the flush reports it. */
  private directFailure: string | null = null;

  constructor(databasePath: string) {
    this.databasePath = databasePath;
  }

  /**
   * The thread, started on first use: a command that writes no log (server list, var get…) starts none.
   * Idle, it never keeps the process alive: unref() comes after the listeners, because adding a
   * 'message' listener refs a worker's port again (Node's MessagePort does so on 'newListener'); only an
   * awaited flush or close holds a reference.
   */
  private get worker(): Worker {
    if (this.thread) return this.thread;
    // From sources the worker is a .ts file beside this one; in a bundle (the packaged app) a .js one.
    const workerFile = import.meta.url.endsWith('.ts') ? './logWriterWorker.ts' : './logWriterWorker.js';
    let url = new URL(workerFile, import.meta.url);
    // In the packaged app the worker sits unpacked beside the archive: a thread cannot start inside it.
    if (url.pathname.includes('.asar/')) url = new URL(url.href.replace('.asar/', '.asar.unpacked/'));
    const worker = new Worker(url, { workerData: { path: this.databasePath } });
    // From here on the thread stores everything, after what was stored directly (already committed).
    this.directSize = Infinity;
    worker.on(
      'message',
      (
        message: { type: 'flushed'; id: number; error: string | null } | { type: 'written'; chars: number },
      ) => {
        if (message.type === 'written') {
          this.backlog -= message.chars;
          if (this.backlog <= LOW_WATER) this.drained();
          return;
        }
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (this.pending.size === 0) worker.unref();
        if (message.error)
          waiter?.reject(new CroniumError('internal', `The log could not be stored: ${message.error}`));
        else waiter?.resolve();
      },
    );
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => {
      this.failAll(new Error('the log writer stopped'));
      // Nothing more will be written by it: release sources paused on its backlog.
      this.backlog = 0;
      this.drained();
      // A writer that died is not reused; the next write starts a new thread unless closed.
      if (this.thread === worker) this.thread = null;
    });
    worker.unref();
    this.thread = worker;
    return worker;
  }

  /**
   * Queues chunks. Returns false when the writer is behind (its backlog is over the high-water mark): the
   * caller should pause its source until whenDrained() resolves, so memory stays bounded by the backlog
   * rather than growing with the output.
   */
  write(chunks: LogChunk[]): boolean {
    if (this.closed || chunks.length === 0) return true;
    let size = 0;
    // The thread is behind (see SHARE_FROM): this batch is packed here, so the two threads share the work.
    const packHere = this.backlog >= SHARE_FROM;
    // Output big enough to be stored packed goes as its UTF-8 bytes (see core/logBytes.ts): copying
    // bytes to the thread is cheaper than decoding them to a string and cloning it, and the thread
    // compresses them as they are. The rest goes as text.
    const sent = chunks.map((c): StoredChunk => {
      const n = chunkSize(c);
      size += n;
      const { executionId, seq, stream, ts } = c;
      if (!carriesBytes(c) || n < PACK_FROM) return { executionId, seq, stream, ts, size: n, text: c.text };
      return packHere
        ? { executionId, seq, stream, ts, size: n, packed: packLogText(storedUtf8(c)) }
        : { executionId, seq, stream, ts, size: n, utf8: storedUtf8(c) };
    });
    if (this.directSize + size <= DIRECT_LIMIT) {
      this.directSize += size;
      if (this.storeDirectly(sent)) return true;
    }
    this.unflushed++;
    this.backlog += size;
    this.worker.postMessage({ type: 'chunks', chunks: sent });
    return this.backlog < HIGH_WATER;
  }

  /**
   * Stores a small batch now, on this thread (see DIRECT_LIMIT); a failure is reported by the next flush.
   * Returns false when the database was busy (another connection writing; this thread must not wait for
   * it, it may be the one holding it): the caller hands the batch to the thread instead.
   */
  private storeDirectly(chunks: StoredChunk[]): boolean {
    if (this.directFailure) return true;
    try {
      if (!this.direct) {
        // No busy wait: see above.
        const db = new DatabaseSync(this.databasePath, { timeout: 0 });
        db.exec('PRAGMA synchronous = NORMAL');
        this.direct = { db, insert: db.prepare(INSERT_LOG_CHUNK) };
      }
      storeChunks(this.direct.db, this.direct.insert, chunks);
    } catch (err) {
      const { errcode } = err as { errcode?: number };
      // SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included.
      if (errcode !== undefined && ((errcode & 0xff) === 5 || (errcode & 0xff) === 6)) return false;
      this.directFailure = (err as Error).message;
    }
    return true;
  }

  whenDrained(): Promise<void> {
    if (this.backlog <= LOW_WATER) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private drained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  flush(): Promise<void> {
    if (this.directFailure) {
      const message = this.directFailure;
      this.directFailure = null;
      return Promise.reject(new CroniumError('internal', `The log could not be stored: ${message}`));
    }
    // Nothing sent since everything was acknowledged: nothing to wait for (the common short script).
    if (this.closed || (this.backlog === 0 && this.unflushed === 0)) return Promise.resolve();
    this.unflushed = 0;
    const id = this.nextFlushId++;
    // An idle writer never keeps the process alive; one that owes an answer does.
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'flush', id });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => {});
    this.closed = true;
    this.direct?.db.close();
    this.direct = null;
    const worker = this.thread;
    if (!worker) return;
    worker.ref();
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ type: 'close' });
    await exited;
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values())
      waiter.reject(new CroniumError('internal', `The log could not be stored: ${err.message}`));
    this.pending.clear();
  }
}
