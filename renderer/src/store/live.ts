/**
 * Runs and executions as they happen, and their logs. Every pushed event lands here through one
 * subscription (see events.ts); log lines live in LogBuffers outside the immutable state, and the state
 * only carries a version per execution, bumped at most once per frame.
 */
import { create } from 'zustand';

import { api } from '../api/client.ts';
import {
  FINAL_EXECUTION_STATUSES,
  type Execution,
  type ExecutionStatus,
  type LogChunk,
  type Run,
  type RunRequest,
  type TunnelState,
} from '../api/types.ts';
import { LogBuffer } from '../lib/logBuffer.ts';

/** A server's reverse tunnel as its last tunnel event said (the card of an API-mode execution shows it). */
export interface TunnelView {
  state: TunnelState;
  remotePort: number | null;
  error: string | null;
}

interface LiveState {
  runs: Record<string, Run>;
  /** By server id. */
  tunnels: Record<string, TunnelView>;
  setTunnel(serverId: string, tunnel: TunnelView): void;
  executions: Record<string, Execution>;
  logVersions: Record<string, number>;
  /** Runs the user asked to cancel (see cancellingNow: the notice lasts until the run ends). */
  cancelRequested: Record<string, true>;
  upsertRun(run: Run): void;
  upsertExecution(execution: Execution): void;
  appendLog(chunk: LogChunk): void;
  startRun(request: RunRequest): Promise<Run>;
  cancelRun(runId: string): Promise<void>;
  /** Executions the user asked to stop (one host of a run). */
  cancelExecutionRequested: Record<string, true>;
  cancelExecution(executionId: string): Promise<void>;
  /** Runs a run again (all its hosts, or with failed only those that did not succeed). */
  rerun(runId: string, options: { failed?: boolean; serverIds?: string[] }): Promise<Run>;
  /** Fills an execution's log from the store (for history, or a window opened mid-run). */
  loadLog(executionId: string): Promise<void>;
  loadRun(runId: string): Promise<void>;
}

/** The first page of a stored log, in chunks (see loadLog). */
export const LOG_PAGE_FIRST = 8;
/** The largest page of a stored log, in chunks. */
export const LOG_PAGE_MAX = 512;

const buffers = new Map<string, LogBuffer>();
const dirty = new Set<string>();
let flushScheduled = false;

export function logOf(executionId: string): LogBuffer {
  let buffer = buffers.get(executionId);
  if (!buffer) {
    buffer = new LogBuffer();
    buffers.set(executionId, buffer);
  }
  return buffer;
}

const nextFrame = (fn: () => void) =>
  typeof requestAnimationFrame === 'function' ? requestAnimationFrame(fn) : setTimeout(fn, 16);

export const useLive = create<LiveState>()((set, get) => ({
  runs: {},
  tunnels: {},
  setTunnel(serverId, tunnel) {
    set({ tunnels: { ...get().tunnels, [serverId]: tunnel } });
  },
  executions: {},
  logVersions: {},
  cancelRequested: {},
  cancelExecutionRequested: {},
  async cancelExecution(executionId) {
    set({ cancelExecutionRequested: { ...get().cancelExecutionRequested, [executionId]: true } });
    try {
      await api().cancelExecution(executionId);
    } catch (err) {
      const { [executionId]: _, ...rest } = get().cancelExecutionRequested;
      set({ cancelExecutionRequested: rest });
      throw err;
    }
  },
  async rerun(runId, options) {
    const run = await api().rerun(runId, options);
    get().upsertRun(run);
    await Promise.all(
      run.executionIds.map(async (id) => get().upsertExecution(await api().getExecution(id))),
    );
    return run;
  },
  upsertRun(run) {
    set({ runs: { ...get().runs, [run.id]: run } });
  },
  upsertExecution(execution) {
    set({ executions: { ...get().executions, [execution.id]: execution } });
  },
  appendLog(chunk) {
    if (!logOf(chunk.executionId).append(chunk)) return;
    dirty.add(chunk.executionId);
    if (flushScheduled) return;
    flushScheduled = true;
    nextFrame(() => {
      flushScheduled = false;
      const versions = { ...get().logVersions };
      for (const id of dirty) versions[id] = (versions[id] ?? 0) + 1;
      dirty.clear();
      set({ logVersions: versions });
    });
  },
  async startRun(request) {
    const run = await api().startRun(request);
    get().upsertRun(run);
    await Promise.all(
      run.executionIds.map(async (id) => get().upsertExecution(await api().getExecution(id))),
    );
    return run;
  },
  async cancelRun(runId) {
    set({ cancelRequested: { ...get().cancelRequested, [runId]: true } });
    try {
      await api().cancelRun(runId);
    } catch (err) {
      const { [runId]: _, ...rest } = get().cancelRequested;
      set({ cancelRequested: rest });
      throw err;
    }
  },
  async loadLog(executionId) {
    const buffer = logOf(executionId);
    // Pages that grow (LOG_PAGE_FIRST chunks, then ×4 up to LOG_PAGE_MAX): a chunk of bulk output holds
    // ~256 KB, so a first page of 2,000 was the whole of a 100 MB log in one answer — 12 s before its first
    // line showed. Small first, so the first lines come at once; larger after, for fewer round trips.
    let limit = LOG_PAGE_FIRST;
    for (;;) {
      const chunks = await api().readLog(executionId, buffer.lastSeq, limit);
      for (const chunk of chunks) get().appendLog(chunk);
      if (chunks.length < limit) break;
      limit = Math.min(limit * 4, LOG_PAGE_MAX);
    }
  },
  async loadRun(runId) {
    const run = await api().getRun(runId);
    get().upsertRun(run);
    for (const id of run.executionIds) get().upsertExecution(await api().getExecution(id));
  },
}));

// ---- selectors (pure, unit-tested) ---------------------------------------------------------------------

export const FINAL: ReadonlySet<ExecutionStatus> = new Set(FINAL_EXECUTION_STATUSES);

/** "Cancelling…" is true from the request until the run reaches a final status, and not a moment longer. */
export function cancellingNow(run: Run | undefined, requested: Record<string, true>): boolean {
  return !!run && run.status === 'running' && requested[run.id] === true;
}

export function executionsOfRun(run: Run | undefined, executions: Record<string, Execution>): Execution[] {
  if (!run) return [];
  return run.executionIds.map((id) => executions[id]).filter((e): e is Execution => e !== undefined);
}

export function runProgress(executions: Execution[]): {
  done: number;
  total: number;
  failed: number;
  fellBack: number;
} {
  return {
    done: executions.filter((e) => FINAL.has(e.status)).length,
    total: executions.length,
    failed: executions.filter((e) => FINAL.has(e.status) && e.status !== 'succeeded').length,
    fellBack: executions.filter((e) => e.helperMode === 'bundled' && e.fallbackReason).length,
  };
}

export function statusTone(status: ExecutionStatus | Run['status']): 'ok' | 'bad' | 'warn' | 'busy' | 'idle' {
  switch (status) {
    case 'succeeded':
      return 'ok';
    case 'failed':
    case 'error':
    case 'timed_out':
    case 'worker_lost':
      return 'bad';
    case 'partial':
    case 'cancelled':
    case 'detached':
      return 'warn';
    case 'queued':
      return 'idle';
    default:
      return 'busy';
  }
}

/** Milliseconds an execution has taken so far (to `now` while it goes); null while it waits in the queue. */
export function elapsedMs(e: Execution, now: number): number | null {
  if (e.status === 'queued') return null;
  return (e.endedAt ?? now) - e.startedAt;
}

/** Runs newest first: what the live view lists to switch between (its own and other processes' runs). */
export function runsNewestFirst(runs: Record<string, Run>): Run[] {
  return Object.values(runs).sort((a, b) => b.startedAt - a.startedAt);
}
