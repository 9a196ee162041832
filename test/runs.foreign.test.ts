/**
 * Issue 11 parts 5 and 6 in the core, on real hosts: one host of a run stopped while the others go on
 * (running, and still queued), and a run the CLI started in another process followed live through the
 * shared database — its run, executions and every log chunk published here in order — and cancelled from
 * here, one host first and then the whole run, through the cancel requests its process polls.
 */
import { spawn } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CoreEvent, Execution, LogChunk, Run } from '../src/core/domain.ts';
import { CroniumService } from '../src/service/service.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const h = ownHosts('runsfgn');
afterAll(async () => h.removeUser());

const TICKER = 'for i in $(seq 1 600); do echo "tick $i"; sleep 0.1; done\n';

describe('per-host cancel and runs of other processes', () => {
  const data = tempDir();
  let service: CroniumService;
  const events: CoreEvent[] = [];

  beforeAll(async () => {
    service = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
      killGraceSec: 1,
    });
    for (const name of ['h1', 'h2'] as const)
      await service.createServer({
        name,
        host: h.hosts[name].address,
        username: h.user,
        auth: { type: 'key', keyPath: h.keyPath },
      });
    await service.createJob({ name: 'ticker', language: 'bash', script: TICKER });
    await service.createJob({ name: 'short', language: 'bash', script: 'sleep 1; echo done\n' });
    service.subscribe((event) => events.push(event));
  });
  afterAll(async () => {
    await service.close();
    data.remove();
  });

  /** Resolves with the first event (from now on, or already seen) that `match` accepts. */
  const until = async <T>(match: (event: CoreEvent) => T | undefined, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const event of events) {
        const found = match(event);
        if (found !== undefined) return found;
      }
      if (Date.now() > deadline) throw new Error('no such event in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const executionOf = (runId: string, server: string, status: Execution['status']) => (e: CoreEvent) =>
    e.type === 'execution' &&
    e.execution.runId === runId &&
    e.execution.serverName === server &&
    e.execution.status === status
      ? e.execution
      : undefined;

  it('stops one host of its own run; a queued host never starts; the others go on', async () => {
    const run = await service.startRun({ jobId: 'short', serverIds: ['h1', 'h2'], concurrency: 1 });
    const [first, second] = await Promise.all(
      run.executionIds.map(async (id) => await service.getExecution(id)),
    );
    // Concurrency 1: h1 runs while h2 waits in the queue.
    expect(await service.cancelExecution(second!.id)).toBe(true);
    const finished = await service.waitForRun(run.id);
    expect(await service.getExecution(first!.id)).toMatchObject({ status: 'succeeded' });
    expect(await service.getExecution(second!.id)).toMatchObject({
      status: 'cancelled',
      errorMessage: 'Cancelled before the script started.',
    });
    expect(finished.status).toBe('partial');
    expect(await service.cancelExecution(second!.id)).toBe(false);

    const running = await service.startRun({ jobId: 'ticker', serverIds: ['h1', 'h2'] });
    await until(executionOf(running.id, 'h2', 'running'));
    const h2 = (
      await Promise.all(running.executionIds.map(async (id) => await service.getExecution(id)))
    ).find((e) => e.serverName === 'h2')!;
    expect(await service.cancelExecution(h2.id)).toBe(true);
    await until(executionOf(running.id, 'h2', 'cancelled'));
    expect(
      (
        await Promise.all(running.executionIds.map(async (id) => (await service.getExecution(id)).status))
      ).sort(),
    ).toEqual(['cancelled', 'running']);
    await service.cancelRun(running.id);
    expect((await service.waitForRun(running.id)).status).toBe('cancelled');
  });

  it('follows a run the CLI started, streams its log, and cancels it from here', async () => {
    const stop = service.followOtherProcesses(100);
    const cli = spawn(process.execPath, ['src/cli/main.ts', 'run', 'ticker', '--on', 'h1,h2'], {
      env: { ...process.env, CRONIUM_DATA_DIR: data.path, CRONIUM_RUNTIME_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    cli.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => cli.on('close', resolve));
    try {
      const run = await until((e) =>
        e.type === 'run' && e.run.jobName === 'ticker' && e.run.trigger === 'cli' ? e.run : undefined,
      );
      expect(run.status).toBe('running');
      expect(service.activeRunIds()).not.toContain(run.id);
      const h1 = await until(executionOf(run.id, 'h1', 'running'));
      const h2 = await until(executionOf(run.id, 'h2', 'running'));
      await until((e) =>
        e.type === 'log' && e.chunk.executionId === h1.id && /tick 10\n/.test(e.chunk.text)
          ? true
          : undefined,
      );

      // One host, then the whole run: through the database, to the CLI's process.
      expect(await service.cancelExecution(h2.id)).toBe(true);
      await until(executionOf(run.id, 'h2', 'cancelled'));
      expect((await service.getExecution(h1.id)).status).toBe('running');
      expect(await service.cancelRun(run.id)).toBe(true);
      const ended = await until((e) =>
        e.type === 'run' && e.run.id === run.id && e.run.status !== 'running' ? e.run : undefined,
      );
      expect(ended.status).toBe('cancelled');
      expect(await exited).toBe(1);
      expect(stderr).toMatch(/h2: cancelled/);
      await until(executionOf(run.id, 'h1', 'cancelled'));

      // Every chunk published once, in order: the same text as stored.
      const published = (id: string) =>
        events
          .filter(
            (e): e is { type: 'log'; chunk: LogChunk } => e.type === 'log' && e.chunk.executionId === id,
          )
          .map((e) => e.chunk);
      for (const id of [h1.id, h2.id]) {
        const chunks = published(id);
        expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
        expect(chunks.map((c) => c.text).join('')).toBe(
          (await service.readLog(id, -1, 100_000)).map((c) => c.text).join(''),
        );
      }
      // A finished run of another process is not going: nothing to cancel.
      expect(await service.cancelRun(run.id)).toBe(false);
      expect(((await service.getRun(run.id)) satisfies Run).status).toBe('cancelled');
    } finally {
      stop();
      cli.kill('SIGTERM');
    }
  });
});
