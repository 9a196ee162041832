/**
 * Writes log chunks into the database on a thread of its own, so that a script printing 100 MB costs the
 * main thread (the Electron main process, the CLI's output) no disk time. Loaded as a worker entry point:
 * it imports only the packing rule (logPacking.ts) beside it.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

import { INSERT_LOG_CHUNK, type StoredChunk, storeChunks } from './logPacking.ts';

type Message = { type: 'chunks'; chunks: StoredChunk[] } | { type: 'flush'; id: number } | { type: 'close' };

const db = new DatabaseSync((workerData as { path: string }).path, { timeout: 10_000 });
db.exec('PRAGMA synchronous = NORMAL');
const insert = db.prepare(INSERT_LOG_CHUNK);
let failure: string | null = null;

parentPort!.on('message', (message: Message) => {
  if (message.type === 'chunks') {
    const size = message.chunks.reduce((n, c) => n + c.size, 0);
    if (!failure) {
      try {
        storeChunks(db, insert, message.chunks);
      } catch (err) {
        failure = (err as Error).message;
      }
    }
    parentPort!.postMessage({ type: 'written', chars: size });
  } else if (message.type === 'flush') {
    parentPort!.postMessage({ type: 'flushed', id: message.id, error: failure });
    failure = null;
  } else {
    db.close();
    parentPort!.close();
  }
});
