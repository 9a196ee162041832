/**
 * Writes log chunks into the database on a thread of its own, so that a script printing 100 MB costs the
 * main thread (the Electron main process, the CLI's output) no disk time. Loaded as a worker entry point:
 * it imports only the packing rule (logPacking.ts) beside it.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

import { PACK_FROM, packLogText } from './logPacking.ts';

/** A chunk as LogWriter sends it: its text, or (output stored packed) its UTF-8 bytes; `size` as counted there. */
type Chunk = { executionId: string; seq: number; stream: string; ts: number; size: number } & (
  | { text: string }
  | { utf8: Uint8Array }
);

type Message = { type: 'chunks'; chunks: Chunk[] } | { type: 'flush'; id: number } | { type: 'close' };

const db = new DatabaseSync((workerData as { path: string }).path, { timeout: 10_000 });
db.exec('PRAGMA synchronous = NORMAL');
const insert = db.prepare(
  'INSERT INTO log_chunks (execution_id, seq, stream, ts, text, packed) VALUES (?, ?, ?, ?, ?, ?)',
);
let failure: string | null = null;

parentPort!.on('message', (message: Message) => {
  if (message.type === 'chunks') {
    if (failure) {
      parentPort!.postMessage({
        type: 'written',
        chars: message.chunks.reduce((n, c) => n + c.size, 0),
      });
      return;
    }
    let chars = 0;
    try {
      db.exec('BEGIN IMMEDIATE');
      for (const c of message.chunks) {
        if ('utf8' in c) insert.run(c.executionId, c.seq, c.stream, c.ts, '', packLogText(c.utf8));
        else if (c.text.length >= PACK_FROM)
          insert.run(c.executionId, c.seq, c.stream, c.ts, '', packLogText(c.text));
        else insert.run(c.executionId, c.seq, c.stream, c.ts, c.text, null);
        chars += c.size;
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      failure = (err as Error).message;
    }
    parentPort!.postMessage({ type: 'written', chars });
  } else if (message.type === 'flush') {
    parentPort!.postMessage({ type: 'flushed', id: message.id, error: failure });
    failure = null;
  } else {
    db.close();
    parentPort!.close();
  }
});
