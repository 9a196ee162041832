/**
 * `cronium var set KEY -` reads the value from stdin, so a secret never stands on a command line (shell
 * history, `ps`): the whole input less one final newline, JSON or text as on the command line.
 */
import { afterAll, expect, it } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { runCli } from './support/cli.ts';
import { tempDir } from './support/fixtures.ts';

const dir = tempDir('cronium-varstdin-');
const env = { CRONIUM_DATA_DIR: dir.path, CRONIUM_SECRET_STORE: 'key-file' };
afterAll(() => dir.remove());

it('sets a secret and a JSON value from stdin; the secret stays hidden in lists', async () => {
  const secret = await runCli(['var', 'set', 'api-token', '-', '--secret'], env, 'tok en\n');
  expect(secret.stderr).toBe('');
  expect(secret.code).toBe(0);
  const json = await runCli(['var', 'set', 'limits', '-'], env, '{\n  "warn": 80,\n  "crit": [90, 95]\n}\n');
  expect(json.code).toBe(0);
  const listed = await runCli(['var', 'list'], env);
  expect(listed.stdout).not.toContain('tok en');
  const service = await CroniumService.open({ dataDir: dir.path, keychain: null, runtimePort: 0 });
  try {
    expect(await service.getVariableValue('api-token')).toBe('tok en');
    expect(await service.getVariableValue('limits')).toEqual({ warn: 80, crit: [90, 95] });
  } finally {
    await service.close();
  }
});
