import { useMemo, useState } from 'react';

import { groupLabel, outputGroups, type Execution } from '../api/types.ts';
import { outputDiff, stdoutText } from '../lib/mergedLog.ts';
import { logOf, useLive } from '../store/live.ts';

/**
 * A run's hosts grouped by identical stdout ("7 hosts: identical"; the hashes come from the core), and
 * each host outside the baseline's group as a line diff against the baseline host the user picks.
 */
export function OutputGroups({ executions }: { executions: Execution[] }) {
  const groups = useMemo(() => outputGroups(executions), [executions]);
  const [baselineId, setBaselineId] = useState<string | null>(null);
  const versions = useLive((s) => s.logVersions);
  if (executions.length < 2 || groups.length === 0) return null;
  const baseline =
    executions.find((e) => e.id === baselineId && e.stdoutHash) ??
    executions.find((e) => e.id === groups[0]!.executionIds[0])!;
  const baselineGroup = groups.find((g) => g.executionIds.includes(baseline.id));
  const others = executions.filter((e) => e.stdoutHash && !baselineGroup?.executionIds.includes(e.id));
  const waiting = executions.filter((e) => !e.stdoutHash).length;
  return (
    <section className="output-groups" data-testid="output-groups">
      <header className="groups-head">
        <strong>Output</strong>
        <span className="muted small">
          {groups.length === 1
            ? 'every host that ran printed the same'
            : `${groups.length} different outputs`}
          {waiting ? ` · ${waiting} not compared (still going, or never ran)` : ''}
        </span>
        <span className="spacer" />
        <label className="small">
          baseline{' '}
          <select
            value={baseline.id}
            onChange={(e) => setBaselineId(e.target.value)}
            data-testid="groups-baseline"
            aria-label="Baseline host"
          >
            {executions
              .filter((e) => e.stdoutHash)
              .map((e) => (
                <option key={e.id} value={e.id}>
                  {e.serverName}
                </option>
              ))}
          </select>
        </label>
      </header>
      <ul className="groups">
        {groups.map((g, i) => (
          <li key={g.stdoutHash} data-testid="output-group">
            <span className="badge">{groupLabel(g)}</span>{' '}
            <span data-testid={`output-group-${i}`}>{g.servers.join(', ')}</span>
            {g.executionIds.includes(baseline.id) && <span className="muted small"> (baseline)</span>}
          </li>
        ))}
      </ul>
      {others.map((e) => (
        <details key={e.id} className="host-diff" data-testid={`diff-${e.serverName}`}>
          <summary>
            {e.serverName} against {baseline.serverName}
          </summary>
          <HostDiff
            baseline={baseline.id}
            other={e.id}
            version={`${versions[baseline.id] ?? 0}:${versions[e.id] ?? 0}`}
          />
        </details>
      ))}
    </section>
  );
}

function HostDiff({ baseline, other, version }: { baseline: string; other: string; version: string }) {
  // The buffers are mutable: `version` says either changed.
  const lines = useMemo(
    () => outputDiff(stdoutText(logOf(baseline)), stdoutText(logOf(other))),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [baseline, other, version],
  );
  return (
    <pre className="diff mono" data-testid="diff-lines">
      {lines.map((l, i) => (
        <div key={i} className={l.kind === '+' ? 'diff-add' : l.kind === '-' ? 'diff-del' : 'diff-same'}>
          {l.kind} {l.text}
        </div>
      ))}
    </pre>
  );
}
