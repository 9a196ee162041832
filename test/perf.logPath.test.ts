/**
 * The log path after the bench's profile-led changes (issue 10): UTF-8 decoding with TextDecoder (a
 * character split across reads, a byte-order mark, invalid bytes) and the masker's held-back suffix found
 * from the secret's first character (a secret split anywhere is still masked), big chunks stored as
 * Zstandard while chunks deflated by earlier versions still read.
 */
import { deflateRawSync } from 'node:zlib';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { LogChunk } from '../src/core/domain.ts';
import { LogSink } from '../src/exec/logSink.ts';
import { MASK, SecretMasker } from '../src/exec/secretMasker.ts';
import { packLogText, unpackLogText } from '../src/store/logPacking.ts';
import { encodeEscaped } from '../src/exec/escapedUtf8.ts';

/** A sink whose batches are collected; returns the text of each stream once closed. */
function sinkOf(secrets: string[] = []) {
  const chunks: LogChunk[] = [];
  const sink = new LogSink({ executionId: 'e', secrets, write: (batch) => chunks.push(...batch) });
  const text = (stream: string) =>
    chunks
      .filter((c) => c.stream === stream)
      .map((c) => c.text)
      .join('');
  return { sink, chunks, text };
}

/** Splits a buffer at the given offsets (sorted, deduplicated, inside it). */
function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, data.length]) {
    pieces.push(data.subarray(from, cut));
    from = cut;
  }
  return pieces;
}

describe('LogSink decoding', () => {
  it('joins characters split across reads at every byte (2-, 3- and 4-byte UTF-8, a BOM, ANSI colour)', async () => {
    const text = '\uFEFFcafé → 日本語 🚀 \x1b[32mok\x1b[0m\nданные\n';
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { sink, text: out } = sinkOf();
      sink.data('stdout', bytes.subarray(0, cut));
      sink.data('stdout', bytes.subarray(cut));
      sink.close();
      // The byte-order mark is output like any other character: kept, not swallowed.
      expect(out('stdout')).toBe(text);
    }
  });

  it('keeps the streams apart and keeps invalid bytes, also a sequence cut off at the end, as escapes', () => {
    const { sink, text } = sinkOf();
    const bytes = Buffer.from([0x61, 0xff, 0x62, 0xe6, 0x97]);
    sink.data('stdout', bytes);
    sink.data('stderr', Buffer.from('é'));
    sink.close();
    // Each invalid byte is one lone surrogate (U+DC80 + byte − 0x80), which turns back into that byte.
    expect(text('stdout')).toBe('a\udcffb\udce6\udc97');
    expect(encodeEscaped(text('stdout'))).toEqual(bytes);
    // What a store or a screen makes of it (UTF-8 of the text) is U+FFFD per escape, as before.
    expect(Buffer.from(text('stdout')).toString()).toBe('a\uFFFDb\uFFFD\uFFFD');
    expect(text('stderr')).toBe('é');
  });

  it('gives back every byte sequence exactly, split anywhere (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.array(fc.nat(100)), (raw, cuts) => {
        const bytes = Buffer.from(raw);
        const { sink, text } = sinkOf();
        for (const piece of splitAt(bytes, cuts)) sink.data('stdout', piece);
        sink.close();
        expect(encodeEscaped(text('stdout'))).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes any text split anywhere to the same text (property)', async () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.array(fc.nat(400)), (s, cuts) => {
        const { sink, text } = sinkOf();
        for (const piece of splitAt(Buffer.from(s), cuts)) sink.data('stdout', piece);
        sink.close();
        expect(text('stdout')).toBe(s);
      }),
    );
  });
});

describe('SecretMasker across chunk boundaries', () => {
  it('holds back the longest tail that could begin a secret, also when its first character repeats', () => {
    const masker = new SecretMasker(['aab']);
    // "…aa" could be the start of "aab": both a's are held; "…xa" holds one.
    expect(masker.push('xxaa')).toBe('xx');
    expect(masker.push('ab')).toBe(`a${MASK}`);
    expect(masker.push('xa')).toBe('x');
    expect(masker.flush()).toBe('a');
  });

  it('masks one secret split anywhere exactly as masking the whole text does (property)', async () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é'), minLength: 3, maxLength: 6 }),
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '\n'), maxLength: 80 }),
        fc.array(fc.nat(80)),
        (secret, text, cuts) => {
          const masker = new SecretMasker([secret]);
          const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          let out = '';
          let from = 0;
          for (const cut of [...at, text.length]) {
            out += masker.push(text.slice(from, cut));
            from = cut;
          }
          out += masker.flush();
          expect(out).toBe(new SecretMasker([secret]).mask(text));
        },
      ),
    );
  });

  it('leaves no secret in the output for several secrets, split anywhere through the sink (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'ü'), minLength: 3, maxLength: 5 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'ü', 'x'), maxLength: 80 }),
        fc.array(fc.nat(200)),
        (secrets, text, cuts) => {
          const { sink, text: out } = sinkOf(secrets);
          for (const piece of splitAt(Buffer.from(text), cuts)) sink.data('stdout', piece);
          sink.close();
          for (const secret of secrets) expect(out('stdout')).not.toContain(secret);
        },
      ),
    );
  });
});

describe('packed log chunks', () => {
  it('stores big chunks as Zstandard and reads them back, UTF-8 and ANSI colour included', () => {
    const text = 'ligne café → 日本語 🚀 \x1b[31merror\x1b[0m\n'.repeat(5000);
    const packed = packLogText(text);
    expect([...packed.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    expect(packed.length).toBeLessThan(Buffer.byteLength(text) / 10);
    expect(unpackLogText(packed)).toBe(text);
  });

  it('still reads chunks deflated by earlier versions, whatever their text (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.constantFrom(1, 6, 9),
        (text, level) => {
          expect(unpackLogText(deflateRawSync(text, { level }))).toBe(text);
          expect(unpackLogText(packLogText(text))).toBe(text);
        },
      ),
    );
  });
});
