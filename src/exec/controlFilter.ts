/**
 * Separates the runner's control lines ("\x1ecronium:<nonce>:<message>\n") from the script's stderr. The
 * runner writes them only before the script starts ("ready" first), so only the head of the stream is
 * examined; the nonce keeps a script from forging one by accident. Until "ready" arrives, anything else
 * is the login shell's complaint that the runner could not start, and is held back for diagnosis.
 */
export class ControlFilter {
  private readonly marker: Buffer;
  private head: Buffer | null = Buffer.alloc(0);
  private readonly onControl: (message: string) => void;
  ready = false;

  constructor(nonce: string, onControl: (message: string) => void) {
    this.onControl = onControl;
    this.marker = Buffer.from(`\x1ecronium:${nonce}:`);
  }

  /** Returns the bytes that belong to the script's stderr. */
  push(data: Buffer): Buffer {
    if (this.head === null) return data;
    let buf = Buffer.concat([this.head, data]);
    for (;;) {
      const n = Math.min(buf.length, this.marker.length);
      if (!buf.subarray(0, n).equals(this.marker.subarray(0, n))) {
        if (!this.ready) break;
        this.head = null;
        return buf;
      }
      if (buf.length < this.marker.length) break;
      const newline = buf.indexOf(0x0a, this.marker.length);
      if (newline < 0) break;
      const message = buf.subarray(this.marker.length, newline).toString('utf8');
      if (message === 'ready') this.ready = true;
      else this.onControl(message);
      buf = buf.subarray(newline + 1);
    }
    this.head = buf;
    return Buffer.alloc(0);
  }

  /** Whatever is still held at the end: ordinary output, or (never ready) why the runner did not start. */
  end(): Buffer {
    const rest = this.head ?? Buffer.alloc(0);
    this.head = null;
    return rest;
  }
}
