import { Worker } from 'node:worker_threads';

import type { LogChunk } from '../core/domain.ts';
import { CroniumError } from '../core/errors.ts';
import { carriesBytes, chunkSize, storedUtf8 } from '../core/logBytes.ts';
import { PACK_FROM } from './logPacking.ts';

/** Size queued for the writer (chunkSize) beyond which sources are paused, and below which they resume. */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 2 * 1024 * 1024;

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
 * Persists log chunks through a worker thread (see logWriterWorker.ts). Writes are fire-and-forget and
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
    this.unflushed++;
    let size = 0;
    // Output big enough to be stored packed goes as its UTF-8 bytes (see core/logBytes.ts): copying
    // bytes to the thread is cheaper than decoding them to a string and cloning it, and the thread
    // compresses them as they are. The rest goes as text.
    const sent = chunks.map((c) => {
      const n = chunkSize(c);
      size += n;
      const { executionId, seq, stream, ts } = c;
      return carriesBytes(c) && n >= PACK_FROM
        ? { executionId, seq, stream, ts, size: n, utf8: storedUtf8(c) }
        : { executionId, seq, stream, ts, size: n, text: c.text };
    });
    this.backlog += size;
    this.worker.postMessage({ type: 'chunks', chunks: sent });
    return this.backlog < HIGH_WATER;
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
