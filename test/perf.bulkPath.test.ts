/**
 * The bulk data path after issue 10's second pass: each log chunk's UTF-8 is made once by its sink (the
 * bytes read, passed through when valid and unmasked) and shared by the stdout hash, the log writer and
 * the CLI (see src/core/logBytes.ts). What must not change: the text, masking across chunk and batch
 * boundaries, the bytes `cronium run` writes (the remote's, byte for byte, secrets masked), and the
 * stored log.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LogChunk } from '../src/core/domain.ts';
import { printedBytesOf, utf8Of } from '../src/core/logBytes.ts';
import { encodeEscaped } from '../src/exec/escapedUtf8.ts';
import { LogSink } from '../src/exec/logSink.ts';
import { MASK } from '../src/exec/secretMasker.ts';
import { hosts, tempDir } from './support/fixtures.ts';
import { createTestUser, type TestUser } from './support/sshHosts.ts';

const WORDS = [
  'GET',
  'POST',
  '/api/v1/items',
  '200',
  '404',
  'user=alice',
  'took',
  'ms',
  'cache',
  'miss',
  'Überweisung',
  'naïve',
  'café',
  '日本語のログ',
  'данные',
  '✓',
  '→',
  '🚀',
  'warning:',
  '{"id": 42}',
];
const COLOURS = ['\x1b[32m', '\x1b[31m', '\x1b[1;33m', '\x1b[36m'];

/** Log-like text (the bench's kind): lines of varied length, UTF-8 of 2–4 bytes, ANSI colour; seeded. */
function realisticText(bytes: number, seed: number): string {
  let state = seed >>> 0 || 1;
  const next = (n: number) => {
    // xorshift32: deterministic, good enough to vary lines.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const n = [0, 1, 3, 6, 10, 14, 20, 30][next(8)]!;
    let line = Array.from({ length: n }, () => WORDS[next(WORDS.length)]).join(' ');
    if (next(100) < 15) line = COLOURS[next(COLOURS.length)] + line + '\x1b[0m';
    if (next(2)) line = `2026-11-29T19:${String(next(60)).padStart(2, '0')}:00.${next(1000)}Z ${line}`;
    lines.push(line + '\n');
    size += Buffer.byteLength(line) + 1;
  }
  return lines.join('');
}

/** Splits a buffer at the given offsets (reduced into it, sorted, deduplicated). */
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

/** Feeds pieces to a sink with small batches (many batch boundaries); returns its chunks once closed. */
function throughSink(pieces: Buffer[], secrets: string[], maxBatchChars: number): LogChunk[] {
  const chunks: LogChunk[] = [];
  const sink = new LogSink({ executionId: 'e', secrets, maxBatchChars, write: (b) => chunks.push(...b) });
  for (const piece of pieces) sink.data('stdout', piece);
  sink.close();
  return chunks;
}

describe('LogSink: each chunk UTF-8 made once (property)', () => {
  it('gives every chunk the UTF-8 of its text, and the printed bytes, split and batched anywhere', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.array(fc.nat(20_000), { maxLength: 30 }),
        fc.integer({ min: 1, max: 5000 }),
        (seed, cuts, batch) => {
          const bytes = Buffer.from(realisticText(4000 + (seed % 8000), seed));
          const chunks = throughSink(splitAt(bytes, cuts), [], batch);
          expect(chunks.map((c) => c.text).join('')).toBe(bytes.toString());
          for (const c of chunks) expect(utf8Of(c)).toEqual(Buffer.from(c.text));
          // Valid UTF-8 throughout: the recorded bytes are the bytes printed, no re-encoding needed.
          expect(Buffer.concat(chunks.map((c) => printedBytesOf(c)!))).toEqual(bytes);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('masks a secret split across reads and batches, and the bytes say *** too (property)', () => {
    const secret = 'tok-Überweisung-🚀-9f2';
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.array(fc.nat(3000), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(20_000), { maxLength: 40 }),
        fc.integer({ min: 1, max: 400 }),
        (seed, places, cuts, batch) => {
          let text = realisticText(3000, seed);
          for (const at of places.sort((a, b) => b - a)) {
            const i = at % (text.length + 1);
            // Never inside a surrogate pair (the secret goes between characters).
            const safe = i > 0 && /[\ud800-\udbff]/.test(text[i - 1]!) ? i - 1 : i;
            text = text.slice(0, safe) + secret + text.slice(safe);
          }
          const chunks = throughSink(splitAt(Buffer.from(text), cuts), [secret], batch);
          const out = chunks.map((c) => c.text).join('');
          expect(out).toBe(text.split(secret).join(MASK));
          const printed = Buffer.concat(chunks.map((c) => printedBytesOf(c) ?? encodeEscaped(c.text)));
          expect(printed).toEqual(Buffer.from(out));
          for (const c of chunks) expect(utf8Of(c)).toEqual(Buffer.from(c.text));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('after an invalid byte, chunks no longer claim printed bytes; the escapes still turn back exact', () => {
    const head = Buffer.from(realisticText(3000, 7));
    const bad = Buffer.from([0xff, 0x61, 0xe2, 0x82]);
    const tail = Buffer.from(realisticText(3000, 8));
    const bytes = Buffer.concat([head, bad, tail]);
    for (const cut of [head.length - 1, head.length + 1, head.length + 3, head.length + 5]) {
      const chunks = throughSink([bytes.subarray(0, cut), bytes.subarray(cut)], [], 1000);
      // Before the invalid byte arrived the chunks were valid and carry their bytes; from then on not.
      const firstEscaped = chunks.findIndex((c) => printedBytesOf(c) === null);
      expect(firstEscaped).toBeGreaterThanOrEqual(0);
      expect(chunks.slice(firstEscaped).every((c) => printedBytesOf(c) === null)).toBe(true);
      const printed = Buffer.concat(chunks.map((c) => printedBytesOf(c) ?? encodeEscaped(c.text)));
      expect(printed).toEqual(bytes);
      for (const c of chunks) expect(utf8Of(c)).toEqual(Buffer.from(c.text));
    }
  });
});

describe('cronium run: bulk realistic text, byte for byte (real processes, real host)', () => {
  const h = hosts();
  const dir = tempDir();
  const env = { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: '0' };
  const secret = 'sk-bulk-Überweisung-7Qz';
  let user: TestUser;
  /** The file the job cats: 6 MB of realistic text with the secret in it, and what the CLI must print. */
  let printed: Buffer;
  let expected: Buffer;

  function cli(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => stdout.push(d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }));
    });
  }

  /** Writes a file into the test user's home, owned by that user. */
  function place(name: string, data: Buffer): void {
    const path = join(user.home, name);
    writeFileSync(path, data);
    const id = (flag: string) => Number(spawnSync('id', [flag, user.user], { encoding: 'utf8' }).stdout);
    chownSync(path, id('-u'), id('-g'));
  }

  beforeAll(async () => {
    user = createTestUser(h, 'bulkpath');
    // The secret at places that straddle SSH packet edges (32 KiB of channel data) and 3- and 4-byte
    // characters just before them, among ordinary realistic lines.
    const parts: string[] = [];
    for (let i = 0; i < 6; i++) {
      parts.push(realisticText(1_000_000, 1000 + i));
      parts.push(`${'x'.repeat(i)}${secret}\n日本語🚀${'é'.repeat(i)}\n`);
    }
    const text = parts.join('');
    printed = Buffer.from(text);
    expected = Buffer.from(text.split(secret).join(MASK));
    place('bulk.txt', printed);
    // Not UTF-8 in the middle of valid text: Latin-1, a cut-off sequence, 0xff.
    place(
      'mixed.bin',
      Buffer.concat([
        Buffer.from(realisticText(200_000, 5)),
        Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0xe2, 0x82, 0xff]),
        Buffer.from(realisticText(200_000, 6)),
      ]),
    );
    for (const name of ['h1', 'h2'] as const) {
      const r = await cli([
        'server',
        'add',
        name,
        '--host',
        h.hosts[name].address,
        '--user',
        user.user,
        '--key',
        h.keyPath,
      ]);
      expect(r.stderr).toBe('');
    }
    for (const [name, script] of [
      ['bulk', 'cat ~/bulk.txt'],
      ['mixed', 'cat ~/mixed.bin'],
    ]) {
      const r = await cli(['job', 'add', name!, '--lang', 'bash', '--script', script!, '--timeout', '120']);
      expect(r.stderr).toBe('');
    }
    const r = await cli(['job', 'edit', 'bulk', '--secret-env', `TOKEN=${secret}`]);
    expect(r.stderr).toBe('');
  }, 120_000);
  afterAll(() => {
    user.remove();
    dir.remove();
  });

  it('one server: stdout is the file, byte for byte, with the secret masked; the stored log matches', async () => {
    const run = await cli(['run', 'bulk', '--on', 'h1']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBe(expected.length);
    expect(run.stdout.equals(expected)).toBe(true);
    expect(run.stdout.includes(Buffer.from(secret))).toBe(false);
    const id = JSON.parse((await cli(['history', '--json', '--limit', '1'])).stdout.toString())[0].id;
    const shown = JSON.parse((await cli(['show', id, '--json'])).stdout.toString());
    const stored = (shown.log as { stream: string; text: string }[])
      .filter((c) => c.stream === 'stdout')
      .map((c) => c.text)
      .join('');
    expect(createHash('sha256').update(stored).digest('hex')).toBe(
      createHash('sha256').update(expected).digest('hex'),
    );
  }, 120_000);

  it('two servers: each one’s lines, prefixes removed, are the file with the secret masked', async () => {
    const run = await cli(['run', 'bulk', '--on', 'h1,h2']);
    expect(run.code).toBe(0);
    // The text has no CR, so each LF-ended line starts with one prefix (test/support/prefixed.ts reads
    // CRs too, which is slow over megabytes without any).
    const out = new Map<string, Buffer[]>([
      ['[h1] ', []],
      ['[h2] ', []],
    ]);
    for (let pos = 0; pos < run.stdout.length;) {
      const prefix = run.stdout.subarray(pos, pos + 5).toString();
      const end = run.stdout.indexOf(0x0a, pos) + 1 || run.stdout.length;
      out.get(prefix)!.push(run.stdout.subarray(pos + 5, end));
      pos = end;
    }
    for (const lines of out.values()) expect(Buffer.concat(lines).equals(expected)).toBe(true);
  }, 120_000);

  it('bytes that are not UTF-8 amid realistic text come out exactly as printed', async () => {
    const run = await cli(['run', 'mixed', '--on', 'h1']);
    expect(run.code).toBe(0);
    const file = readFileSync(join(user.home, 'mixed.bin'));
    expect(run.stdout.equals(file)).toBe(true);
  }, 120_000);
});
