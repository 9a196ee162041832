/**
 * UTF-8 with every invalid byte kept as an escape (PEP 383 surrogateescape, src/exec/escapedUtf8.ts):
 * the one-pass decoder and encoder against a plain reference that follows RFC 3629 §4's table byte by byte
 * (what the code did before it was made fast: verify20 found output full of invalid bytes 25× slower than
 * ssh). Arbitrary bytes, text with lone surrogates anywhere, and both ends of every range.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { decodeEscaped, encodeEscaped, replacingInvalid } from '../src/exec/escapedUtf8.ts';

/** RFC 3629 §4: the length of the well-formed sequence at i, else 0. */
function referenceLength(b: Uint8Array, i: number): number {
  const at = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  const x = b[i]!;
  if (x < 0x80) return 1;
  if (x >= 0xc2 && x <= 0xdf) return at(1) ? 2 : 0;
  if (x === 0xe0) return at(1, 0xa0) && at(2) ? 3 : 0;
  if ((x >= 0xe1 && x <= 0xec) || x === 0xee || x === 0xef) return at(1) && at(2) ? 3 : 0;
  if (x === 0xed) return at(1, 0x80, 0x9f) && at(2) ? 3 : 0;
  if (x === 0xf0) return at(1, 0x90) && at(2) && at(3) ? 4 : 0;
  if (x >= 0xf1 && x <= 0xf3) return at(1) && at(2) && at(3) ? 4 : 0;
  if (x === 0xf4) return at(1, 0x80, 0x8f) && at(2) && at(3) ? 4 : 0;
  return 0;
}

/** Each well-formed sequence decoded by Node, each other byte as U+DC80 + byte − 0x80. */
function referenceDecode(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length;) {
    const len = referenceLength(b, i);
    if (len === 0) out += String.fromCharCode(0xdc00 + b[i++]!);
    else out += Buffer.from(b.subarray(i, (i += len))).toString('utf8');
  }
  return out;
}

/** Bytes with many near-misses: well-formed characters, lone bytes of every kind, cut sequences. */
const bytesLike = fc
  .array(
    fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 4 }),
      fc.constantFrom(
        ...['a', 'é', '日', '🚀', '\u{10ffff}', '\u{ffff}', '\u{800}', '\u{80}'].map((s) => Buffer.from(s)),
        ...[
          [0xc0, 0x80],
          [0xc1, 0xbf],
          [0xe0, 0x9f, 0x80],
          [0xed, 0xa0, 0x80],
          [0xf0, 0x8f, 0xbf, 0xbf],
        ].map((a) => Buffer.from(a)),
        ...[[0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x9a], [0xff], [0x80]].map(
          (a) => Buffer.from(a),
        ),
      ),
    ),
    { maxLength: 30 },
  )
  .map((parts) => Buffer.concat(parts));

describe('escaped UTF-8', () => {
  it('decodes as the byte-by-byte reference does, and encodes back to the same bytes (property)', () => {
    fc.assert(
      fc.property(bytesLike, (bytes) => {
        const text = decodeEscaped(bytes);
        expect(text).toBe(referenceDecode(bytes));
        expect(encodeEscaped(text)).toEqual(bytes);
        // What the store keeps: each escape as U+FFFD, straight from the bytes.
        expect(replacingInvalid(bytes)).toEqual(Buffer.from(text, 'utf8'));
      }),
      { numRuns: 3000 },
    );
  });

  it('encodes any text as Buffer.from does, but for escapes (lone surrogates become U+FFFD)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }), (codes) => {
        const text = String.fromCharCode(...codes, 0xdc80);
        // The reference: each lone U+DC80–U+DCFF its byte, the rest as Node encodes it.
        const parts = text.split(/((?<![\ud800-\udbff])[\udc80-\udcff])/);
        const expected = Buffer.concat(
          parts.map((p, i) => (i % 2 === 1 ? Buffer.of(p.charCodeAt(0) - 0xdc00) : Buffer.from(p, 'utf8'))),
        );
        expect(encodeEscaped(text)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps invalid bytes of a long output as escapes: binary noise among text lines', () => {
    const line = Buffer.from('2026-11-29 GET /api 200 Überweisung ✓ 🚀\n');
    const noise = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const bytes = Buffer.concat(Array.from({ length: 2000 }, (_, i) => (i % 50 === 7 ? noise : line)));
    const text = decodeEscaped(bytes);
    expect(text).toBe(referenceDecode(bytes));
    expect(encodeEscaped(text)).toEqual(bytes);
  });
});
