/**
 * The execution status machine (src/core/executionStatus.ts): the pure table and finalStatus, and the
 * store's one writer of a status refusing a move the table does not allow.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { EXECUTION_STATUSES, FINAL_EXECUTION_STATUSES } from '../src/core/domain.ts';
import { canMove, finalStatus, isFinal } from '../src/core/executionStatus.ts';
import { HistoryRepo } from '../src/store/historyRepo.ts';
import { describeEngines } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

describe('execution status machine', () => {
  it('goes queued → connecting → running → final, and stops from any status not final', () => {
    expect(canMove('queued', 'connecting')).toBe(true);
    expect(canMove('connecting', 'running')).toBe(true);
    expect(canMove('running', 'succeeded')).toBe(true);
    expect(canMove('running', 'failed')).toBe(true);
    for (const from of EXECUTION_STATUSES.filter((s) => !isFinal(s)))
      for (const to of ['cancelled', 'timed_out', 'error'] as const) expect(canMove(from, to)).toBe(true);
    // No skipping ahead, no going back, and a final status is final.
    expect(canMove('queued', 'running')).toBe(false);
    expect(canMove('queued', 'succeeded')).toBe(false);
    expect(canMove('connecting', 'failed')).toBe(false);
    expect(canMove('running', 'queued')).toBe(false);
    for (const from of FINAL_EXECUTION_STATUSES)
      for (const to of EXECUTION_STATUSES) expect(canMove(from, to)).toBe(false);
  });

  it('finalStatus: exit 0 succeeded, other exits and signals failed, stops by their kind', () => {
    expect(finalStatus({ ended: 'exit', code: 0 })).toBe('succeeded');
    expect(finalStatus({ ended: 'exit', code: 1 })).toBe('failed');
    expect(finalStatus({ ended: 'exit', code: 255 })).toBe('failed');
    expect(finalStatus({ ended: 'signal' })).toBe('failed');
    expect(finalStatus({ ended: 'error', kind: 'cancelled' })).toBe('cancelled');
    expect(finalStatus({ ended: 'error', kind: 'timed_out' })).toBe('timed_out');
    expect(finalStatus({ ended: 'error', kind: 'connection_lost' })).toBe('error');
    expect(finalStatus({ ended: 'error', kind: 'auth_failed' })).toBe('error');
  });

  describeEngines('HistoryRepo.moveExecution', async ({ openStore }) => {
    const dir = tempDir();
    const db = await openStore({ dataDir: dir.path });
    const history = new HistoryRepo(db);
    afterAll(async () => {
      await db.close();
      dir.remove();
    });
    await history.createRun(
      {
        id: 'run-1',
        jobId: 'job',
        jobName: 'J',
        input: null,
        trigger: 'cli',
        concurrency: 1,
        helperMode: 'auto',
        startedAt: Date.now(),
      },
      [{ id: 'exec-1', serverId: 's1', serverName: 'one' }],
    );

    it('returns the row as written, and refuses an illegal move with an internal error, writing nothing', async () => {
      await expect(history.moveExecution('exec-1', 'succeeded', { exitCode: 0 })).rejects.toThrow(
        /cannot go from queued to succeeded/,
      );
      expect(await history.getExecution('exec-1')).toMatchObject({ status: 'queued', exitCode: null });
      expect(await history.moveExecution('exec-1', 'connecting')).toMatchObject({
        id: 'exec-1',
        status: 'connecting',
      });
      expect(await history.moveExecution('exec-1', 'running', { connectMs: 12 })).toMatchObject({
        status: 'running',
        timings: { connectMs: 12 },
      });
      const done = await history.moveExecution('exec-1', 'failed', { exitCode: 3, endedAt: 42 });
      expect(done).toMatchObject({ status: 'failed', exitCode: 3, endedAt: 42, serverName: 'one' });
      expect(done).toEqual(await history.getExecution('exec-1'));
      try {
        await history.moveExecution('exec-1', 'cancelled');
        expect.unreachable();
      } catch (err) {
        expect(err).toMatchObject({
          kind: 'internal',
          message: expect.stringMatching(/from failed to cancelled/),
        });
      }
      await expect(history.moveExecution('nope', 'connecting')).rejects.toThrow(/does not exist/);
    });
  });
});
