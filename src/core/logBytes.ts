/**
 * The UTF-8 bytes of a log chunk's text, encoded once by the log sink that made the chunk and shared by
 * everything downstream of it in this process: the stdout hash, the log writer (which compresses bytes) and
 * the CLI (which writes bytes). Before, each of them encoded the same text again, and for 100 MB of output
 * those three encodings were a third of the main thread's time.
 *
 * A side table (a WeakMap keyed by the chunk object) rather than a field: a LogChunk is also sent to the
 * renderer as JSON, which must not carry the bytes, and a chunk that never went through a sink (built by a
 * test, read back from the store) simply has none and is encoded on demand.
 */
import type { LogChunk } from './domain.ts';

interface Encoded {
  utf8: Buffer;
  /** The text may hold escaped bytes (lone U+DC80–U+DCFF, see exec/escapedUtf8.ts). */
  escapes: boolean;
}

const encoded = new WeakMap<LogChunk, Encoded>();

/**
 * Records `utf8` as the UTF-8 encoding of `chunk.text` (what Buffer.from(chunk.text, 'utf8') gives) and
 * whether the text may hold escaped bytes (false only when the sink knows it holds none). The caller
 * must not change the chunk's text afterwards.
 */
export function attachUtf8(chunk: LogChunk, utf8: Buffer, escapes: boolean): void {
  encoded.set(chunk, { utf8, escapes });
}

/** The chunk's text as UTF-8: the bytes its sink recorded, else encoded now (and not kept). */
export function utf8Of(chunk: LogChunk): Buffer {
  return encoded.get(chunk)?.utf8 ?? Buffer.from(chunk.text, 'utf8');
}

/**
 * The recorded UTF-8 bytes when they are also the bytes the script printed (its text holds no escaped
 * bytes), else null: the caller then turns the text back into bytes itself (encodeEscaped).
 */
export function printedBytesOf(chunk: LogChunk): Buffer | null {
  const e = encoded.get(chunk);
  return e && !e.escapes ? e.utf8 : null;
}
