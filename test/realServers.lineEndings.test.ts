/**
 * Issue 8, case 6: scripts run as their author meant them, whatever editor saved them: CRLF and lone CR
 * line endings, a UTF-8 byte-order mark, UTF-16 LE/BE files (CLI --file); with a note in the log.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeScriptFile, normalizeScript } from '../src/exec/scriptText.ts';
import type { CroniumService } from '../src/service/service.ts';
import { runCli } from './support/cli.ts';
import { hosts, runJob, serviceWithHosts, tempDir } from './support/fixtures.ts';

const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();

describe('normalizeScript', () => {
  it('turns CRLF and lone CR into LF and removes a leading BOM, saying what it did', () => {
    expect(normalizeScript('\ufeffa\r\nb\r\nc\rd\n')).toEqual({
      text: 'a\nb\nc\nd\n',
      changes: [
        'a byte-order mark (U+FEFF) at the start was removed',
        '2 Windows line endings (CRLF) became LF',
        '1 lone carriage return (CR) became LF',
      ],
    });
    expect(normalizeScript('x\r\n').changes).toEqual(['1 Windows line ending (CRLF) became LF']);
    expect(normalizeScript('old\rmac\r').text).toBe('old\nmac\n');
    // A CR right before the end, a BOM that is not at the start: only what an editor adds is touched.
    expect(normalizeScript('a\u200bb\ufeff\r').text).toBe('a\u200bb\ufeff\n');
  });

  it('leaves a normal text alone and is idempotent', async () => {
    const normal = 'echo "ok"\n\tindented\n';
    expect(normalizeScript(normal)).toEqual({ text: normal, changes: [] });
    const once = normalizeScript('\ufeffa\r\n\rb').text;
    expect(normalizeScript(once)).toEqual({ text: once, changes: [] });
  });
});

describe('decodeScriptFile', () => {
  it('reads UTF-16 LE and BE by their byte-order mark, and UTF-8 with or without one', () => {
    const text = 'print("héllo ✓")\r\n';
    expect(
      decodeScriptFile(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'f'),
    ).toBe(text);
    expect(decodeScriptFile(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(text)]), 'f')).toBe(text);
    expect(decodeScriptFile(Buffer.from(text), 'f')).toBe(text);
    // The UTF-8 mark is kept, for the run to remove and say so.
    expect(decodeScriptFile(Buffer.from('\ufeff' + text), 'f')).toBe('\ufeff' + text);
  });

  it('refuses bytes that are not text, naming the file', () => {
    expect(() => decodeScriptFile(Buffer.from([0x65, 0xe9, 0x0a]), 'latin1.sh')).toThrow(
      /latin1\.sh is not UTF-8 text/,
    );
    expect(() => decodeScriptFile(Buffer.from('e\0c\0h\0o\0'), 'nobom.sh')).toThrow(/nobom\.sh contains NUL/);
  });
});

describe('scripts saved by Windows editors, on a real host', () => {
  let service: CroniumService;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts());
  });
  afterAll(async () => close());

  it.each([
    [
      'bash',
      '\ufeff#!/bin/bash\r\nname="world"\r\nif [ -n "$name" ]; then\r\n  echo "hello $name"\r\nfi\r\ncat <<EOF\r\nheredoc line\r\nEOF\r\n',
      ['a byte-order mark (U+FEFF) at the start was removed', '8 Windows line endings (CRLF) became LF'],
    ],
    [
      'python',
      '\ufeffimport sys\r\nfor name in ["world"]:\r\n    print("hello", name)\rprint("heredoc line", end="\\n")\r\nsys.exit(0)',
      [
        'a byte-order mark (U+FEFF) at the start was removed',
        '3 Windows line endings (CRLF) became LF',
        '1 lone carriage return (CR) became LF',
      ],
    ],
    [
      'node',
      'const name = "world";\rif (name) {\r  console.log(`hello ${name}`);\r}\rconsole.log(`heredoc line`);\r',
      ['5 lone carriage returns (CR) became LF'],
    ],
  ] as const)(
    'runs a %s script with Windows line endings and a BOM as meant',
    async (language, script, changes) => {
      const r = await runJob(service, { language, script }, ['h1']);
      expect(r.exec.status).toBe('succeeded');
      expect(r.text('h1', 'stdout')).toBe('hello world\nheredoc line\n');
      expect(r.text('h1', 'stderr')).toBe('');
      expect(r.text('h1', 'system')).toBe(
        `the script's text was normalized before it ran: ${changes.join('; ')}\n`,
      );
    },
  );

  it('leaves a normal script without a note', async () => {
    const r = await runJob(service, { language: 'bash', script: 'echo plain' }, ['h1']);
    expect(r.text('h1')).toBe('plain\n');
  });
});

describe('cronium job add --file with a UTF-16 file', () => {
  const h = hosts();
  const dir = tempDir();
  const env = { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: '0' };
  afterAll(async () => dir.remove());

  const cli = (args: string[]) => runCli(args, env);

  it.each([
    ['le', (t: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')])],
    ['be', (t: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(t)])],
  ] as const)('decodes UTF-16 %s and runs it', async (kind, encode) => {
    if (kind === 'le') {
      const added = await cli([
        'server',
        'add',
        'h1',
        '--host',
        h.hosts.h1.address,
        '--user',
        h.user,
        '--key',
        h.keyPath,
      ]);
      expect(added.stderr).toBe('');
    }
    const file = join(dir.path, `script-${kind}.sh`);
    writeFileSync(file, encode('echo "héllo ✓"\r\nif true; then\r\n  echo done\r\nfi\r\n'));
    const add = await cli(['job', 'add', `w-${kind}`, '--lang', 'bash', '--file', file]);
    expect(add.stderr).toBe('');
    const run = await cli(['run', `w-${kind}`, '--on', 'h1']);
    expect(run.stdout).toBe('héllo ✓\ndone\n');
    expect(run.code).toBe(0);
  });

  it('refuses a file that is not text, and saves nothing', async () => {
    const file = join(dir.path, 'latin1.sh');
    writeFileSync(file, Buffer.from([0x65, 0x63, 0x68, 0x6f, 0x20, 0xe9, 0x0a]));
    const add = await cli(['job', 'add', 'bad', '--lang', 'bash', '--file', file]);
    expect(add.code).not.toBe(0);
    expect(add.stderr).toContain('latin1.sh is not UTF-8 text');
    const list = await cli(['job', 'list', '--json']);
    expect(list.stdout).not.toContain('"bad"');
  });
});
