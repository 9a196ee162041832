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
  const c = (k: number, lo = 0x80, hi = 0xbf) => i + k < buf.length && buf[i + k]! >= lo && buf[i + k]! <= hi;
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return c(1) ? 2 : 0;
  if (b === 0xe0) return c(1, 0xa0) && c(2) ? 3 : 0;
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return c(1) && c(2) ? 3 : 0;
  if (b === 0xed) return c(1, 0x80, 0x9f) && c(2) ? 3 : 0;
  if (b === 0xf0) return c(1, 0x90) && c(2) && c(3) ? 4 : 0;
  if (b >= 0xf1 && b <= 0xf3) return c(1) && c(2) && c(3) ? 4 : 0;
  if (b === 0xf4) return c(1, 0x80, 0x8f) && c(2) && c(3) ? 4 : 0;
  return 0;
}

/** Decodes complete bytes; invalid bytes become U+DC80 + byte − 0x80. */
export function decodeEscaped(buf: Buffer): string {
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let run = 0;
  for (let i = 0; i < buf.length;) {
    const len = sequenceAt(buf, i);
    if (len > 0) {
      i += len;
      continue;
    }
    out += buf.toString('utf8', run, i) + String.fromCharCode(LOW + buf[i]!);
    i++;
    run = i;
  }
  return out + buf.toString('utf8', run);
}

/** A lone U+DC80–U+DCFF (not the second half of a pair): an escaped byte. */
const ESCAPE = /(?<![\ud800-\udbff])[\udc80-\udcff]/g;

/** Text from the log path back to bytes: escapes become the bytes they stand for, the rest UTF-8. */
export function encodeEscaped(text: string): Buffer {
  ESCAPE.lastIndex = 0;
  if (!ESCAPE.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let last = 0;
  ESCAPE.lastIndex = 0;
  for (let m = ESCAPE.exec(text); m; m = ESCAPE.exec(text)) {
    parts.push(Buffer.from(text.slice(last, m.index), 'utf8'), Buffer.of(text.charCodeAt(m.index) - LOW));
    last = m.index + 1;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}
