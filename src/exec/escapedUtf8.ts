/**
 * UTF-8 that keeps every byte a script printed. Valid sequences decode as usual; each byte of an invalid
 * one becomes a lone low surrogate U+DC80–U+DCFF (Python's "surrogateescape", PEP 383), which no valid
 * UTF-8 can produce, so `encodeEscaped` turns the text back into the very bytes printed: the CLI writes a
 * script's output byte for byte (Latin-1, binary) while the log path (masking, batching) works on text.
 * What a store or a screen shows of an escape is U+FFFD, as before. Validity follows RFC 3629 §4.
 */
import { isUtf8 } from 'node:buffer';

const LOW = 0xdc00;

/**
 * Cuts a byte stream at character boundaries without decoding it: each piece given back ends where a
 * UTF-8 character ends (an unfinished sequence at a piece's end is held and put before the next piece), so
 * pieces can be masked, batched and written as bytes, and turned into text (decodeEscaped) one by one or
 * joined, with the same result. `end()` gives what is still held.
 */
export class Utf8Boundary {
  private pending: Buffer | null = null;

  /** The complete characters so far (a view of `data` when nothing was held); holds an unfinished tail. */
  push(data: Buffer): Buffer {
    const buf = this.pending ? Buffer.concat([this.pending, data]) : data;
    const cut = incompleteTail(buf);
    this.pending = cut < buf.length ? Buffer.from(buf.subarray(cut)) : null;
    return cut < buf.length ? buf.subarray(0, cut) : buf;
  }

  /** What is still held (an unfinished sequence at the very end of the stream), or an empty buffer. */
  end(): Buffer {
    const rest = this.pending;
    this.pending = null;
    return rest ?? Buffer.alloc(0);
  }
}

/** A streaming decoder: a character split across two pieces is joined; `end()` flushes what is held. */
export class EscapingDecoder {
  private readonly boundary = new Utf8Boundary();

  /** Decodes a piece; an incomplete sequence at its end is held for the next piece. */
  decode(data: Buffer): string {
    return decodeEscaped(this.boundary.push(data));
  }

  /** What is still held (an unfinished sequence at the very end): escaped byte by byte. */
  end(): string {
    return decodeEscaped(this.boundary.end());
  }
}

/** Where a possibly unfinished sequence starts at the end of `buf` (its length when there is none). */
function incompleteTail(buf: Buffer): number {
  const n = buf.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0xc0) return n;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return n - i < need ? i : n;
  }
  return n;
}

/** The length of the valid sequence starting at i (RFC 3629 §4), or 0 when the byte there is invalid. */
function sequenceAt(buf: Buffer, i: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  const n = buf.length;
  // Continuation bytes are 0x80–0xBF; the second byte's range is narrower after E0, ED, F0 and F4.
  const b1 = i + 1 < n ? buf[i + 1]! : -1;
  if (b >= 0xc2 && b <= 0xdf) return b1 >= 0x80 && b1 <= 0xbf ? 2 : 0;
  const b2 = i + 2 < n ? buf[i + 2]! : -1;
  if (b2 < 0x80 || b2 > 0xbf) return 0;
  if (b >= 0xe0 && b <= 0xef) {
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return b1 >= lo && b1 <= hi ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const b3 = i + 3 < n ? buf[i + 3]! : -1;
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return b1 >= lo && b1 <= hi && b3 >= 0x80 && b3 <= 0xbf ? 4 : 0;
  }
  return 0;
}

/** Whether UTF-16 code units laid out in memory read as UTF-16LE (swapped before decoding when not). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes complete bytes; invalid bytes become U+DC80 + byte − 0x80. Valid UTF-8 (the common case) is
 * Node's own decoder; otherwise one pass writes UTF-16 code units (never more than the bytes) decoded
 * natively at the end — per byte, no string built up piece by piece: output full of invalid bytes (a
 * binary file, Latin-1 text) went through a byte-by-byte loop of string joins at ~2 MB/s.
 */
export function decodeEscaped(buf: Buffer): string {
  if (isUtf8(buf)) return buf.toString('utf8');
  const units = new Uint16Array(buf.length);
  let n = 0;
  for (let i = 0; i < buf.length;) {
    const b = buf[i]!;
    if (b < 0x80) {
      units[n++] = b;
      i++;
      continue;
    }
    const len = sequenceAt(buf, i);
    if (len === 0) {
      units[n++] = LOW + b;
      i++;
    } else if (len === 2) {
      units[n++] = ((b & 0x1f) << 6) | (buf[i + 1]! & 0x3f);
      i += 2;
    } else if (len === 3) {
      units[n++] = ((b & 0x0f) << 12) | ((buf[i + 1]! & 0x3f) << 6) | (buf[i + 2]! & 0x3f);
      i += 3;
    } else {
      const cp =
        (((b & 0x07) << 18) |
          ((buf[i + 1]! & 0x3f) << 12) |
          ((buf[i + 2]! & 0x3f) << 6) |
          (buf[i + 3]! & 0x3f)) -
        0x10000;
      units[n++] = 0xd800 + (cp >> 10);
      units[n++] = 0xdc00 + (cp & 0x3ff);
      i += 4;
    }
  }
  const bytes = Buffer.from(units.buffer, 0, n * 2);
  if (!LITTLE_ENDIAN) bytes.swap16();
  return bytes.toString('utf16le');
}

/**
 * The bytes with each invalid byte replaced by U+FFFD's UTF-8 (EF BF BD): the same bytes as
 * `Buffer.from(decodeEscaped(buf), 'utf8')` (what the store keeps and the stdout hash reads), without the
 * detour through a string. Valid runs are copied natively.
 */
export function replacingInvalid(buf: Buffer): Buffer {
  if (isUtf8(buf)) return buf;
  const out = Buffer.allocUnsafe(buf.length * 3);
  let n = 0;
  let run = 0;
  for (let i = 0; i < buf.length;) {
    if (buf[i]! < 0x80) {
      i++;
      continue;
    }
    const len = sequenceAt(buf, i);
    if (len > 0) {
      i += len;
      continue;
    }
    if (i > run) n += buf.copy(out, n, run, i);
    out[n++] = 0xef;
    out[n++] = 0xbf;
    out[n++] = 0xbd;
    run = ++i;
  }
  n += buf.copy(out, n, run);
  return Buffer.from(out.subarray(0, n));
}

/** A lone U+DC80–U+DCFF (not the second half of a pair): an escaped byte. */
const ESCAPE = /(?<![\ud800-\udbff])[\udc80-\udcff]/g;

/** Text from the log path back to bytes: escapes become the bytes they stand for, the rest UTF-8. */
export function encodeEscaped(text: string): Buffer {
  ESCAPE.lastIndex = 0;
  if (!ESCAPE.test(text)) return Buffer.from(text, 'utf8');
  // One pass writing bytes in place (never more than 3 per UTF-16 code unit): an escape is its byte, a
  // surrogate pair 4 bytes, any other lone surrogate U+FFFD as Buffer.from writes it; one copy at the end.
  const out = Buffer.allocUnsafe(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (
      c >= 0xd800 &&
      c <= 0xdbff &&
      i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      out[n++] = 0xf0 | (cp >> 18);
      out[n++] = 0x80 | ((cp >> 12) & 0x3f);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    } else if (c >= LOW + 0x80 && c <= LOW + 0xff) {
      out[n++] = c - LOW;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out[n++] = 0xef;
      out[n++] = 0xbf;
      out[n++] = 0xbd;
    } else {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return Buffer.from(out.subarray(0, n));
}
