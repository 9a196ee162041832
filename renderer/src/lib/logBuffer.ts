import type { LogChunk } from '../api/types.ts';

export const STREAM_CODE = { stdout: 0, stderr: 1, system: 2 } as const;
export type StreamCode = 0 | 1 | 2;

/**
 * One execution's log as lines, built incrementally from chunks. Mutable on purpose: a million lines are
 * never copied; the store holds a version number that changes when lines are added.
 */
export class LogBuffer {
  readonly lines: string[] = [];
  private streamCodes = new Uint8Array(1024);
  /** When each line began: the `ts` (ms since the epoch) of the chunk that opened it. */
  private startTimes = new Float64Array(1024);
  /** The last line is still open (no newline yet) for this stream. */
  private open: StreamCode | null = null;
  lastSeq = -1;

  get length(): number {
    return this.lines.length;
  }

  streamAt(index: number): StreamCode {
    return this.streamCodes[index] as StreamCode;
  }

  /** When line `index` began, in ms since the epoch. */
  timeAt(index: number): number {
    return this.startTimes[index]!;
  }

  /** Adds a chunk; chunks already seen (a replay overlapping live events) are skipped. */
  append(chunk: LogChunk): boolean {
    if (chunk.seq <= this.lastSeq) return false;
    this.lastSeq = chunk.seq;
    const code = STREAM_CODE[chunk.stream];
    const pieces = chunk.text.split('\n');
    const endsOpen = pieces[pieces.length - 1] !== '';
    if (!endsOpen) pieces.pop();
    pieces.forEach((piece, i) => {
      if (i === 0 && this.open === code && this.lines.length > 0) {
        this.lines[this.lines.length - 1] += piece;
      } else this.push(piece, code, chunk.ts);
    });
    this.open = endsOpen ? code : null;
    return true;
  }

  /** Adds one whole line (a log built from others' lines: the merged log of a run). */
  pushLine(line: string, code: StreamCode, ts: number): void {
    this.push(line, code, ts);
  }

  private push(line: string, code: StreamCode, ts: number): void {
    if (this.lines.length >= this.streamCodes.length) {
      const grown = new Uint8Array(this.streamCodes.length * 2);
      grown.set(this.streamCodes);
      this.streamCodes = grown;
      const times = new Float64Array(this.startTimes.length * 2);
      times.set(this.startTimes);
      this.startTimes = times;
    }
    this.streamCodes[this.lines.length] = code;
    this.startTimes[this.lines.length] = ts;
    this.lines.push(line);
  }

  /** Indices of lines containing the query (case-insensitive). */
  search(query: string, limit = 100_000): number[] {
    if (!query) return [];
    const needle = query.toLowerCase();
    const hits: number[] = [];
    for (let i = 0; i < this.lines.length && hits.length < limit; i++)
      if (this.lines[i]!.toLowerCase().includes(needle)) hits.push(i);
    return hits;
  }
}

// CSI and OSC escape sequences (colours, cursor moves, titles): what a terminal would not print.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?)/g;

/** A line as a person reads it: without ANSI escape sequences. */
export function plainText(line: string): string {
  return line.includes('\u001b') ? line.replace(ESCAPES, '') : line;
}

/** A line's start time as the log shows it: local hh:mm:ss.mmm. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * Lines [from, to) of a log as plain text, one per line with a final newline, each prefixed by its start
 * time when `timestamps` is set: what Copy and Download give.
 */
export function logText(log: LogBuffer, from: number, to: number, timestamps: boolean): string {
  const out: string[] = [];
  for (let i = Math.max(0, from); i < Math.min(to, log.length); i++)
    out.push(
      timestamps ? `${clockTime(log.timeAt(i))} ${plainText(log.lines[i]!)}` : plainText(log.lines[i]!),
    );
  return out.length ? out.join('\n') + '\n' : '';
}

/**
 * Where each line starts when long lines wrap, in rows of one fixed height: plain arithmetic on the
 * characters per row (the log font is monospaced and breaks anywhere), so a million lines need no DOM
 * measuring. Kept incrementally as lines arrive; a new width measures again from the start.
 */
export class WrapLayout {
  /** starts[i]: the row line i begins on; starts[measured] is the total. */
  private starts = new Float64Array(1025);
  private measured = 0;
  private cols = 0;

  /** Brings the layout up to date with the log for `cols` characters per row; returns the row count. */
  update(log: LogBuffer, cols: number): number {
    if (cols !== this.cols) {
      this.cols = cols;
      this.measured = 0;
    }
    // The last line may still have been growing: measure it again.
    this.measured = Math.max(0, Math.min(this.measured, log.length) - 1);
    if (log.length + 1 > this.starts.length) {
      const grown = new Float64Array(Math.max(this.starts.length * 2, log.length + 1));
      grown.set(this.starts);
      this.starts = grown;
    }
    for (let i = this.measured; i < log.length; i++)
      this.starts[i + 1] = this.starts[i]! + rowsOf(log.lines[i]!, cols);
    this.measured = log.length;
    return this.starts[log.length]!;
  }

  /** The row line `index` begins on. */
  rowOf(index: number): number {
    return this.starts[Math.min(index, this.measured)]!;
  }

  /** The line shown on `row` (binary search; the last line for rows past the end). */
  lineAt(row: number): number {
    let lo = 0;
    let hi = this.measured;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    return Math.min(lo, Math.max(0, this.measured - 1));
  }
}

// East Asian wide characters take two columns in a monospaced font.
const WIDE = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/g;

/**
 * How many rows of `cols` characters a line takes. Errs on the long side (a tab counts as a full 8
 * columns, a wide character as 2), so a wrapped line never spills into the next one.
 */
export function rowsOf(line: string, cols: number): number {
  const plain = plainText(line);
  let length = plain.length;
  if (plain.includes('\t')) length += (plain.split('\t').length - 1) * 7;
  // eslint-disable-next-line no-control-regex
  if (/[^\u0000-\u007f]/.test(plain)) length += plain.match(WIDE)?.length ?? 0;
  return Math.max(1, Math.ceil(length / cols));
}
