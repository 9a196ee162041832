/**
 * Issue 14 item 5, data one way: `cronium run` labels its output with the server names the run carries
 * (Run.serverNames, written with the run) instead of reading each execution back at the start.
 */
import { Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { main } from '../src/cli/main.ts';
import { CroniumService } from '../src/service/service.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const h = ownHosts('runflow');
afterAll(() => h.removeUser());
const data = tempDir();
afterAll(() => data.remove());

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        write(String(chunk));
        done();
      },
    });
  const code = await main(['--data-dir', data.path, ...args], {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    readStdin: () => '',
    env: { CRONIUM_RUNTIME_PORT: '0' },
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  const seed = await CroniumService.open({
    dataDir: data.path,
    unknownHostKeys: 'accept-new',
    runtimePort: 0,
  });
  for (const [name, host] of [
    ['alpha', h.hosts.h1.address],
    ['beta', h.hosts.h2.address],
  ] as const)
    await seed.createServer({ name, host, username: h.user, auth: { type: 'key', keyPath: h.keyPath } });
  await seed.createJob({ name: 'hello', language: 'bash', script: 'echo "hi from $(hostname)"' });
  await seed.close();
});

describe('cronium run: data one way', () => {
  it('labels each server’s lines from the run it started, reading executions only for the summary', async () => {
    const reads = vi.spyOn(CroniumService.prototype, 'getExecution');
    try {
      const r = await cli('run', 'hello', '--on', 'alpha,beta', '--helpers', 'bundled');
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n').sort();
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^\[alpha\] hi from /);
      expect(lines[1]).toMatch(/^\[beta\] hi from /);
      // One read per execution, for the final summary; none to learn names the run already carried.
      expect(reads).toHaveBeenCalledTimes(2);
    } finally {
      reads.mockRestore();
    }
  });
});
