/** pino-roll ships no types: the one function the logger calls (see its README). */
declare module 'pino-roll' {
  import type { Writable } from 'node:stream';

  /** Opens `<file>.<n><extension>`, rolling to n+1 past `size`; resolves once the file is open. */
  export default function roll(options: {
    file: string;
    extension?: string;
    size?: string | number;
    frequency?: string | number;
    limit?: { count: number };
    mkdir?: boolean;
  }): Promise<Writable>;
}
