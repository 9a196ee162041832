/** The CLI's live output: every system line on stderr carries the `cronium: ` prefix, however they arrive. */
import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { LiveOutput } from '../src/cli/commands/run.ts';
import type { CliIo } from '../src/cli/io.ts';

function capture() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const text = { stdout: '', stderr: '' };
  stdout.on('data', (d: Buffer) => (text.stdout += d.toString()));
  stderr.on('data', (d: Buffer) => (text.stderr += d.toString()));
  const io: CliIo = { stdout, stderr, readStdin: () => '', env: {} };
  return { io, text };
}

const chunk = (stream: 'stdout' | 'stderr' | 'system', text: string) => ({
  executionId: 'e1',
  seq: 0,
  stream,
  ts: 0,
  text,
});

describe('live output of one server', () => {
  it.each([
    ['one line', 'tool action slack sent\n', 'cronium: tool action slack sent\n'],
    ['a batch of three', 'a sent\nb sent\nc sent\n', 'cronium: a sent\ncronium: b sent\ncronium: c sent\n'],
    ['a line without its end', 'x\ny', 'cronium: x\ncronium: y'],
  ])('prefixes each system line (%s)', async (_, text, expected) => {
    const { io, text: out } = capture();
    const live = new LiveOutput(
      io,
      new Map([['e1', 'h1']]),
      () => true,
      () => {},
    );
    live.write(chunk('system', text));
    live.write(chunk('stdout', 'script output\n'));
    await new Promise((r) => setImmediate(r));
    expect(out.stderr).toBe(expected);
    expect(out.stdout).toBe('script output\n');
  });
});
