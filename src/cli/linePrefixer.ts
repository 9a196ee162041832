/**
 * Line framing for several sources (one per host and stream) sharing a few outputs (the CLI's stdout and
 * stderr): every output line starts with its source's prefix ("[h1] "), and lines of different sources
 * never mix. Pure: bytes in, bytes out, no I/O.
 *
 * Works on bytes, so any byte sequence passes through unchanged apart from the prefixes:
 * - a line ends at LF (0x0a); CR LF stays as is;
 * - a lone CR (a progress bar redrawing its line) starts a new visual line, so it is followed by the prefix
 *   again and a terminal shows "[h1] 42%" rather than the bar overwriting the prefix;
 * - NUL and other bytes are ordinary line content; prefixes are ASCII and are only inserted after LF or CR,
 *   which never occur inside a UTF-8 sequence, so multi-byte characters are never split by a prefix.
 *
 * A partial line is held until its LF (or end()). Memory is bounded: a line longer than `maxHeldBytes` is
 * written out unterminated and continued in place as more of it arrives. If another source needs the same
 * output meanwhile, the open line is ended with an LF and its rest later starts a new prefixed line: the one
 * case in which the framing adds a line break the script did not print. end() terminates every source's
 * last line with an LF (so "[h1] test" and "[h2] test" stay two lines when a script prints no newline).
 */

const LF = 0x0a;
const CR = 0x0d;
const NEWLINE = Buffer.from('\n');

/** One source of output: its key (e.g. "<executionId>:stdout"), the output it goes to, its prefix. */
export interface PrefixSource<Output extends string> {
  key: string;
  output: Output;
  prefix: string;
}

/** Bytes to write to one output, in the order returned. */
export interface PrefixedPiece<Output extends string> {
  output: Output;
  bytes: Buffer;
}

interface SourceState<Output extends string> {
  source: PrefixSource<Output>;
  prefix: Buffer;
  /** Bytes of the current line not yet written. */
  held: Buffer;
  /** The current line's prefix is written and the output's open line is this source's. */
  open: boolean;
}

export class LinePrefixer<Output extends string> {
  private readonly sources = new Map<string, SourceState<Output>>();
  /** Per output: the source whose line is written but not yet terminated. */
  private readonly openBy = new Map<Output, SourceState<Output>>();
  private readonly maxHeldBytes: number;

  /** maxHeldBytes: the longest partial line held back per source before it is written open (default 64 KiB). */
  constructor(options: { maxHeldBytes?: number } = {}) {
    this.maxHeldBytes = Math.max(1, options.maxHeldBytes ?? 64 * 1024);
  }

  /** Takes the next bytes of a source; returns what to write now. */
  push(source: PrefixSource<Output>, data: Buffer): PrefixedPiece<Output>[] {
    const state = this.state(source);
    const out: PrefixedPiece<Output>[] = [];
    const buf = state.held.length ? Buffer.concat([state.held, data]) : data;
    const lastLf = buf.lastIndexOf(LF);
    let rest = buf;
    if (lastLf >= 0) {
      this.claim(state, out);
      out.push({ output: source.output, bytes: this.frame(state, buf.subarray(0, lastLf + 1)) });
      state.open = false;
      this.openBy.delete(source.output);
      rest = buf.subarray(lastLf + 1);
    }
    // Copy what stays held so a caller's buffer is never retained (or mutated under us).
    state.held = Buffer.from(rest);
    if (state.held.length > this.maxHeldBytes) this.writeOpen(state, out);
    return out;
  }

  /** Ends every source: writes held bytes and terminates open lines. */
  end(): PrefixedPiece<Output>[] {
    const out: PrefixedPiece<Output>[] = [];
    for (const state of this.sources.values()) {
      if (!state.held.length && !state.open) continue;
      this.claim(state, out);
      const bytes = state.held.length ? this.frame(state, state.held) : Buffer.alloc(0);
      out.push({ output: state.source.output, bytes: Buffer.concat([bytes, NEWLINE]) });
      state.held = Buffer.alloc(0);
      state.open = false;
      this.openBy.delete(state.source.output);
    }
    return out;
  }

  private state(source: PrefixSource<Output>): SourceState<Output> {
    let state = this.sources.get(source.key);
    if (!state) {
      state = { source, prefix: Buffer.from(source.prefix), held: Buffer.alloc(0), open: false };
      this.sources.set(source.key, state);
    }
    return state;
  }

  /** Makes the output's open line this source's: another source's open line is ended first. */
  private claim(state: SourceState<Output>, out: PrefixedPiece<Output>[]): void {
    const owner = this.openBy.get(state.source.output);
    if (owner && owner !== state) {
      out.push({ output: owner.source.output, bytes: NEWLINE });
      owner.open = false;
      this.openBy.delete(state.source.output);
    }
  }

  /** Writes a too-long partial line, keeping back only a trailing CR and an unfinished UTF-8 character. */
  private writeOpen(state: SourceState<Output>, out: PrefixedPiece<Output>[]): void {
    const held = state.held;
    let keep = incompleteUtf8Tail(held);
    if (held.length > keep && held[held.length - keep - 1] === CR) keep++;
    if (keep >= held.length) return;
    this.claim(state, out);
    // What is written is followed by more of the line (not LF), so a CR at its end is a lone CR.
    out.push({
      output: state.source.output,
      bytes: this.frame(state, held.subarray(0, held.length - keep), true),
    });
    state.open = true;
    this.openBy.set(state.source.output, state);
    state.held = Buffer.from(held.subarray(held.length - keep));
  }

  /**
   * The bytes with prefixes inserted: at the start unless the line is already open, after every LF that is
   * not the last byte, and after every lone CR (a last CR counts as lone when `moreFollows`: the rest of the
   * line comes later and does not start with LF).
   */
  private frame(state: SourceState<Output>, bytes: Buffer, moreFollows = false): Buffer {
    const parts: Buffer[] = [];
    if (!state.open) parts.push(state.prefix);
    let from = 0;
    // Next LF and CR positions, each searched again only once passed (one pass over the bytes).
    let lf = bytes.indexOf(LF);
    let cr = bytes.indexOf(CR);
    for (;;) {
      const at = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (at < 0 || (at === bytes.length - 1 && !(moreFollows && at === cr))) break;
      if (at === lf) lf = bytes.indexOf(LF, at + 1);
      else cr = bytes.indexOf(CR, at + 1);
      // CR LF: the LF ends the line (handled at its own position).
      if (bytes[at] === CR && bytes[at + 1] === LF) continue;
      parts.push(bytes.subarray(from, at + 1), state.prefix);
      from = at + 1;
    }
    parts.push(bytes.subarray(from));
    return Buffer.concat(parts);
  }
}

/** How many bytes at the end of buf are the start of a UTF-8 character whose remaining bytes are missing. */
export function incompleteUtf8Tail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const byte = buf[buf.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead byte
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}
