import type { Execution, ExecutionStatus, LogChunk, LogStream, Run, RunStatus } from '../core/domain.ts';
import { isFinal } from '../core/executionStatus.ts';
import { ExecutionHistory } from './historyExecutions.ts';
import { PACK_FROM, packLogText, unpackLogText } from './logPacking.ts';

export { executionListQuery, type ExecutionFilter, type ExecutionPatch } from './executionRows.ts';

/**
 * The history store: runs (historyRuns.ts), executions (historyExecutions.ts) and, here, their logs.
 * One class for callers; the layers only split the file.
 */
export class HistoryRepo extends ExecutionHistory {
  /**
   * Ends a run whose executions have all reached a final status (after a reattach), with the status
   * `statusOf` gives them; returns the run as written, or null while one is still unfinished.
   */
  async finishRunIfDone(
    runId: string,
    statusOf: (executions: Pick<Execution, 'status'>[]) => RunStatus,
  ): Promise<Run | null> {
    const rows = await this.db.all<{ status: ExecutionStatus }>(
      'SELECT status FROM executions WHERE run_id = ?',
      [runId],
    );
    if (rows.some((r) => !isFinal(r.status))) return null;
    await this.finishRun(runId, statusOf(rows), Date.now());
    return this.getRun(runId);
  }

  /**
   * How much of each output stream of an execution the stored log holds, in characters (as decoded and
   * masked), and its last sequence number (-1: none): where a reattach takes the log up again.
   */
  async storedLogExtent(executionId: string): Promise<{ stdout: number; stderr: number; lastSeq: number }> {
    const extent = { stdout: 0, stderr: 0, lastSeq: -1 };
    for (const chunk of await this.readLog(executionId, -1, Number.MAX_SAFE_INTEGER)) {
      if (chunk.stream !== 'system') extent[chunk.stream] += chunk.text.length;
      extent.lastSeq = chunk.seq;
    }
    return extent;
  }

  /** An execution's stored log chunks after `afterSeq`, in order, at most `limit`. */
  async readLog(executionId: string, afterSeq = -1, limit = 10_000): Promise<LogChunk[]> {
    const rows = await this.db.all<{
      seq: number;
      stream: LogStream;
      ts: number;
      text: string;
      packed: Uint8Array | null;
    }>(
      'SELECT seq, stream, ts, text, packed FROM log_chunks WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      [executionId, afterSeq, limit],
    );
    return rows.map((r) => ({
      executionId,
      seq: r.seq,
      stream: r.stream,
      ts: r.ts,
      text: r.packed ? unpackLogText(r.packed) : r.text,
    }));
  }

  /**
   * Rewrites an execution's stored log through mask(): for secrets learned after their text was written
   * (bundled mode hears of a secret the script set only when it has ended). Chunks are masked one by one,
   * so a secret split across two stored chunks stays as it is. Returns how many chunks changed.
   */
  async maskLog(executionId: string, mask: (text: string) => string): Promise<number> {
    return this.db.transaction(async (tx) => {
      let changed = 0;
      for (const chunk of await new HistoryRepo(tx).readLog(executionId, -1, Number.MAX_SAFE_INTEGER)) {
        const masked = mask(chunk.text);
        if (masked === chunk.text) continue;
        // Kept in the form the writer uses: big chunks packed.
        const packed = masked.length >= PACK_FROM ? packLogText(masked) : null;
        await tx.run('UPDATE log_chunks SET text = ?, packed = ? WHERE execution_id = ? AND seq = ?', [
          packed ? '' : masked,
          packed,
          executionId,
          chunk.seq,
        ]);
        changed++;
      }
      return changed;
    });
  }
}
