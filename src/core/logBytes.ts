/**
 * Log chunks of a script's output carried as the bytes it printed (secrets masked) instead of text. For
 * 100 MB of output, decoding every chunk to text and encoding it back (the stdout hash, the log writer,
 * the CLI's stdout) was a third of the CLI's time, and a chunk that held both its text and its bytes
 * doubled the memory of a queue behind a slow reader. So a chunk made by a log sink holds only its bytes,
 * and its `text` is decoded when someone reads it (the live view, JSON, structured clone: an own
 * enumerable getter, which all of them call), each time, without keeping it.
 *
 * The bytes sit under a non-enumerable symbol: JSON, structured clone, spreading and deep equality do not
 * see them, and a chunk that never went through a sink (a system line, read back from the store, built by
 * a test) simply has none; the helpers below then work from its text.
 */
import { isUtf8 } from 'node:buffer';

import { decodeEscaped, encodeEscaped, replacingInvalid } from '../exec/escapedUtf8.ts';
import type { LogChunk } from './domain.ts';

const RAW = Symbol('cronium.logBytes');

interface Raw {
  /** The bytes printed (masked), ending on a character boundary except at the stream's very end. */
  bytes: Buffer;
  /** The bytes are valid UTF-8 (nearly all output): then text and stored UTF-8 are just these bytes. */
  valid: boolean;
  /** The stored UTF-8 of invalid bytes (each U+FFFD), once asked for. */
  stored?: Buffer;
}

type WithRaw = LogChunk & { [RAW]?: Raw };

/**
 * A chunk whose text is `bytes` decoded (invalid bytes kept as escapes: see exec/escapedUtf8.ts), decoded
 * only when read. `bytes` is owned by the chunk from here on (the caller must not change it). Assigning
 * `text` replaces the bytes with that text.
 */
export function bytesChunk(fields: Omit<LogChunk, 'text'>, bytes: Buffer): LogChunk {
  const raw: Raw = { bytes, valid: isUtf8(bytes) };
  const chunk = {
    ...fields,
    get text(): string {
      return raw.valid ? raw.bytes.toString('utf8') : decodeEscaped(raw.bytes);
    },
    set text(value: string) {
      Object.defineProperty(this, 'text', { value, writable: true, enumerable: true, configurable: true });
      delete (this as WithRaw)[RAW];
    },
  };
  Object.defineProperty(chunk, RAW, { value: raw, enumerable: false, configurable: true });
  return chunk;
}

/** The bytes a chunk stands for as printed (escapes turned back into their bytes): what the CLI writes. */
export function printedBytes(chunk: LogChunk): Buffer {
  return (chunk as WithRaw)[RAW]?.bytes ?? encodeEscaped(chunk.text);
}

/**
 * The chunk's text as UTF-8, as the store keeps it and the stdout hash reads it: an escaped (invalid)
 * byte is U+FFFD there, as when the text itself is encoded.
 */
export function storedUtf8(chunk: LogChunk): Buffer {
  const raw = (chunk as WithRaw)[RAW];
  if (!raw) return Buffer.from(chunk.text, 'utf8');
  // Kept: the stdout hash and the log writer both ask for it.
  return raw.valid ? raw.bytes : (raw.stored ??= replacingInvalid(raw.bytes));
}

/**
 * A chunk's size for flow control and batching: its bytes when it carries them, else its characters
 * (the two differ only by multi-byte characters; both bound memory alike).
 */
export function chunkSize(chunk: LogChunk): number {
  return (chunk as WithRaw)[RAW]?.bytes.length ?? chunk.text.length;
}

/** True when the chunk carries bytes (made by a log sink from a script's output). */
export function carriesBytes(chunk: LogChunk): boolean {
  return (chunk as WithRaw)[RAW] !== undefined;
}
