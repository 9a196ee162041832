/**
 * Bundled mode on one session: the runner's watcher prints what the helpers left (collect.sh's frames)
 * after the script's stderr, between the control lines "\x1ecronium:<nonce>:collect\n" and
 * "\x1ecronium:<nonce>:collected\n" (see runner.sh). CollectTail takes them out of the stream, so the
 * script's output is stored as it was, and hands the frames over at the end of the session. Only the
 * nonce's control line starts a capture: a script cannot forge it by accident.
 */
import { between } from './deploy.ts';

export class CollectTail {
  private readonly begin: Buffer;
  private readonly nonce: string;
  /** Held back: the end of the stream so far, when it may be the beginning of the begin line. */
  private held: Buffer = Buffer.alloc(0);
  /** Everything from the begin line on, once it has arrived. */
  private captured: Buffer[] | null = null;

  constructor(nonce: string) {
    this.nonce = nonce;
    this.begin = Buffer.from(`\x1ecronium:${nonce}:collect\n`);
  }

  /** Whether the begin line has arrived (the collector ran on this session). */
  get started(): boolean {
    return this.captured !== null;
  }

  /** Returns the bytes of `data` that are the script's output (the rest is the collector's). */
  push(data: Buffer): Buffer {
    if (this.captured) {
      this.captured.push(data);
      return Buffer.alloc(0);
    }
    const buf = this.held.length ? Buffer.concat([this.held, data]) : data;
    const at = buf.indexOf(this.begin);
    if (at >= 0) {
      this.held = Buffer.alloc(0);
      this.captured = [buf.subarray(at)];
      return buf.subarray(0, at);
    }
    const keep = partialAt(buf, this.begin);
    this.held = keep < buf.length ? Buffer.from(buf.subarray(keep)) : Buffer.alloc(0);
    return buf.subarray(0, keep);
  }

  /**
   * At the end of the session: the collector's frames (the bytes between its control lines), or null when
   * they did not all arrive; and the output still held back (written after the frames, or a held tail
   * that was no begin line after all).
   */
  end(): { frames: Buffer | null; rest: Buffer } {
    const held = this.held;
    this.held = Buffer.alloc(0);
    if (!this.captured) return { frames: null, rest: held };
    const all = Buffer.concat(this.captured);
    this.captured = null;
    const frames = between(all, this.nonce, 'collect', 'collected');
    if (!frames) return { frames: null, rest: Buffer.alloc(0) };
    const close = Buffer.from(`\x1ecronium:${this.nonce}:collected\n`);
    return { frames, rest: all.subarray(all.lastIndexOf(close) + close.length) };
  }
}

/** Where a suffix of buf that is a proper beginning of `marker` starts (buf.length if none). */
function partialAt(buf: Buffer, marker: Buffer): number {
  for (let start = Math.max(0, buf.length - marker.length + 1); start < buf.length; start++) {
    if (buf[start] !== marker[0]) continue;
    const tail = buf.subarray(start);
    if (tail.equals(marker.subarray(0, tail.length))) return start;
  }
  return buf.length;
}
