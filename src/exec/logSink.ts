import type { LogChunk, LogStream } from '../core/domain.ts';
import { bytesChunk } from '../core/logBytes.ts';
import { decodeEscaped, encodeEscaped, Utf8Boundary } from './escapedUtf8.ts';
import { BytesMasker, SecretMasker } from './secretMasker.ts';

export interface LogSinkOptions {
  executionId: string;
  secrets: Iterable<string>;
  /** Persists and publishes a batch (in order). */
  write: (chunks: LogChunk[]) => void;
  flushIntervalMs?: number;
  /** A batch is written early once it holds this many bytes of output (characters of system lines). */
  maxBatchChars?: number;
  /** The first chunk's sequence number (a reattach continues a stored log). */
  startSeq?: number;
  /**
   * Characters of each output stream, as decoded and masked, already in the stored log: dropped rather
   * than written again (a reattach reads the host's spool from its start).
   */
  skip?: { stdout: number; stderr: number };
}

/** A chunk being gathered: output as the pieces of bytes it is made of, system lines as text. */
interface Pending {
  seq: number;
  stream: LogStream;
  ts: number;
  parts: Buffer[];
  text: string;
}

/**
 * One execution's log: cuts each output stream at UTF-8 character boundaries, masks secrets, and writes
 * chunks in batches (one transaction and one pushed event per batch instead of one per read). Output stays
 * bytes all the way (see core/logBytes.ts): its text is decoded only where someone reads it. Memory stays
 * bounded by the batch.
 */
export class LogSink {
  private seq = 0;
  private pending: Pending[] = [];
  private pendingSize = 0;
  private timer: NodeJS.Timeout | null = null;
  /**
   * Per output stream: a character split across two reads is joined before it is masked or written, so
   * every chunk decodes alone, and invalid bytes stay as printed (the CLI writes them byte for byte).
   */
  private readonly boundaries: Record<'stdout' | 'stderr', Utf8Boundary> = {
    stdout: new Utf8Boundary(),
    stderr: new Utf8Boundary(),
  };
  private readonly maskers: Record<'stdout' | 'stderr', BytesMasker>;
  private readonly systemMasker: SecretMasker;
  private readonly flushIntervalMs: number;
  private readonly maxBatchChars: number;
  private closed = false;
  private readonly skip: { stdout: number; stderr: number };

  private readonly options: LogSinkOptions;

  constructor(options: LogSinkOptions) {
    this.options = options;
    const secrets = [...options.secrets];
    this.maskers = { stdout: new BytesMasker(secrets), stderr: new BytesMasker(secrets) };
    this.systemMasker = new SecretMasker(secrets);
    this.seq = options.startSeq ?? 0;
    this.skip = { ...(options.skip ?? { stdout: 0, stderr: 0 }) };
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.maxBatchChars = options.maxBatchChars ?? 256 * 1024;
  }

  /** A secret learnt after the start (the execution's API token): masked from now on. */
  addSecret(secret: string): void {
    this.maskers.stdout.add(secret);
    this.maskers.stderr.add(secret);
    this.systemMasker.add(secret);
  }

  /** Masks every secret known so far in a piece of text (not a stream: nothing is held back). */
  mask(text: string): string {
    return this.systemMasker.mask(text);
  }

  data(stream: 'stdout' | 'stderr', data: Buffer): void {
    this.output(stream, this.maskers[stream].push(this.boundaries[stream].push(data)));
  }

  system(text: string): void {
    this.add('system', this.systemMasker.mask(text.endsWith('\n') ? text : text + '\n'), null);
  }

  /** Masked output bytes (ending on a character boundary but at the stream's end). */
  private output(stream: 'stdout' | 'stderr', bytes: Buffer): void {
    if (this.skip[stream] > 0 && bytes.length > 0) {
      // A reattach: what the store has is counted in characters of the text (rare; decoded here only).
      const text = decodeEscaped(bytes);
      const dropped = Math.min(this.skip[stream], text.length);
      this.skip[stream] -= dropped;
      bytes = encodeEscaped(text.slice(dropped));
    }
    this.add(stream, '', bytes);
  }

  private add(stream: LogStream, text: string, bytes: Buffer | null): void {
    const size = bytes ? bytes.length : text.length;
    if (size === 0) return;
    const last = this.pending[this.pending.length - 1];
    // Consecutive pieces of one stream become one chunk: fewer rows, same order.
    if (last && last.stream === stream) {
      if (bytes) last.parts.push(bytes);
      else last.text += text;
    } else this.pending.push({ seq: this.seq++, stream, ts: Date.now(), parts: bytes ? [bytes] : [], text });
    this.pendingSize += size;
    if (this.pendingSize >= this.maxBatchChars) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushIntervalMs);
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    this.pendingSize = 0;
    const executionId = this.options.executionId;
    // An output chunk's pieces are copied into one buffer of its own (which also lets go of the reads'
    // buffers): the only copy of the output on the way to the store and the CLI.
    const batch: LogChunk[] = pending.map(({ seq, stream, ts, parts, text }) =>
      stream === 'system'
        ? { executionId, seq, stream, ts, text }
        : bytesChunk({ executionId, seq, stream, ts }, Buffer.concat(parts)),
    );
    this.options.write(batch);
  }

  /** Ends both streams: releases held-back bytes and writes everything. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of ['stdout', 'stderr'] as const) {
      const masker = this.maskers[stream];
      this.output(stream, Buffer.concat([masker.push(this.boundaries[stream].end()), masker.flush()]));
    }
    this.flush();
  }
}
