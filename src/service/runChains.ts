/** Chains: after an execution ends, the runs its job's chain links call for (see RunService.start). */
import { chainEventsOf, DEFAULT_MAX_CHAIN_DEPTH } from '../core/chains.ts';
import type { ChainLink, ChainStep, Execution, Run } from '../core/domain.ts';
import { toErrorValue } from '../core/errors.ts';
import { log } from '../core/logger.ts';
import type { RunRequest } from '../contract.ts';
import type { EventHub } from '../core/eventHub.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';
import type { JobService } from './jobs.ts';

/** What following a chain reads and writes (a part of RunServiceDeps). */
export interface ChainDeps {
  jobs: JobService;
  history: HistoryRepo;
  hub: EventHub;
  /** How many links deep a chain may go before the next link is skipped (DEFAULT_MAX_CHAIN_DEPTH). */
  maxChainDepth?: number;
}

/**
 * Starts the runs an ended execution's chain links call for, as the job's links are now (an edit made
 * while it ran counts): each on the execution's server (`same`) or the chained job's own default servers
 * (`own`), with the execution's output as input (the chained job's default input when it set none), as
 * trigger `chain` with the execution as parent. A link past the depth limit, or whose job or servers are
 * gone, starts nothing and says why. What each link did is written on the execution.
 * @returns the ids of the runs started.
 */
export async function followChain(
  deps: ChainDeps,
  start: (request: RunRequest) => Promise<Run>,
  execution: Execution,
  depth: number,
): Promise<string[]> {
  const job = await deps.jobs.find(execution.jobId);
  const events = chainEventsOf(execution);
  const links = (job?.chain ?? []).filter((l) => events.includes(l.on));
  if (links.length === 0) return [];
  const limit = deps.maxChainDepth ?? DEFAULT_MAX_CHAIN_DEPTH;
  const steps: ChainStep[] = [];
  for (const link of links) steps.push(await startLink(deps, start, link, execution, depth + 1, limit));
  await deps.history.setExecutionChain(execution.id, steps);
  const updated = await deps.history.getExecution(execution.id);
  if (updated) deps.hub.emit({ type: 'execution', execution: updated });
  return steps.flatMap((s) => (s.runId ? [s.runId] : []));
}

/** Starts one chain link's run, or says why it started none (the step written on the execution). */
async function startLink(
  deps: ChainDeps,
  start: (request: RunRequest) => Promise<Run>,
  link: ChainLink,
  execution: Execution,
  depth: number,
  limit: number,
): Promise<ChainStep> {
  const next = await deps.jobs.find(link.jobId);
  const step: ChainStep = {
    on: link.on,
    jobId: link.jobId,
    jobName: next?.name ?? link.jobId,
    servers: link.servers,
    runId: null,
    executionIds: [],
    skipped: null,
  };
  const skip = (why: string) => {
    log().warn(`chain from ${execution.jobName} to ${step.jobName} skipped: ${why}`);
    return { ...step, skipped: why };
  };
  if (!next) return skip('the job was removed');
  if (depth > limit) return skip(`the chain depth limit (${limit}) was reached`);
  const serverIds = link.servers === 'same' ? [execution.serverId] : next.defaultServerIds;
  if (serverIds.length === 0) return skip(`${next.name} has no default servers`);
  try {
    const run = await start({
      jobId: next.id,
      serverIds,
      input: execution.output === null || execution.output === undefined ? undefined : execution.output,
      trigger: 'chain',
      parentExecutionId: execution.id,
    });
    return { ...step, runId: run.id, executionIds: run.executionIds };
  } catch (err) {
    return skip(toErrorValue(err).message);
  }
}
