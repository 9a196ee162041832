import type { LogChunk, LogStream } from '../core/domain.ts';
import { EscapingDecoder } from './escapedUtf8.ts';
import { SecretMasker } from './secretMasker.ts';

export interface LogSinkOptions {
  executionId: string;
  secrets: Iterable<string>;
  /** Persists and publishes a batch (in order). */
  write: (chunks: LogChunk[]) => void;
  flushIntervalMs?: number;
  /** A batch is written early once it holds this many characters. */
  maxBatchChars?: number;
  /** The first chunk's sequence number (a reattach continues a stored log). */
  startSeq?: number;
  /**
   * Characters of each output stream, as decoded and masked, already in the stored log: dropped rather
   * than written again (a reattach reads the host's spool from its start).
   */
  skip?: { stdout: number; stderr: number };
}

/**
 * One execution's log: decodes UTF-8 per stream, masks secrets, and writes chunks in batches (one
 * transaction and one pushed event per batch instead of one per read). Memory stays bounded by the batch.
 */
export class LogSink {
  private seq = 0;
  private pending: LogChunk[] = [];
  private pendingChars = 0;
  private timer: NodeJS.Timeout | null = null;
  /**
   * Streaming UTF-8 decoders (a character split across two reads is joined) that keep invalid bytes as
   * escapes (see escapedUtf8.ts), so the CLI can write a script's output byte for byte. Valid output takes
   * the fast path (Buffer's own UTF-8 decoding).
   */
  private readonly decoders: Record<'stdout' | 'stderr', EscapingDecoder> = {
    stdout: new EscapingDecoder(),
    stderr: new EscapingDecoder(),
  };
  private readonly maskers: Record<LogStream, SecretMasker>;
  private readonly flushIntervalMs: number;
  private readonly maxBatchChars: number;
  private closed = false;
  private readonly skip: { stdout: number; stderr: number };

  private readonly options: LogSinkOptions;

  constructor(options: LogSinkOptions) {
    this.options = options;
    const secrets = [...options.secrets];
    this.maskers = {
      stdout: new SecretMasker(secrets),
      stderr: new SecretMasker(secrets),
      system: new SecretMasker(secrets),
    };
    this.seq = options.startSeq ?? 0;
    this.skip = { ...(options.skip ?? { stdout: 0, stderr: 0 }) };
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.maxBatchChars = options.maxBatchChars ?? 256 * 1024;
  }

  /** A secret learnt after the start (the execution's API token): masked from now on. */
  addSecret(secret: string): void {
    for (const masker of Object.values(this.maskers)) masker.add(secret);
  }

  /** Masks every secret known so far in a piece of text (not a stream: nothing is held back). */
  mask(text: string): string {
    return this.maskers.system.mask(text);
  }

  data(stream: 'stdout' | 'stderr', data: Buffer): void {
    this.add(stream, this.maskers[stream].push(this.decoders[stream].decode(data)));
  }

  system(text: string): void {
    this.add('system', this.maskers.system.mask(text.endsWith('\n') ? text : text + '\n'));
  }

  private add(stream: LogStream, text: string): void {
    if (stream !== 'system' && this.skip[stream] > 0 && text) {
      const dropped = Math.min(this.skip[stream], text.length);
      this.skip[stream] -= dropped;
      text = text.slice(dropped);
    }
    if (!text) return;
    const last = this.pending[this.pending.length - 1];
    // Consecutive pieces of one stream become one chunk: fewer rows, same order.
    if (last && last.stream === stream) last.text += text;
    else
      this.pending.push({
        executionId: this.options.executionId,
        seq: this.seq++,
        stream,
        ts: Date.now(),
        text,
      });
    this.pendingChars += text.length;
    if (this.pendingChars >= this.maxBatchChars) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushIntervalMs);
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    this.options.write(batch);
  }

  /** Ends both streams: releases held-back text and writes everything. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of ['stdout', 'stderr'] as const) {
      this.add(stream, this.maskers[stream].push(this.decoders[stream].end()) + this.maskers[stream].flush());
    }
    this.flush();
  }
}
