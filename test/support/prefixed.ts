const LF = 0x0a;
const CR = 0x0d;

/**
 * Reads the CLI's prefixed output back (see src/cli/linePrefixer.ts): every line start (the start, after
 * LF, after a lone CR) must carry exactly one of the prefixes; the bytes up to the next line start belong
 * to that prefix's source. Throws when a line start has no known prefix.
 */
export function deprefix(out: Buffer, prefixes: string[]): Map<string, Buffer> {
  const parts = new Map<string, Buffer[]>(prefixes.map((p) => [p, []]));
  let pos = 0;
  while (pos < out.length) {
    const prefix = prefixes.find((p) => out.subarray(pos, pos + p.length).equals(Buffer.from(p)));
    if (!prefix)
      throw new Error(`no prefix at ${pos}: ${JSON.stringify(out.subarray(pos, pos + 20).toString())}`);
    pos += prefix.length;
    // The line ends at the next LF, or at a lone CR before it (indexOf: outputs here run to megabytes).
    const lf = out.indexOf(LF, pos);
    let cr = out.indexOf(CR, pos);
    while (cr >= 0 && (lf < 0 || cr < lf) && (cr + 1 >= out.length || out[cr + 1] === LF))
      cr = out.indexOf(CR, cr + 1);
    const next = cr >= 0 && (lf < 0 || cr < lf) ? cr : lf;
    const end = next < 0 ? out.length : next + 1;
    parts.get(prefix)!.push(out.subarray(pos, end));
    pos = end;
  }
  return new Map([...parts].map(([p, bufs]) => [p, Buffer.concat(bufs)]));
}
