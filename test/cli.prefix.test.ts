import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { incompleteUtf8Tail, LinePrefixer, type PrefixSource } from '../src/cli/linePrefixer.ts';
import { deprefix } from './support/prefixed.ts';

type Out = 'stdout' | 'stderr';
const LF = 0x0a;
const CR = 0x0d;

/** Splits data at the given cut points (sorted, deduplicated, in range). */
function chunk(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    pieces.push(data.subarray(from, p));
    from = p;
  }
  pieces.push(data.subarray(from));
  return pieces;
}

/** What a source's de-prefixed output must be: its bytes, with an LF ending a last unterminated line. */
function terminated(data: Buffer): Buffer {
  return data.length && data[data.length - 1] !== LF ? Buffer.concat([data, Buffer.from('\n')]) : data;
}

function collect(pieces: { output: Out; bytes: Buffer }[], into: Record<Out, Buffer[]>): void {
  for (const p of pieces) into[p.output].push(p.bytes);
}

/** Bytes a script may print, biased towards the ones framing cares about. */
const scriptBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(LF, CR, 0x00, 0x5b, 0x5d, 0x20),
      fc.integer({ min: 0, max: 255 }),
      fc.string({ unit: 'grapheme', maxLength: 3 }).map((s) => [...Buffer.from(s)]),
    ),
    { maxLength: 300 },
  )
  .map((items) => Buffer.from(items.flat()));

const source = (name: string, output: Out): PrefixSource<Out> => ({
  key: `${name}:${output}`,
  output,
  prefix: `[${name}] `,
});

describe('LinePrefixer', () => {
  it('prints an unterminated last line once per host, ended by a newline', () => {
    const p = new LinePrefixer<Out>();
    const out: Record<Out, Buffer[]> = { stdout: [], stderr: [] };
    collect(p.push(source('h1', 'stdout'), Buffer.from('test')), out);
    collect(p.push(source('h2', 'stdout'), Buffer.from('test')), out);
    collect(p.end(), out);
    expect(Buffer.concat(out.stdout).toString()).toBe('[h1] test\n[h2] test\n');
    expect(out.stderr).toEqual([]);
  });

  it('keeps CR LF, re-prefixes after a lone CR, passes NUL and split UTF-8 through', () => {
    const p = new LinePrefixer<Out>();
    const h1 = source('h1', 'stdout');
    const euro = Buffer.from('€');
    const pieces = [
      ...p.push(h1, Buffer.from('a\r\nb\0c\r')),
      ...p.push(h1, Buffer.concat([Buffer.from('10%\r20%\n'), euro.subarray(0, 1)])),
      ...p.push(h1, Buffer.concat([euro.subarray(1), Buffer.from('\n')])),
      ...p.end(),
    ];
    expect(Buffer.concat(pieces.map((x) => x.bytes)).toString()).toBe(
      '[h1] a\r\n[h1] b\0c\r[h1] 10%\r[h1] 20%\n[h1] €\n',
    );
  });

  it('writes a line longer than the hold limit as it comes, and breaks it only for another host', () => {
    const p = new LinePrefixer<Out>({ maxHeldBytes: 8 });
    const h1 = source('h1', 'stdout');
    const h2 = source('h2', 'stdout');
    const text = (pieces: { bytes: Buffer }[]) => Buffer.concat(pieces.map((x) => x.bytes)).toString();
    expect(text(p.push(h1, Buffer.from('0123456789')))).toBe('[h1] 0123456789');
    expect(text(p.push(h1, Buffer.from('abcdefghij')))).toBe('abcdefghij');
    expect(text(p.push(h2, Buffer.from('x\n')))).toBe('\n[h2] x\n');
    expect(text(p.push(h1, Buffer.from('end\n')))).toBe('[h1] end\n');
    expect(text(p.end())).toBe('');
  });

  it('never holds back more than the limit (a 5 MB line without newline)', async () => {
    const p = new LinePrefixer<Out>({ maxHeldBytes: 64 * 1024 });
    const h1 = source('h1', 'stdout');
    const line = Buffer.alloc(5 * 1024 * 1024, 'x');
    let written = 0;
    for (let at = 0; at < line.length; at += 32 * 1024) {
      for (const piece of p.push(h1, line.subarray(at, at + 32 * 1024))) written += piece.bytes.length;
      const pushed = at + 32 * 1024;
      // Held back: at most the limit (the prefix counts among the written bytes).
      expect(pushed - Math.max(0, written - '[h1] '.length)).toBeLessThanOrEqual(64 * 1024);
    }
    const rest = p.end();
    written += rest.reduce((n, x) => n + x.bytes.length, 0);
    expect(written).toBe('[h1] '.length + line.length + 1);
  });

  it('keeps an unfinished UTF-8 character back when writing an open line', async () => {
    expect(incompleteUtf8Tail(Buffer.from('ab'))).toBe(0);
    expect(incompleteUtf8Tail(Buffer.from('a€').subarray(0, 3))).toBe(2);
    expect(incompleteUtf8Tail(Buffer.from('a€'))).toBe(0);
    expect(incompleteUtf8Tail(Buffer.from('😀').subarray(0, 1))).toBe(1);
    expect(incompleteUtf8Tail(Buffer.from([0x80, 0x80, 0x80]))).toBe(0);
  });

  it('property: for any chunking, de-prefixed output equals each stream’s bytes', () => {
    fc.assert(
      fc.property(
        scriptBytes,
        scriptBytes,
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 1, max: 64 }),
        (outBytes, errBytes, outCuts, errCuts, maxHeldBytes) => {
          // One source per output: no other source can break a line, so even open lines stay exact.
          const p = new LinePrefixer<Out>({ maxHeldBytes });
          const o = source('h1', 'stdout');
          const e = source('h1', 'stderr');
          const outChunks = chunk(outBytes, outCuts);
          const errChunks = chunk(errBytes, errCuts);
          const got: Record<Out, Buffer[]> = { stdout: [], stderr: [] };
          for (let i = 0; i < Math.max(outChunks.length, errChunks.length); i++) {
            if (outChunks[i]) collect(p.push(o, outChunks[i]!), got);
            if (errChunks[i]) collect(p.push(e, errChunks[i]!), got);
          }
          collect(p.end(), got);
          expect(deprefix(Buffer.concat(got.stdout), ['[h1] ']).get('[h1] ')).toEqual(terminated(outBytes));
          expect(deprefix(Buffer.concat(got.stderr), ['[h1] ']).get('[h1] ')).toEqual(terminated(errBytes));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: many hosts on one output never mix lines', async () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(scriptBytes, fc.array(fc.nat(), { maxLength: 10 })), {
          minLength: 2,
          maxLength: 6,
        }),
        fc.array(fc.nat(), { maxLength: 200 }),
        (hosts, order) => {
          const p = new LinePrefixer<Out>();
          const sources = hosts.map((_, i) => source(`h${i + 1}`, 'stdout'));
          const queues = hosts.map(([bytes, cuts]) => chunk(bytes, cuts));
          const got: Record<Out, Buffer[]> = { stdout: [], stderr: [] };
          // Interleave the hosts' chunks in a random order.
          let turn = 0;
          while (queues.some((q) => q.length)) {
            const live = queues.map((q, i) => (q.length ? i : -1)).filter((i) => i >= 0);
            const i = live[(order[turn++ % Math.max(order.length, 1)] ?? 0) % live.length]!;
            collect(p.push(sources[i]!, queues[i]!.shift()!), got);
          }
          collect(p.end(), got);
          const parsed = deprefix(
            Buffer.concat(got.stdout),
            sources.map((s) => s.prefix),
          );
          hosts.forEach(([bytes], i) => expect(parsed.get(sources[i]!.prefix)).toEqual(terminated(bytes)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: with lines over the hold limit, hosts only gain line breaks', () => {
    fc.assert(
      fc.property(
        scriptBytes,
        scriptBytes,
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 1, max: 16 }),
        (a, b, cuts, maxHeldBytes) => {
          const p = new LinePrefixer<Out>({ maxHeldBytes });
          const [sa, sb] = [source('h1', 'stdout'), source('h2', 'stdout')];
          const got: Record<Out, Buffer[]> = { stdout: [], stderr: [] };
          const ca = chunk(a, cuts);
          const cb = chunk(b, cuts);
          for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
            if (ca[i]) collect(p.push(sa, ca[i]!), got);
            if (cb[i]) collect(p.push(sb, cb[i]!), got);
          }
          collect(p.end(), got);
          const parsed = deprefix(Buffer.concat(got.stdout), ['[h1] ', '[h2] ']);
          const noLf = (x: Buffer) => Buffer.from(x.filter((byte) => byte !== LF));
          expect(noLf(parsed.get('[h1] ')!)).toEqual(noLf(a));
          expect(noLf(parsed.get('[h2] ')!)).toEqual(noLf(b));
        },
      ),
      { numRuns: 300 },
    );
  });
});
