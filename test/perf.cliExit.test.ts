/**
 * Issue 10, the end of `cronium run`: once the run's end is stored and said, the process ends at once,
 * without the graceful close (no SSH disconnect to wait for, no WAL checkpoint). Real processes on a real
 * host: the whole output still reaches a reader that is slow to start, the exit code is the script's, and
 * the next process reads the execution as stored.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ownHosts, tempDir } from './support/fixtures.ts';

const h = ownHosts('cliexit');
afterAll(async () => h.removeUser());

interface Ended {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

describe('cronium run ends as soon as its result is stored', () => {
  const dir = tempDir();
  const env = { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: '0' };
  afterAll(async () => dir.remove());

  /** Runs the CLI as a process; its stdout is not read for the first `holdMs` (a reader slow to start). */
  function cli(args: string[], holdMs = 0): Promise<Ended> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['src/cli/main.ts', ...args], { env });
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.pause();
      setTimeout(() => child.stdout.on('data', (d: Buffer) => out.push(d)).resume(), holdMs);
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    });
  }

  beforeAll(async () => {
    const add = await cli([
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
    expect(add.code).toBe(0);
    // 20,000 numbered lines (about 2 MB: more than a pipe holds), then the script's own exit code.
    const script = `seq -w 1 20000 | sed 's/$/ ${'0'.repeat(90)}/'; exit 3`;
    const job = await cli(['job', 'add', 'many', '--lang', 'bash', '--script', script]);
    expect(job.code).toBe(0);
  });

  it("a reader slow to start still gets every line; the code is the script's; the next process reads it stored", async () => {
    const r = await cli(['run', 'many', '--on', 'h1'], 1500);
    expect(r.code).toBe(3);
    const lines = r.stdout.toString().split('\n');
    expect(lines).toHaveLength(20_001);
    expect(lines[0]).toMatch(/^00001 0{90}$/);
    expect(lines[19_999]).toMatch(/^20000 0{90}$/);
    expect(r.stderr).toBe('cronium: failed (exit 3)\n');
    // No close ran: what it committed is still in the WAL (a close would have checkpointed it away).
    const wal = join(dir.path, 'cronium.db-wal');
    expect(existsSync(wal) && statSync(wal).size > 0).toBe(true);

    const history = await cli(['history', '--json']);
    expect(history.code).toBe(0);
    const rows = JSON.parse(history.stdout.toString()) as { items?: unknown[] } | unknown[];
    const items = (Array.isArray(rows) ? rows : (rows.items ?? [])) as { status: string; exitCode: number }[];
    expect(items[0]).toMatchObject({ status: 'failed', exitCode: 3 });
    const shown = await cli(['show', (items[0] as unknown as { id: string }).id]);
    expect(shown.stdout.toString()).toContain('20000 0');
  });
});
