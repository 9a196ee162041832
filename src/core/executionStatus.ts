/**
 * The execution status machine: queued → connecting → running → a final status, and any status not final
 * → cancelled, timed_out or error (a stop, a deadline or a failure can come at any step). A keep-running
 * script whose connection (or app) went away is `detached`: running on its host, followed by no one; a
 * reattach moves it back to running, or straight to its final status. A final status never changes. HistoryRepo.moveExecution is the one place that writes a status, and refuses a move this
 * table does not allow.
 */
import {
  FINAL_EXECUTION_STATUSES,
  type ErrorKind,
  type ExecutionStatus,
  type FinalExecutionStatus,
} from './domain.ts';
import { CroniumError } from './errors.ts';

const STOPPED = ['cancelled', 'timed_out', 'error'] as const;

/** For each status, the statuses it may move to. */
export const EXECUTION_MOVES: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  // Team mode: a lost worker's execution whose script had not started goes back to the queue; one that
  // had started becomes worker_lost (src/team/reaper.ts).
  queued: ['connecting', ...STOPPED],
  connecting: ['running', 'queued', ...STOPPED, 'worker_lost'],
  running: ['succeeded', 'failed', 'detached', ...STOPPED, 'worker_lost'],
  detached: ['running', 'succeeded', 'failed', ...STOPPED, 'worker_lost'],
  succeeded: [],
  failed: [],
  timed_out: [],
  cancelled: [],
  error: [],
  worker_lost: [],
};

/** Whether an execution may move from `from` to `to`. */
export function canMove(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return EXECUTION_MOVES[from].includes(to);
}

/** The statuses an execution may move to `to` from (what a guarded UPDATE accepts). */
export function movesInto(to: ExecutionStatus): ExecutionStatus[] {
  return (Object.keys(EXECUTION_MOVES) as ExecutionStatus[]).filter((from) => canMove(from, to));
}

/** @throws CroniumError internal: a move the table does not allow (a bug, never a user's doing). */
export function illegalMove(id: string, from: ExecutionStatus | null, to: ExecutionStatus): CroniumError {
  return new CroniumError(
    'internal',
    from === null
      ? `Execution ${id} does not exist; it cannot become ${to}.`
      : `Execution ${id} cannot go from ${from} to ${to}.`,
  );
}

export function isFinal(status: ExecutionStatus): status is FinalExecutionStatus {
  return (FINAL_EXECUTION_STATUSES as readonly ExecutionStatus[]).includes(status);
}

/**
 * How an execution ended, as the executor learned it: the script's exit (code, or a signal), or an error
 * that stopped it first (its kind).
 */
export type ExecutionOutcome =
  | { ended: 'exit'; code: number }
  | { ended: 'signal' }
  | { ended: 'error'; kind: ErrorKind }
  /** Team mode: its worker stopped heartbeating after the script had started. */
  | { ended: 'lost' };

/**
 * The final status of an outcome: exit 0 succeeded, any other exit or a killing signal failed; a stop
 * by the user cancelled, the deadline timed_out, and every other error `error`.
 */
export function finalStatus(outcome: ExecutionOutcome): FinalExecutionStatus {
  switch (outcome.ended) {
    case 'exit':
      return outcome.code === 0 ? 'succeeded' : 'failed';
    case 'signal':
      return 'failed';
    case 'lost':
      return 'worker_lost';
    case 'error':
      return outcome.kind === 'cancelled'
        ? 'cancelled'
        : outcome.kind === 'timed_out'
          ? 'timed_out'
          : 'error';
  }
}
