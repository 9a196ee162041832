/** Errors of the newer commands name the option the user typed, not the contract's field path. */
import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from './support/cli.ts';
import { tempDir } from './support/fixtures.ts';

describe('errors in the user’s words', () => {
  const dir = tempDir();
  const env = { CRONIUM_DATA_DIR: dir.path };
  afterAll(async () => dir.remove());

  it('schedule add names --on, --set and --cron', async () => {
    expect((await runCli(['job', 'add', 'x', '--lang', 'bash', '--script', 'true'], env)).code).toBe(0);
    const cron = await runCli(['schedule', 'add', 's', '--job', 'x', '--cron', 'nope'], env);
    expect(cron.code).toBe(2);
    expect(cron.stderr).toMatch(/--cron: /);
    const on = await runCli(
      ['schedule', 'add', 's', '--job', 'x', '--cron', '@hourly', '--on', 'nosuch'],
      env,
    );
    expect(on.code).toBe(2);
    expect(on.stderr).toMatch(/--on: no server named "nosuch"/);
    const set = await runCli(
      ['schedule', 'add', 's', '--job', 'x', '--cron', '@hourly', '--set', 'a=1'],
      env,
    );
    expect(set.code).toBe(2);
    expect(set.stderr).toMatch(/--set: no parameter named "a"/);
    expect(cron.stderr + on.stderr + set.stderr).not.toMatch(/targets\.0|params\.a|\scron:/);
  }, 120_000);

  it('tool add names --from', async () => {
    const bad = await runCli(['tool', 'add', 't', '--type', 'email', '--host', 'smtp.example.com'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from: /);
  }, 120_000);
});

describe('--set given twice', () => {
  const dir = tempDir();
  const env = { CRONIUM_DATA_DIR: dir.path };
  afterAll(async () => dir.remove());

  it('is refused by run as by schedule add, nothing started', async () => {
    expect(
      (await runCli(['job', 'add', 'p', '--lang', 'bash', '--script', 'true', '--param', 'env:string'], env))
        .code,
    ).toBe(0);
    const run = await runCli(['run', 'p', '--on', 'nowhere', '--set', 'env=dev', '--set', 'env=prod'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--set env is given twice/);
  }, 120_000);
});
