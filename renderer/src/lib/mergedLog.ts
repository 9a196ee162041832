import { diffLines } from 'diff';

import { LogBuffer, type StreamCode } from './logBuffer.ts';

/** Which lines of a run's merged log are shown: the hosts (execution ids) and the streams picked. */
export interface MergedFilter {
  executionIds: readonly string[];
  streams: ReadonlySet<StreamCode>;
}

/**
 * The merged log of a run's hosts: every line of the chosen hosts and streams, each prefixed
 * `[server] `, in the order the lines began (a host's own lines keep their order; lines that began at
 * the same millisecond keep the hosts' order). Built anew from the hosts' buffers, which it never changes.
 */
export function mergeLogs(
  sources: readonly { executionId: string; serverName: string; log: LogBuffer }[],
  filter: MergedFilter,
): LogBuffer {
  const picked = sources.filter((s) => filter.executionIds.includes(s.executionId));
  const entries: { ts: number; source: number; index: number }[] = [];
  picked.forEach((s, source) => {
    for (let index = 0; index < s.log.length; index++)
      if (filter.streams.has(s.log.streamAt(index))) entries.push({ ts: s.log.timeAt(index), source, index });
  });
  // Stable sort: equal times keep host order, then line order.
  entries.sort((a, b) => a.ts - b.ts);
  const merged = new LogBuffer();
  for (const { source, index } of entries) {
    const s = picked[source]!;
    merged.pushLine(`[${s.serverName}] ${s.log.lines[index]}`, s.log.streamAt(index), s.log.timeAt(index));
  }
  return merged;
}

/** A host's stdout as text (the lines of stream stdout, one per line): what output groups compare. */
export function stdoutText(log: LogBuffer): string {
  const lines: string[] = [];
  for (let i = 0; i < log.length; i++) if (log.streamAt(i) === 0) lines.push(log.lines[i]!);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** One line of a diff: kept, only in the baseline (-), or only in the other host (+). */
export interface DiffLine {
  kind: ' ' | '-' | '+';
  text: string;
}

/** A host's output against a baseline's, line by line (jsdiff's Myers diff). */
export function outputDiff(baseline: string, other: string): DiffLine[] {
  const out: DiffLine[] = [];
  for (const part of diffLines(baseline, other)) {
    const kind = part.added ? '+' : part.removed ? '-' : ' ';
    const lines = part.value.endsWith('\n') ? part.value.slice(0, -1).split('\n') : part.value.split('\n');
    for (const text of lines) out.push({ kind, text });
  }
  return out;
}
