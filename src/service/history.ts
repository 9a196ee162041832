/** The searchable history: executions page by page, one execution by (a prefix of) its id, its log. */
import { historyQuerySchema, parseInput, type HistoryPage } from '../contract.ts';
import type { Execution, LogChunk, Run } from '../core/domain.ts';
import { CroniumError, invalidInput } from '../core/errors.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';
import { resolveRef, type RefSource } from './refs.ts';

export class HistoryService {
  private readonly repo: HistoryRepo;
  private readonly executions: RefSource<Execution>;

  constructor(repo: HistoryRepo) {
    this.repo = repo;
    this.executions = {
      noun: 'execution',
      byId: (id) => repo.getExecution(id),
      idsByPrefix: (prefix) => repo.findExecutionIds(prefix),
    };
  }

  /**
   * One page of executions, newest first, with a cursor for the next (keyset pagination).
   * @throws CroniumError invalid_input for a bad query or a cursor not from a previous page.
   */
  async query(query: unknown): Promise<HistoryPage> {
    const q = parseInput(historyQuerySchema, query);
    const before = q.cursor ? decodeCursor(q.cursor) : undefined;
    const items = await this.repo.listExecutions({
      jobId: q.jobId,
      serverId: q.serverId,
      status: q.status,
      text: q.text,
      from: q.from,
      to: q.to,
      limit: q.limit + 1,
      before,
    });
    const page = items.slice(0, q.limit);
    const last = page[page.length - 1];
    return { items: page, nextCursor: items.length > q.limit && last ? encodeCursor(last) : null };
  }

  /**
   * An execution by id or by a unique prefix of it.
   * @throws CroniumError not_found, or invalid_input when the prefix matches several.
   */
  execution(ref: string): Promise<Execution> {
    return resolveRef(ref, this.executions);
  }

  /** @throws CroniumError not_found. */
  async run(runId: string): Promise<Run> {
    const run = await this.repo.getRun(runId);
    if (!run) throw new CroniumError('not_found', `No run ${runId}.`);
    return run;
  }

  /** The ids of the detached executions, oldest first (see RunService.reattachDetached). */
  detachedIds(): Promise<string[]> {
    return this.repo.detachedExecutionIds();
  }

  /** Up to `limit` chunks of an execution's log after sequence number `afterSeq` (-1: from the start). */
  readLog(executionId: string, afterSeq = -1, limit?: number): Promise<LogChunk[]> {
    return this.repo.readLog(executionId, afterSeq, limit);
  }
}

function encodeCursor(e: Execution): string {
  return Buffer.from(`${e.startedAt}:${e.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { startedAt: number; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (!at || !id || !/^\d+$/.test(at)) throw invalidInput({ cursor: 'not a cursor from a previous page' });
  return { startedAt: Number(at), id };
}
