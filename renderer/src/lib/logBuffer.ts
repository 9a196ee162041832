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
  /** The last line is still open (no newline yet) for this stream. */
  private open: StreamCode | null = null;
  lastSeq = -1;

  get length(): number {
    return this.lines.length;
  }

  streamAt(index: number): StreamCode {
    return this.streamCodes[index] as StreamCode;
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
      } else this.push(piece, code);
    });
    this.open = endsOpen ? code : null;
    return true;
  }

  private push(line: string, code: StreamCode): void {
    if (this.lines.length >= this.streamCodes.length) {
      const grown = new Uint8Array(this.streamCodes.length * 2);
      grown.set(this.streamCodes);
      this.streamCodes = grown;
    }
    this.streamCodes[this.lines.length] = code;
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
