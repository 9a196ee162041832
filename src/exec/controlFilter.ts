/**
 * Separates the runner's control lines ("\x1ecronium:<nonce>:<message>\n") from one of the session's
 * output streams. The runner writes them only before the script starts ("ready" first, on stdout and on
 * stderr), so after "ready" only the head of the stream is examined; the nonce keeps a script from forging
 * one by accident. Whatever arrives before the first control line is not the script's: it is what the
 * server's login shell printed (a `.bashrc` that writes to stderr, a motd, a `ForceCommand` wrapper's
 * banner), possibly on the same line as the marker and in pieces of any size. It goes to `onNoise`, never
 * into the script's output, and its last few KiB are kept to explain a runner that did not start.
 */
export class ControlFilter {
  private readonly marker: Buffer;
  /** Bytes not yet classified: a possible marker (or its beginning) and what follows it. */
  private head: Buffer | null = Buffer.alloc(0);
  private diagnosis = Buffer.alloc(0);
  private readonly onControl: (message: string) => void;
  private readonly onNoise: (data: Buffer, lineBreak: boolean) => void;
  private readonly onReady: () => void;
  ready = false;
  /** Some control line with this nonce arrived: the runner (or the launch command) spoke. */
  heard = false;

  /**
   * @param onControl every control message but "ready" (e.g. "interpreter_missing python3").
   * @param onNoise what the login shell printed before the runner; `lineBreak` true when a marker ended it,
   *   so a partial line must be ended there.
   * @param onReady called once, when "ready" arrives.
   */
  constructor(
    nonce: string,
    onControl: (message: string) => void,
    onNoise: (data: Buffer, lineBreak: boolean) => void = () => {},
    onReady: () => void = () => {},
  ) {
    this.onControl = onControl;
    this.onNoise = onNoise;
    this.onReady = onReady;
    this.marker = Buffer.from(`\x1ecronium:${nonce}:`);
  }

  /** Returns the bytes that belong to the script's output. */
  push(data: Buffer): Buffer {
    if (this.head === null) return data;
    let buf = this.head.length ? Buffer.concat([this.head, data]) : data;
    for (;;) {
      if (!this.ready) {
        const at = buf.indexOf(this.marker);
        if (at < 0) {
          // No marker yet: all is noise but a tail that may be the start of one.
          const keep = this.partialMarkerAt(buf);
          this.noise(buf.subarray(0, keep), false);
          buf = buf.subarray(keep);
          break;
        }
        // A marker ends the noise's last line, even one that began in an earlier piece.
        this.noise(buf.subarray(0, at), true);
        buf = buf.subarray(at);
      } else {
        const n = Math.min(buf.length, this.marker.length);
        if (!buf.subarray(0, n).equals(this.marker.subarray(0, n))) {
          this.head = null;
          return buf;
        }
        if (buf.length < this.marker.length) break;
      }
      const newline = buf.indexOf(0x0a, this.marker.length);
      if (newline < 0) break;
      const message = buf.subarray(this.marker.length, newline).toString('utf8');
      this.heard = true;
      if (message !== 'ready') this.onControl(message);
      else if (!this.ready) {
        this.ready = true;
        this.onReady();
      }
      buf = buf.subarray(newline + 1);
    }
    this.head = Buffer.from(buf);
    return Buffer.alloc(0);
  }

  /** Whatever is still held at the end: ordinary output, or (never ready) what the shell said last. */
  end(): Buffer {
    const rest = this.head ?? Buffer.alloc(0);
    this.head = null;
    return this.ready ? rest : Buffer.concat([this.diagnosis, rest]);
  }

  /** Where a suffix of buf that is a proper beginning of the marker starts (buf.length if none). */
  private partialMarkerAt(buf: Buffer): number {
    for (let start = Math.max(0, buf.length - this.marker.length + 1); start < buf.length; start++) {
      const tail = buf.subarray(start);
      if (tail.equals(this.marker.subarray(0, tail.length))) return start;
    }
    return buf.length;
  }

  private noise(data: Buffer, lineBreak: boolean): void {
    if (data.length === 0 && !lineBreak) return;
    const kept = Buffer.concat([this.diagnosis, data]);
    this.diagnosis = kept.subarray(Math.max(0, kept.length - 4096));
    this.onNoise(data, lineBreak);
  }
}

/**
 * Turns the login shell's noise from one stream into whole `system` log lines ("login shell (stderr): …"),
 * so it is shown for what it is and never mixed into the script's output. Lines longer than 16 KiB are cut.
 */
export class NoiseLines {
  private pending = '';
  private readonly decoder = new TextDecoder('utf8');
  private readonly label: string;
  private readonly emit: (line: string) => void;

  constructor(stream: 'stdout' | 'stderr', emit: (line: string) => void) {
    this.label = `login shell (${stream}): `;
    this.emit = emit;
  }

  push(data: Buffer, lineBreak: boolean): void {
    this.pending += this.decoder.decode(data, { stream: !lineBreak });
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.emit(this.label + line.replace(/\r$/, ''));
    while (this.pending.length > 16_384) {
      this.emit(this.label + this.pending.slice(0, 16_384));
      this.pending = this.pending.slice(16_384);
    }
    if (lineBreak) this.end();
  }

  end(): void {
    this.pending += this.decoder.decode();
    if (this.pending) this.emit(this.label + this.pending.replace(/\r$/, ''));
    this.pending = '';
  }
}
