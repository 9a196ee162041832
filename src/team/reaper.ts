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
 * Who reaps: every live worker at its heartbeat, the daemon, and every process following a worker run
 * (the CLI waiting on `run --via workers`, the app and browser mode), each every heartbeat interval, so a
 * team whose only worker died still sees its runs end. Exactly once under any number of reapers: a reaper
 * first claims the lost worker in the store (its row deleted while its heartbeat is still stale; one
 * DELETE wins), and then guarded UPDATEs move each execution once. A reaper that dies between its claim
 * and the end leaves executions held by a worker without a row: every reaper's next pass settles those.
 */
import { hostname } from 'node:os';

import { CroniumError } from '../core/errors.ts';
import type { EventHub } from '../core/eventHub.ts';
import { log } from '../core/logger.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';
import type { WorkQueue } from './queue.ts';
import type { TeamRepo } from './teamRepo.ts';

/** What a reaper uses of Team (src/team/team.ts, which starts reapers: named here, not imported). */
export interface ReaperTeam {
  deps: { repo: TeamRepo; history: HistoryRepo; hub: EventHub };
  queue(): WorkQueue;
  /** Ends a run whose executions have all ended. */
  settle(runId: string): Promise<unknown>;
  /** Wakes a run's followers. */
  signal(runId: string): Promise<void>;
}

/** Milliseconds between a worker's heartbeats. */
export const DEFAULT_HEARTBEAT_MS = 2_000;
/** Milliseconds without a heartbeat after which a worker counts as lost. */
export const DEFAULT_LOST_AFTER_MS = 15_000;

/** A team's timing, which every worker, daemon and follower of a team should share. Milliseconds. */
export interface TeamTimings {
  /** Between a worker's heartbeats, and between a reaper's passes. */
  heartbeatMs: number;
  /** Without a heartbeat, after which a worker is lost. */
  lostAfterMs: number;
}

/** The environment variables of TeamTimings, with their allowed ranges (milliseconds). */
export const TIMING_ENV = {
  heartbeatMs: { name: 'CRONIUM_WORKER_HEARTBEAT_MS', min: 100, max: 600_000 },
  lostAfterMs: { name: 'CRONIUM_WORKER_LOST_AFTER_MS', min: 500, max: 3_600_000 },
} as const;

/**
 * The team's timing from CRONIUM_WORKER_HEARTBEAT_MS and CRONIUM_WORKER_LOST_AFTER_MS (defaults 2 s and
 * 15 s). @throws CroniumError invalid_input for a value that is not a whole number in its range.
 */
export function teamTimings(env: NodeJS.ProcessEnv): TeamTimings {
  const read = (key: keyof TeamTimings, fallback: number): number => {
    const { name, min, max } = TIMING_ENV[key];
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(n >= min && n <= max))
      throw new CroniumError('invalid_input', `${name} is a whole number from ${min} to ${max}.`, {
        fields: { [name]: `a whole number from ${min} to ${max}` },
      });
    return n;
  };
  return {
    heartbeatMs: read('heartbeatMs', DEFAULT_HEARTBEAT_MS),
    lostAfterMs: read('lostAfterMs', DEFAULT_LOST_AFTER_MS),
  };
}

/** What one reaper did to one lost worker. */
export interface ReapReport {
  worker: string;
  /** Executions put back in the queue (their scripts had not started). */
  requeued: number;
  /** Executions ended `worker_lost` (their scripts had started). */
  lost: number;
}

/**
 * Settles the executions `worker` held (re-queued or worker_lost, see above); `why` ends up in their
 * error message. Returns how many went back to the queue and how many were lost.
 */
export async function reapWorker(
  team: ReaperTeam,
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
        errorKind: 'worker_lost',
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
 * Reaps every worker whose heartbeat is older than `lostAfterMs` (but `except`, the caller itself) that
 * this call claims first (see above), then the executions of workers that have no row any more (a reaper
 * ended before settling them). Returns what it did, one report per worker it reaped.
 */
export async function reapLostWorkers(
  team: ReaperTeam,
  lostAfterMs: number,
  except?: string,
): Promise<ReapReport[]> {
  const { repo } = team.deps;
  const limit = Date.now() - lostAfterMs;
  const reports: ReapReport[] = [];
  for (const w of await repo.workers()) {
    if (w.name === except || w.heartbeatAt >= limit) continue;
    // The claim: one reaper's DELETE removes the row, the others find nothing to reap.
    if (!(await repo.claimLost(w.name, limit))) continue;
    const why = `no heartbeat since ${new Date(w.heartbeatAt).toISOString()}`;
    reports.push({ worker: w.name, ...(await reapWorker(team, w.name, why)) });
  }
  for (const name of await repo.holdersWithoutRow()) {
    if (name === except) continue;
    const done = await reapWorker(team, name, 'it stopped heartbeating');
    if (done.requeued || done.lost) reports.push({ worker: name, ...done });
  }
  return reports;
}

/** This machine's name, for a worker's default name and its heartbeat row. */
export function machineName(): string {
  return hostname();
}

/** Who a worker's runs are started by in history (Run.startedBy): "worker NAME@host", host's short name. */
/**
 * A worker's name as the team keeps it: the given one (else this machine's name) in lower case, so names
 * are unique case-blind like servers' and jobs'; 1–63 letters, digits, '.', '_' or '-', starting with a
 * letter or digit (a host name's label, RFC 1123, with '_' and '.'): it stands in "worker NAME@host".
 * @throws CroniumError invalid_input (field `name`) for any other name.
 */
export function workerName(given: string | undefined): string {
  const name = (given ?? machineName()).toLowerCase();
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(name))
    throw new CroniumError('invalid_input', `Invalid input — name: ${WORKER_NAME_RULE}`, {
      fields: { name: WORKER_NAME_RULE },
    });
  return name;
}
const WORKER_NAME_RULE =
  "a worker's name is 1–63 letters, digits, '.', '_' or '-', starting with a letter or digit";

export function workerActor(name: string): string {
  return `worker ${name}@${hostname().split('.')[0] || 'localhost'}`;
}
