/**
 * Output groups: the hosts of one run whose stdout was identical. The executor hashes each execution's
 * stdout as it is written (Execution.stdoutHash), so grouping never reads a log again; this is the one
 * grouping rule, used by the core (`cronium show --run`, getRunOverview) and by the renderer as
 * executions end.
 */
import type { Execution, OutputGroup } from './domain.ts';

/**
 * Groups executions by their stdout hash; executions without one (still going, or whose script never
 * ran) are in no group. Largest group first; equal sizes keep the order of their first execution. Each
 * group lists its servers in the order the executions are given.
 */
export function outputGroups(
  executions: readonly Pick<Execution, 'id' | 'serverName' | 'stdoutHash'>[],
): OutputGroup[] {
  const byHash = new Map<string, OutputGroup>();
  for (const e of executions) {
    if (!e.stdoutHash) continue;
    let group = byHash.get(e.stdoutHash);
    if (!group) {
      group = { stdoutHash: e.stdoutHash, servers: [], executionIds: [] };
      byHash.set(e.stdoutHash, group);
    }
    group.servers.push(e.serverName);
    group.executionIds.push(e.id);
  }
  // Array.prototype.sort is stable: equal sizes keep their first-seen order.
  return [...byHash.values()].sort((a, b) => b.servers.length - a.servers.length);
}

/** "7 hosts: identical" / "1 host" — how a group is named in the app and the CLI. */
export function groupLabel(group: Pick<OutputGroup, 'servers'>): string {
  const n = group.servers.length;
  return n === 1 ? '1 host' : `${n} hosts: identical`;
}
