/**
 * The SQLite log writer under bulk output (issue 10): once its thread is behind, big output chunks are
 * compressed on the caller's thread before they are sent (src/store/logWriter.ts SHARE_FROM), and they
 * read back byte for byte like those the thread packed.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { afterAll, describe, expect, it } from 'vitest';

import type { LogChunk } from '../src/core/domain.ts';
import { bytesChunk } from '../src/core/logBytes.ts';
import { unpackLogText } from '../src/store/logPacking.ts';
import { LogWriter } from '../src/store/logWriter.ts';
import { tempDir } from './support/fixtures.ts';

const dir = tempDir();
afterAll(() => dir.remove());

/** A WAL database with the columns the writer fills; `rows()` reads them through a connection of its own. */
function database(name: string) {
  const path = join(dir.path, name);
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(
    'CREATE TABLE log_chunks (execution_id TEXT, seq INTEGER, stream TEXT, ts INTEGER, text TEXT, packed BLOB, PRIMARY KEY (execution_id, seq)) WITHOUT ROWID',
  );
  db.close();
  const rows = () => {
    const read = new DatabaseSync(path);
    try {
      return read.prepare('SELECT seq, text, packed FROM log_chunks ORDER BY seq').all() as {
        seq: number;
        text: string;
        packed: Uint8Array | null;
      }[];
    } finally {
      read.close();
    }
  };
  return { path, rows };
}

/** Log text of about `bytes` UTF-8 bytes, different each call, with 2-, 3- and 4-byte characters. */
function text(bytes: number): string {
  const hex = randomBytes(Math.ceil(bytes / 4)).toString('hex');
  return hex.replace(/.{48}/g, (line) => `${line} café 日本語 🚀 \x1b[32mok\x1b[0m\n`);
}

const output = (seq: number, body: string): LogChunk =>
  bytesChunk({ executionId: 'e', seq, stream: 'stdout', ts: seq }, Buffer.from(body));

type Sent = {
  chunks: ({ seq: number } & ({ packed: Uint8Array } | { utf8: Uint8Array } | { text: string }))[];
};

describe('LogWriter under bulk output', () => {
  it('packs big chunks on the calling thread once its thread is behind, and they read back exactly', async () => {
    const db = database('share.db');
    const writer = new LogWriter(db.path);
    try {
      // Past the direct limit: the thread starts, with 3 MiB queued it has not answered for yet (it
      // cannot, before this thread yields).
      const first = [0, 1, 2].map((seq) => output(seq, text(1024 * 1024)));
      writer.write(first);
      const thread = (writer as unknown as { thread: { postMessage(m: unknown): void } }).thread;
      const sent: Sent[] = [];
      const post = thread.postMessage.bind(thread);
      thread.postMessage = (message: Sent) => {
        sent.push(message);
        post(message);
      };
      const second = [3, 4].map((seq) => output(seq, text(300 * 1024)));
      // A small chunk in the same batch stays text; a system line too.
      const small: LogChunk = { executionId: 'e', seq: 5, stream: 'system', ts: 5, text: 'done\n' };
      writer.write([...second, small]);
      // The big ones went packed (and so ~3× smaller than their text), the small one as text.
      const chunks = sent[0]!.chunks;
      expect(chunks.map((c) => ('packed' in c ? 'packed' : 'text' in c ? 'text' : 'utf8'))).toEqual([
        'packed',
        'packed',
        'text',
      ]);
      const packed = chunks[0] as { packed: Uint8Array };
      expect(packed.packed.length).toBeLessThan(Buffer.byteLength(second[0]!.text) / 1.5);
      await writer.flush();
      const rows = db.rows();
      expect(rows.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
      const all = [...first, ...second];
      for (const [i, chunk] of all.entries()) expect(unpackLogText(rows[i]!.packed!)).toBe(chunk.text);
      expect(rows[5]!.text).toBe('done\n');
      expect(rows[5]!.packed).toBeNull();
    } finally {
      await writer.close();
    }
  }, 60_000);
});
