/**
 * Runs started by another process on the same data directory (the CLI while the app is open) appear here
 * live. Processes share only the SQLite file, so this process polls it: runs of other owners that are
 * going (or ended since it last looked), their executions' rows, and their new log chunks by sequence
 * number, published on this process's EventHub as if they were its own events. A cancel for such a run
 * goes the other way through the cancel_requests table (RunService.cancel, RunManager's poll).
 */
import { FINAL_EXECUTION_STATUSES, type ExecutionStatus } from '../core/domain.ts';
import type { EventHub } from '../core/eventHub.ts';
import { log } from '../core/logger.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';

const FINAL: ReadonlySet<ExecutionStatus> = new Set(FINAL_EXECUTION_STATUSES);
/** Log chunks read per execution per look: a big backlog arrives over several looks, memory stays flat. */
const CHUNKS_PER_LOOK = 2000;

/** What was last published of one execution: its row's text and the last log chunk sent. */
interface Seen {
  row: string;
  lastSeq: number;
  /** Ended and its whole log sent. */
  done: boolean;
}

export class ForeignRuns {
  private readonly runs = new Map<string, string>();
  private readonly executions = new Map<string, Seen>();
  /** Runs ended before this (epoch ms) are not news. */
  private since = Date.now();

  private readonly history: HistoryRepo;
  private readonly hub: EventHub;

  constructor(history: HistoryRepo, hub: EventHub) {
    this.history = history;
    this.hub = hub;
  }

  /** Looks every `intervalMs` until the returned function is called. */
  start(intervalMs = 250): () => void {
    let looking = false;
    const timer = setInterval(() => {
      // One look at a time: a slow one (a big backlog) is not overlapped by the next.
      if (looking) return;
      looking = true;
      // Never rejects: a failed look is logged, and the next one tries again.
      void this.look()
        .catch((err: unknown) => {
          // A database busy with another writer, or closing: the next look tries again.
          log().debug({ err }, 'looking for runs of other processes failed');
        })
        .finally(() => (looking = false));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** One look: publishes what changed since the last. */
  async look(): Promise<void> {
    const now = Date.now();
    // Two seconds of overlap: a run whose end was written just as the last look read.
    const runs = await this.history.foreignRuns(this.since - 2 * 1000);
    let behind = false;
    const current = new Set<string>();
    for (const run of runs) {
      current.add(run.id);
      let executionsPending = false;
      for (const execution of await this.history.runExecutions(run.id)) {
        const row = JSON.stringify(execution);
        let seen = this.executions.get(execution.id);
        if (!seen) {
          seen = { row: '', lastSeq: -1, done: false };
          this.executions.set(execution.id, seen);
        }
        if (!seen.done) {
          // The log first: an execution's final row is written only once its whole log is stored.
          const chunks = await this.history.readLog(execution.id, seen.lastSeq, CHUNKS_PER_LOOK);
          for (const chunk of chunks) this.hub.emit({ type: 'log', chunk });
          if (chunks.length) seen.lastSeq = chunks[chunks.length - 1]!.seq;
          if (FINAL.has(execution.status) && chunks.length < CHUNKS_PER_LOOK) seen.done = true;
          else executionsPending = true;
        }
        if (row !== seen.row) {
          seen.row = row;
          this.hub.emit({ type: 'execution', execution, followed: true });
        }
      }
      const state = `${run.status}:${run.endedAt}`;
      if (this.runs.get(run.id) !== state) {
        this.runs.set(run.id, state);
        this.hub.emit({ type: 'run', run });
      }
      behind ||= executionsPending;
    }
    // While a log is still being sent, ended runs must stay in the next look's window.
    if (!behind) this.since = now;
    for (const id of [...this.runs.keys()])
      if (!current.has(id)) {
        this.runs.delete(id);
        const run = await this.history.getRun(id);
        for (const executionId of run?.executionIds ?? []) this.executions.delete(executionId);
      }
  }
}
