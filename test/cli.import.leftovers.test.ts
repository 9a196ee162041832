/**
 * Issue 11 part 7 leftovers on the real CLI process: errors in the user's words (the option typed, not the
 * contract's field path), `server edit` of an unknown server exits with the not-found code like the other
 * commands, read-only commands leave no data directory behind, a trailing-dot FQDN is a host.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from './support/cli.ts';
import { tempDir } from './support/fixtures.ts';

const root = tempDir();
afterAll(async () => root.remove());
const cli = (dataDir: string, args: string[]) => runCli(args, { CRONIUM_DATA_DIR: dataDir });

describe('cronium CLI leftovers (issue 11 part 7)', () => {
  const dir = join(root.path, 'data');

  it('names the option the user typed in an invalid-input message', async () => {
    const port = await cli(dir, [
      'server',
      'add',
      'a',
      '--host',
      'h.example',
      '--user',
      'u',
      '--agent',
      '--port',
      '0',
    ]);
    expect(port.code).toBe(2);
    expect(port.stderr).toBe('cronium: Invalid input — --port: port must be 1–65535\n');
    const tag = await cli(dir, [
      'server',
      'add',
      'a',
      '--host',
      'h.example',
      '--user',
      'u',
      '--agent',
      '--tag',
      ' ',
    ]);
    expect(tag.stderr).toBe('cronium: Invalid input — --tag: a tag is not empty\n');
    const several = await cli(dir, ['server', 'add', 'a', '--host', 'a b', '--user', 'x@y', '--agent']);
    expect(several.stderr).toMatch(
      /^cronium: Invalid input — --host: .+; --user: .+\n {2}--host: .+\n {2}--user: .+\n$/,
    );
    expect(several.stderr).not.toMatch(/ (username|host|tags\.0):/);
    // --json keeps the contract's names, which scripts read.
    const json = await cli(dir, [
      '--json',
      'server',
      'add',
      'a',
      '--host',
      'h.example',
      '--user',
      'u',
      '--agent',
      '--tag',
      '',
    ]);
    expect(JSON.parse(json.stderr)).toMatchObject({
      error: { kind: 'invalid_input', fields: { 'tags.0': 'a tag is not empty' } },
    });
  }, 120_000);

  it('exits with the not-found code for server edit of an unknown server, as show does', async () => {
    const show = await cli(dir, ['server', 'show', 'ghost']);
    const edit = await cli(dir, ['server', 'edit', 'ghost', '--port', '2222']);
    const bare = await cli(dir, ['server', 'edit', 'ghost']);
    expect(show.code).toBe(2);
    for (const r of [edit, bare]) {
      expect(r.code).toBe(show.code);
      expect(r.stderr).toBe('cronium: No server named "ghost".\n');
    }
  }, 120_000);

  it('accepts a fully qualified host name with its trailing dot', async () => {
    const add = await cli(dir, [
      'server',
      'add',
      'fqdn',
      '--host',
      'web1.example.com.',
      '--user',
      'u',
      '--agent',
    ]);
    expect(add.code).toBe(0);
    expect(add.stdout).toBe('Saved server fqdn (u@web1.example.com:22).\n');
  }, 120_000);

  it('creates no data directory for list, show, history or a dry-run import', async () => {
    const fresh = join(root.path, 'never-created');
    for (const args of [
      ['server', 'list'],
      ['job', 'list'],
      ['history'],
      ['var', 'list'],
      ['server', 'show', 'x'],
      ['job', 'show', 'x'],
      ['show', 'abcd'],
      ['server', 'import', '--dry-run', '--ssh-config', '/dev/null'],
    ]) {
      const r = await cli(fresh, args);
      expect(r.code === 0 || r.code === 2, `${args.join(' ')}: ${r.stderr}`).toBe(true);
      expect(existsSync(fresh), args.join(' ')).toBe(false);
    }
    expect((await cli(fresh, ['server', 'list'])).stdout).toBe(
      'No servers yet. Add one with "cronium server add".\n',
    );
  }, 120_000);
});
