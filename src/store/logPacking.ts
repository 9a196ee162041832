/**
 * How big log chunks are stored: the `packed` column of log_chunks holds the chunk's UTF-8 text compressed,
 * and `text` is then ''. New chunks are Zstandard (level 1): in the bench's 100 MB profile the log writer's
 * thread spent most of its time in deflate, and zstd level 1 compresses log text about 1.6× faster and a
 * little smaller. Chunks written before are raw deflate (RFC 1951) and still read: a Zstandard frame begins
 * with the magic number 28 B5 2F FD (RFC 8878 §3.1.1), which a raw deflate stream cannot begin with (a first
 * byte 0x28 is a stored block, whose length and its complement would have to be 0x2FB5 and 0xD04A).
 */
import { constants, inflateRawSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';

/** Chunks from this many characters on are stored packed: writing less is what makes big outputs fast. */
export const PACK_FROM = 8 * 1024;

/** A chunk's text (or its UTF-8 bytes: the same result), compressed for the `packed` column. */
export function packLogText(text: string | Uint8Array): Buffer {
  return zstdCompressSync(text, { params: { [constants.ZSTD_c_compressionLevel]: 1 } });
}

/** The text of a `packed` column: Zstandard, or raw deflate as written before. Throws on corrupt data. */
export function unpackLogText(packed: Uint8Array): string {
  const zstd = packed[0] === 0x28 && packed[1] === 0xb5 && packed[2] === 0x2f && packed[3] === 0xfd;
  return (zstd ? zstdDecompressSync(packed) : inflateRawSync(packed)).toString('utf8');
}

/**
 * A chunk on its way into log_chunks (see LogWriter): its text, or (output stored packed) its UTF-8 bytes,
 * or those bytes already packed by the sender (packLogText); `size` is what the writer counted for it
 * (bytes or characters, see core/logBytes.ts chunkSize).
 */
export type StoredChunk = { executionId: string; seq: number; stream: string; ts: number; size: number } & (
  { text: string } | { utf8: Uint8Array } | { packed: Uint8Array }
);

/** The statement storeChunks() runs, prepared once per connection. */
export const INSERT_LOG_CHUNK =
  'INSERT INTO log_chunks (execution_id, seq, stream, ts, text, packed) VALUES (?, ?, ?, ?, ?, ?)';

/**
 * Inserts chunks in one transaction, packing those from PACK_FROM on. Returns their total size.
 * @throws the engine's error (the transaction is rolled back).
 */
export function storeChunks(
  db: { exec(sql: string): void; readonly isTransaction: boolean },
  insert: { run(...values: (string | number | Uint8Array | null)[]): unknown },
  chunks: StoredChunk[],
): number {
  let size = 0;
  try {
    db.exec('BEGIN IMMEDIATE');
    for (const c of chunks) {
      if ('packed' in c) insert.run(c.executionId, c.seq, c.stream, c.ts, '', c.packed);
      else if ('utf8' in c) insert.run(c.executionId, c.seq, c.stream, c.ts, '', packLogText(c.utf8));
      else if (c.text.length >= PACK_FROM)
        insert.run(c.executionId, c.seq, c.stream, c.ts, '', packLogText(c.text));
      else insert.run(c.executionId, c.seq, c.stream, c.ts, c.text, null);
      size += c.size;
    }
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
  return size;
}
