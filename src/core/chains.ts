/**
 * Rules of chained jobs (issue 12, part 3), kept apart from storage so the service, the CLI and tests
 * share them: which links an execution's outcome fires, and finding a loop among the jobs' links.
 */
import type { ChainEvent, ChainLink, Execution } from './domain.ts';

/** How deep a chain may go at run time unless configured otherwise (a run started by hand is depth 0). */
export const DEFAULT_MAX_CHAIN_DEPTH = 10;

/**
 * The events an execution's outcome fires: `success` when it succeeded; `failure` when it failed, timed
 * out or ended in error; `condition` when its script called `cronium.setCondition(true)`, alongside either.
 * A cancelled execution fires nothing: someone stopped it on purpose.
 */
export function chainEventsOf(e: Pick<Execution, 'status' | 'condition'>): ChainEvent[] {
  if (e.status === 'cancelled') return [];
  const events: ChainEvent[] = [];
  if (e.status === 'succeeded') events.push('success');
  else if (e.status === 'failed' || e.status === 'timed_out' || e.status === 'error') events.push('failure');
  if (e.condition === true) events.push('condition');
  return events;
}

/**
 * A loop among the jobs' links, whatever their events (A on success → B, B on failure → A is a loop: it
 * could run for ever), as the job names along it with the first repeated at the end (`["a", "b", "a"]`);
 * null when there is none. Links to jobs not in the list are ignored.
 */
export function findChainCycle(
  jobs: readonly { id: string; name: string; chain: readonly ChainLink[] }[],
): string[] | null {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  // 0: not seen, 1: on the current path, 2: done (no loop through it).
  const state = new Map<string, 1 | 2>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    const mark = state.get(id);
    if (mark === 2) return null;
    if (mark === 1) {
      const names = path.slice(path.indexOf(id)).map((p) => byId.get(p)!.name);
      return [...names, byId.get(id)!.name];
    }
    state.set(id, 1);
    path.push(id);
    for (const link of byId.get(id)!.chain) {
      if (!byId.has(link.jobId)) continue;
      const found = visit(link.jobId);
      if (found) return found;
    }
    path.pop();
    state.set(id, 2);
    return null;
  };
  for (const job of jobs) {
    const found = visit(job.id);
    if (found) return found;
  }
  return null;
}
