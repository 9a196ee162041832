/**
 * The lost-worker policy. A worker writes its heartbeat row every `heartbeatMs` (2 s); one whose heartbeat
 * is older than `lostAfterMs` (15 s) is dead — killed, its machine gone, cut off from the store. Any live
 * worker (and the daemon) reaps it, at each of its own heartbeats:
 * - an execution it had taken whose script had not started (queued, or still connecting) goes back to
 *   the queue, for another worker to run from the start: nothing of it ran on its host;
 * - an execution whose script had started (running, or detached) becomes `worker_lost`, a final status:
 *   nobody knows how far the script got, so it is never run twice behind the user's back (re-run it);
 * - its queue jobs are failed (their run's concurrency slots are free again), its row removed, and each
 *   run whose executions have now all ended is ended.
 * Guarded UPDATEs make two reapers at once harmless: each execution is moved by one of them.
 */
import { hostname } from 'node:os';

import { log } from '../core/logger.ts';
import type { Team } from './team.ts';

/** Milliseconds between a worker's heartbeats. */
export const DEFAULT_HEARTBEAT_MS = 2_000;
/** Milliseconds without a heartbeat after which a worker counts as lost. */
export const DEFAULT_LOST_AFTER_MS = 15_000;

/**
 * Settles the executions `worker` held (re-queued or worker_lost, see above); `why` ends up in their
 * error message. Returns how many went back to the queue and how many were lost.
 */
export async function reapWorker(
  team: Team,
  worker: string,
  why: string,
): Promise<{ requeued: number; lost: number }> {
  const { repo, history, hub } = team.deps;
  const held = await repo.heldBy(worker);
  if (held.length === 0) return { requeued: 0, lost: 0 };
  const requeue: { executionId: string; runId: string }[] = [];
  let lost = 0;
  const now = Date.now();
  for (const e of held) {
    if (e.status === 'queued' || e.status === 'connecting') {
      if (await repo.requeue(e.id, worker)) requeue.push({ executionId: e.id, runId: e.runId });
      continue;
    }
    try {
      const written = await history.moveExecution(e.id, 'worker_lost', {
        errorMessage: `The worker ${worker} running it was lost (${why}); how the script ended is unknown.`,
        endedAt: now,
      });
      hub.emit({ type: 'execution', execution: written });
      lost++;
    } catch {
      // Ended meanwhile (its worker was slow, not dead): nothing to do.
    }
  }
  const queue = team.queue();
  await queue.fail(held.map((e) => e.queueJob).filter((j): j is string => j !== null));
  const requeued = [];
  for (const r of requeue) {
    const run = (await history.getRun(r.runId))!;
    requeued.push({ ...r, concurrency: run.concurrency, expireInSeconds: 86_000 });
  }
  await queue.enqueue(requeued);
  for (const runId of new Set(held.map((e) => e.runId))) {
    await team.settle(runId);
    await team.signal(runId);
  }
  if (requeue.length || lost)
    log().warn(
      { worker, requeued: requeue.length, lost },
      `worker ${worker} lost (${why}): ${requeue.length} execution(s) re-queued, ${lost} worker_lost`,
    );
  return { requeued: requeue.length, lost };
}

/**
 * Reaps every worker whose heartbeat is older than `lostAfterMs` (but `except`, the caller itself).
 * Returns the names reaped.
 */
export async function reapLostWorkers(team: Team, lostAfterMs: number, except?: string): Promise<string[]> {
  const { repo } = team.deps;
  const limit = Date.now() - lostAfterMs;
  const reaped: string[] = [];
  for (const w of await repo.workers()) {
    if (w.name === except || w.heartbeatAt >= limit) continue;
    await reapWorker(team, w.name, `no heartbeat since ${new Date(w.heartbeatAt).toISOString()}`);
    await repo.removeWorker(w.name, limit);
    reaped.push(w.name);
  }
  return reaped;
}

/** This machine's name, for a worker's default name and its heartbeat row. */
export function machineName(): string {
  return hostname();
}
