/**
 * The bulk output path carrying bytes (issue 10): output stays the bytes the script printed from the SSH
 * channel to the CLI's stdout and the store, with text decoded only where it is read. Realistic text
 * (multi-byte characters, ANSI colour) cut at any chunk edge arrives byte-exact and reads back as the same
 * text; secrets are masked in bytes exactly as in text, also split across reads; a chunk's JSON and
 * structured clone carry its text and never its bytes; the CLI's memory stays flat with a slow reader,
 * 100 MB against 300 MB; and the AES-GCM key swap (src/ssh/gcmKeys.ts) leaves the data intact.
 */
import { spawn } from 'node:child_process';
import { createHash, KeyObject } from 'node:crypto';
import { chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import fc from 'fast-check';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LogChunk } from '../src/core/domain.ts';
import { bytesChunk, chunkSize, printedBytes, storedUtf8 } from '../src/core/logBytes.ts';
import { encodeEscaped } from '../src/exec/escapedUtf8.ts';
import { LogSink } from '../src/exec/logSink.ts';
import { BytesMasker, SecretMasker } from '../src/exec/secretMasker.ts';
import { CroniumService } from '../src/service/service.ts';
import { keyObjectsForGcm } from '../src/ssh/gcmKeys.ts';
import { LogWriter } from '../src/store/logWriter.ts';
import { unpackLogText } from '../src/store/logPacking.ts';
import { hosts, tempDir } from './support/fixtures.ts';
import { createTestUser, onHost, type TestUser } from './support/sshHosts.ts';

/** Log-like lines: varied lengths, 2-, 3- and 4-byte UTF-8, ANSI colour, a few empty lines. */
function realisticText(lines: number, seed = 7): string {
  const words = ['GET', '/api/v1/items', '200', 'café', 'naïve', 'Überweisung', '日本語のログ', 'данные'];
  const more = ['✓', '→', '🚀', '\x1b[32mok\x1b[0m', '\x1b[1;31merror:\x1b[0m', '{"id": 42}', 'took 3 ms'];
  const all = [...words, ...more];
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = next() % 12;
    out.push(Array.from({ length: n }, () => all[next() % all.length]).join(' '));
  }
  return out.join('\n') + '\n';
}

/** Splits a buffer at the given offsets (taken modulo its length + 1). */
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

/** Feeds pieces through a sink (small batches, so chunk edges fall everywhere); returns its chunks. */
function throughSink(pieces: Buffer[], secrets: string[] = [], maxBatchChars = 64): LogChunk[] {
  const chunks: LogChunk[] = [];
  const sink = new LogSink({
    executionId: 'e',
    secrets,
    write: (batch) => chunks.push(...batch),
    flushIntervalMs: 10_000,
    maxBatchChars,
  });
  for (const piece of pieces) sink.data('stdout', piece);
  sink.close();
  return chunks;
}

describe('output as bytes through the log sink', () => {
  it('gives realistic text cut at every chunk edge back byte-exact, as text and as stored UTF-8', () => {
    const text = realisticText(40);
    const bytes = Buffer.from(text);
    // Every cut position once (multi-byte characters and escape sequences cut everywhere), in pieces
    // of 1 to 7 bytes, and batches of 64 bytes that also end mid-character.
    for (const step of [1, 2, 3, 5, 7]) {
      const cuts = Array.from({ length: Math.ceil(bytes.length / step) }, (_, i) => i * step);
      const chunks = throughSink(splitAt(bytes, cuts));
      expect(chunks.length).toBeGreaterThan(1);
      expect(Buffer.concat(chunks.map(printedBytes))).toEqual(bytes);
      expect(chunks.map((c) => c.text).join('')).toBe(text);
      expect(Buffer.concat(chunks.map(storedUtf8))).toEqual(bytes);
      // Every chunk decodes alone: no chunk begins or ends inside a character.
      for (const c of chunks) expect(Buffer.from(c.text)).toEqual(printedBytes(c));
    }
  });

  it('keeps invalid bytes as printed for the CLI and as U+FFFD for the store (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 6 }))),
        fc.array(fc.nat(200)),
        (parts, cuts) => {
          const bytes = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
          const chunks = throughSink(splitAt(bytes, cuts), [], 16);
          expect(Buffer.concat(chunks.map(printedBytes))).toEqual(bytes);
          const text = chunks.map((c) => c.text).join('');
          expect(encodeEscaped(text)).toEqual(bytes);
          // The store and the hash see the text's own UTF-8 (an escape is U+FFFD), as before.
          expect(Buffer.concat(chunks.map(storedUtf8))).toEqual(Buffer.from(text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('masks secrets in bytes as SecretMasker does in text, split anywhere (property)', () => {
    const secret = fc.oneof(
      fc.constantFrom('p4ss-wörd', 'ключ-42', '秘密の鍵', 'aab', 'aaab', 'x🚀y'),
      fc.string({ unit: 'grapheme', minLength: 3, maxLength: 8 }),
    );
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 3 }),
        fc.array(fc.oneof(secret, fc.string({ unit: 'grapheme', maxLength: 10 })), { maxLength: 8 }),
        fc.array(fc.nat(300)),
        (secrets, parts, cuts) => {
          const text = parts.join('');
          const expected = new SecretMasker(secrets).mask(text);
          const chunks = throughSink(splitAt(Buffer.from(text), cuts), secrets, 8);
          expect(chunks.map((c) => c.text).join('')).toBe(expected);
          // The masker alone, piece by piece, and a secret learnt midway (held tail included).
          const masker = new BytesMasker(secrets);
          const out = splitAt(Buffer.from(text), cuts).map((p) => masker.push(p));
          expect(Buffer.concat([...out, masker.flush()]).toString()).toBe(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a chunk carries its text in JSON and structured clones, never its bytes; assigning text replaces them', () => {
    const bytes = Buffer.from('héllo → 世界\n');
    const chunk = bytesChunk({ executionId: 'e', seq: 3, stream: 'stdout', ts: 1 }, bytes);
    const plain = { executionId: 'e', seq: 3, stream: 'stdout', ts: 1, text: 'héllo → 世界\n' };
    expect(JSON.parse(JSON.stringify(chunk))).toEqual(plain);
    expect(structuredClone(chunk)).toEqual(plain);
    expect({ ...chunk }).toEqual(plain);
    expect(chunkSize(chunk)).toBe(bytes.length);
    chunk.text = 'masked\n';
    expect(printedBytes(chunk)).toEqual(Buffer.from('masked\n'));
    expect(JSON.parse(JSON.stringify(chunk)).text).toBe('masked\n');
  });
});

describe('bulk output through the real CLI (real host)', () => {
  const h = hosts();
  const dir = tempDir();
  const env = { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: '0' };
  let user: TestUser;

  function cli(args: string[], stdout: 'pipe' | NodeJS.WritableStream = 'pipe') {
    const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
      env,
      stdio: ['ignore', stdout === 'pipe' ? 'pipe' : (stdout as never), 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    return {
      child,
      done: () =>
        new Promise<{ code: number | null; stderr: string }>((resolve) =>
          child.on('close', (code) => resolve({ code, stderr })),
        ),
    };
  }

  async function addJob(name: string, script: string): Promise<void> {
    const r = await cli([
      'job',
      'add',
      name,
      '--lang',
      'bash',
      '--script',
      script,
      '--timeout',
      '300',
    ]).done();
    expect(r.stderr).toBe('');
  }

  beforeAll(async () => {
    user = createTestUser(h, 'bulkpath');
    const r = await cli([
      'server',
      'add',
      'h1',
      '--host',
      h.hosts.h1.address,
      '--user',
      user.user,
      '--key',
      h.keyPath,
    ]).done();
    expect(r.stderr).toBe('');
    // A 4 MB block of realistic text in the user's home (the hosts share this machine's files).
    const block = Buffer.from(realisticText(200_000)).subarray(0, 4_000_000);
    expect(block.length).toBe(4_000_000);
    writeFileSync(join(user.home, 'block.txt'), block);
    chownSync(join(user.home, 'block.txt'), statSync(user.home).uid, statSync(user.home).gid);
  });
  afterAll(() => {
    user.remove();
    dir.remove();
  });

  it('writes 40 MB of realistic text byte-exact on stdout and stores the same text', async () => {
    const expected = onHost(h, 'for i in $(seq 10); do cat ~/block.txt; done | sha256sum', user.user).split(
      ' ',
    )[0];
    await addJob('bulk', 'for i in $(seq 10); do cat ~/block.txt; done');
    const run = cli(['run', 'bulk', '--on', 'h1']);
    const hash = createHash('sha256');
    let size = 0;
    run.child.stdout!.on('data', (d: Buffer) => {
      hash.update(d);
      size += d.length;
    });
    const r = await run.done();
    expect(r).toEqual({ code: 0, stderr: '' });
    expect(size).toBe(40_000_000);
    expect(hash.digest('hex')).toBe(expected);
    // The stored log (packed from the bytes by the log writer's thread) reads back as the same text.
    const service = await CroniumService.open({ dataDir: dir.path, runtimePort: 0 });
    try {
      const [latest] = (await service.queryHistory({})).items;
      const stored = createHash('sha256');
      for (const c of await service.readLog(latest!.id, -1, 1_000_000))
        if (c.stream === 'stdout') stored.update(c.text);
      expect(stored.digest('hex')).toBe(expected);
    } finally {
      await service.close();
    }
  }, 180_000);

  it('keeps the CLI’s memory flat with a slow reader: 300 MB peaks within half the extra output of 100 MB', async () => {
    for (const size of [100, 300])
      await addJob(`flood${size}`, `for i in $(seq 80); do cat ~/block.txt; done | head -c ${size}000000`);
    /** The CLI's peak RSS (MiB) and what a slow reader received (size and hash). */
    async function throughSlowReader(size: number) {
      // Takes 256 KiB, rests 2 ms: slower than the host writes, so flow control has to hold the CLI back.
      const reader = spawn(
        process.execPath,
        [
          '-e',
          `let n = 0, since = 0;
           process.stdin.on('data', (d) => { n += d.length; since += d.length;
             if (since >= 262144) { since = 0; process.stdin.pause(); setTimeout(() => process.stdin.resume(), 2); } });
           process.stdin.on('end', () => process.stdout.write(String(n)));`,
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      let received = '';
      reader.stdout.on('data', (d) => (received += d));
      const readerDone = new Promise((resolve) => reader.on('close', resolve));
      const run = cli(['run', `flood${size / 1_000_000}`, '--on', 'h1'], reader.stdin);
      reader.stdin.destroy();
      let peakKb = 0;
      const sample = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${run.child.pid}/status`, 'utf8'));
          if (m) peakKb = Math.max(peakKb, Number(m[1]));
        } catch {
          /* exited */
        }
      }, 50);
      const r = await run.done();
      clearInterval(sample);
      await readerDone;
      return { ...r, received: Number(received), peakMiB: peakKb / 1024 };
    }
    const small = await throughSlowReader(100_000_000);
    const large = await throughSlowReader(300_000_000);
    console.log(
      `slow reader: CLI peak RSS ${small.peakMiB.toFixed(0)} MiB for 100 MB, ${large.peakMiB.toFixed(0)} MiB for 300 MB`,
    );
    expect([small.code, large.code]).toEqual([0, 0]);
    expect([small.received, large.received]).toEqual([100_000_000, 300_000_000]);
    expect(small.peakMiB).toBeGreaterThan(0);
    // Memory that grew with the output would add ~190 MiB here (200 MB more); what does vary between runs
    // (up to 70 MiB seen on a loaded machine) is how much garbage the collector lets pile up before it runs.
    // Half the extra output tells the two apart with room for that.
    expect(large.peakMiB - small.peakMiB).toBeLessThan(95);
  }, 240_000);
});

describe('AES-GCM keys as KeyObjects (real host)', () => {
  const h = hosts();

  /** Connects with one cipher, swaps keys as sshConnection.ts does, and hashes 8 MB of output. */
  async function hashOver(cipher: string): Promise<{ hash: string; keyIsObject: boolean }> {
    const client = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      client.on('ready', resolve).on('error', reject);
      client.connect({
        host: h.hosts.h1.address,
        username: h.user,
        privateKey: readFileSync(h.keyPath),
        algorithms: { cipher: [cipher] as never },
      });
      keyObjectsForGcm((client as unknown as { _protocol: unknown })._protocol);
    });
    try {
      const decipher = (client as unknown as { _protocol: { _decipher: Record<string, unknown> } })._protocol
        ._decipher;
      const keyIsObject = decipher._decipherKey instanceof KeyObject;
      const hash = await new Promise<string>((resolve, reject) => {
        client.exec('yes "données → 日本 🚀" | head -c 8000000', (err, ch) => {
          if (err) return reject(err);
          const hash = createHash('sha256');
          ch.on('data', (d: Buffer) => hash.update(d)).on('close', () => resolve(hash.digest('hex')));
          ch.stderr.resume();
        });
      });
      return { hash, keyIsObject };
    } finally {
      client.end();
    }
  }

  it('swaps the key of an AES-GCM decipher only, and the output arrives intact either way', async () => {
    const expected = createHash('sha256');
    const line = Buffer.from('données → 日本 🚀\n');
    const block = Buffer.concat(Array.from({ length: Math.ceil(8_000_000 / line.length) }, () => line));
    expected.update(block.subarray(0, 8_000_000));
    const want = expected.digest('hex');
    const gcm = await hashOver('aes128-gcm@openssh.com');
    expect(gcm).toEqual({ hash: want, keyIsObject: true });
    const ctr = await hashOver('aes128-ctr');
    expect(ctr).toEqual({ hash: want, keyIsObject: false });
  }, 60_000);
});

describe('LogWriter stores small logs itself, without its thread', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  function database(name: string): {
    path: string;
    rows: () => { seq: number; text: string; packed: Uint8Array | null }[];
  } {
    const path = join(dir.path, name);
    const db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(
      'CREATE TABLE log_chunks (execution_id TEXT, seq INTEGER, stream TEXT, ts INTEGER, text TEXT, packed BLOB)',
    );
    db.close();
    return {
      path,
      rows: () => {
        const read = new DatabaseSync(path);
        try {
          return read.prepare('SELECT seq, text, packed FROM log_chunks ORDER BY seq').all() as never;
        } finally {
          read.close();
        }
      },
    };
  }
  const chunk = (seq: number, text: string): LogChunk => ({
    executionId: 'e',
    seq,
    stream: 'stdout',
    ts: 1,
    text,
  });
  const started = (w: LogWriter) => (w as unknown as { thread: unknown }).thread !== null;

  it('stores a short log at once on the calling thread, and a long one through its thread, in order', async () => {
    const db = database('direct.db');
    const writer = new LogWriter(db.path);
    try {
      expect(writer.write([chunk(0, 'one\n'), chunk(1, 'two\n')])).toBe(true);
      // Committed already, and no thread started for it.
      expect(db.rows().map((r) => r.text)).toEqual(['one\n', 'two\n']);
      expect(started(writer)).toBe(false);
      await writer.flush();
      expect(started(writer)).toBe(false);
      // Past the limit the thread takes over; a big output chunk is stored packed from its bytes.
      const big = bytesChunk(
        { executionId: 'e', seq: 2, stream: 'stdout', ts: 1 },
        Buffer.from('é'.repeat(400_000)),
      );
      writer.write([big]);
      writer.write([chunk(3, 'after\n')]);
      expect(started(writer)).toBe(true);
      await writer.flush();
      const rows = db.rows();
      expect(rows.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
      expect(unpackLogText(rows[2]!.packed!)).toBe('é'.repeat(400_000));
      expect(rows[3]!.text).toBe('after\n');
    } finally {
      await writer.close();
    }
  });

  it('hands a batch to its thread when another connection holds the database, instead of waiting', async () => {
    const db = database('busy.db');
    const holder = new DatabaseSync(db.path);
    holder.exec('BEGIN IMMEDIATE');
    const writer = new LogWriter(db.path);
    try {
      const t = performance.now();
      writer.write([chunk(0, 'while busy\n')]);
      // Not a busy wait on this thread (its timeout is 10 s).
      expect(performance.now() - t).toBeLessThan(1000);
      expect(started(writer)).toBe(true);
      holder.exec('COMMIT');
      await writer.flush();
      expect(db.rows().map((r) => r.text)).toEqual(['while busy\n']);
    } finally {
      holder.close();
      await writer.close();
    }
  });
});
