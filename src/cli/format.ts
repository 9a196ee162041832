import type {
  ChainStep,
  Execution,
  Job,
  Run,
  RunOverview,
  Server,
  Variable,
  VariableChange,
} from '../core/domain.ts';
import { actorText } from '../core/actor.ts';
import { groupLabel } from '../core/outputGroups.ts';
import { formatParamSpec, hostPort } from '../core/rules.ts';

/** Plain-text rendering for the CLI; --json output bypasses all of this. */

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export function when(ms: number | null): string {
  if (ms === null) return '-';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

export function duration(e: Pick<Execution, 'startedAt' | 'endedAt'>): string {
  if (e.endedAt === null) return '-';
  const ms = e.endedAt - e.startedAt;
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function serverLine(s: Server, jumpName: string | null): string[] {
  const status = s.lastCheck ? (s.lastCheck.online ? 'online' : 'offline') : 'unchecked';
  return [s.name, `${s.username}@${hostPort(s.host, s.port)}`, s.authType, jumpName ?? '-', status];
}

export function showServer(s: Server, jumpName: string | null): string {
  const lines = [
    `name:        ${s.name}`,
    `address:     ${s.username}@${hostPort(s.host, s.port)}`,
    `auth:        ${s.authType}${s.keyPath ? ` (${s.keyPath}${s.hasSecret ? ', with passphrase' : ''})` : ''}`,
    `jump server: ${jumpName ?? '-'}`,
    `tags:        ${s.tags.join(', ') || '-'}`,
    `helpers:     ${s.helperMode === 'default' ? "default (the job's mode)" : s.helperMode}`,
  ];
  if (s.description) lines.push(`description: ${s.description}`);
  if (s.lastCheck) {
    lines.push(
      `last check:  ${s.lastCheck.online ? 'online' : 'offline'} at ${when(s.lastCheck.at)}${s.lastCheck.os ? ` — ${s.lastCheck.os}` : ''}`,
    );
    if (s.lastCheck.error) lines.push(`             ${s.lastCheck.error}`);
  }
  return lines.join('\n') + '\n';
}

/** A job's chain links, one per line (`on success → report (same server)`), for `job show`. */
export function chainLines(j: Job, jobName: (id: string) => string): string[] {
  return j.chain.map(
    (l) => `on ${l.on} → ${jobName(l.jobId)} (${l.servers === 'same' ? 'same server' : 'its own servers'})`,
  );
}

export function showJob(j: Job, serverNames: string[], jobName: (id: string) => string = (id) => id): string {
  const chain = chainLines(j, jobName);
  const lines = [
    `name:     ${j.name}`,
    `language: ${j.language}`,
    `timeout:  ${j.timeoutSec}s`,
    `helpers:  ${j.helperMode}${j.keepRunning ? ' (keep running: the script outlives its connection)' : ''}`,
    `servers:  ${serverNames.join(', ') || '-'}`,
    `via:      ${j.defaultVia === 'workers' ? 'workers (queued for the team’s workers)' : 'direct'}`,
    `input:    ${j.defaultInput === null ? '-' : JSON.stringify(j.defaultInput)}`,
    `env:      ${j.env.map((e) => `${e.key}=${e.secret ? '***' : e.value}`).join(' ') || '-'}`,
    `chain:    ${chain.join('\n          ') || '-'}`,
    `desktop:  notify ${j.desktopNotify}`,
    `webhook:  ${j.webhook ? `${j.webhook.origin}/… (on ${j.webhook.notify})` : '-'}`,
    ...(j.params ?? []).map((p, i) => `${i === 0 ? 'params:  ' : '         '} ${formatParamSpec(p)}`),
    '--- script ---',
    j.script.endsWith('\n') ? j.script.slice(0, -1) : j.script,
  ];
  return lines.join('\n') + '\n';
}

export function historyRows(items: Execution[]): string {
  return table([
    ['EXECUTION', 'STARTED', 'JOB', 'SERVER', 'STATUS', 'EXIT', 'TIME', 'HELPERS'],
    ...items.map((e) => [
      e.id.slice(0, 8),
      when(e.startedAt),
      e.jobName,
      e.serverName,
      e.status,
      e.exitCode === null ? '-' : String(e.exitCode),
      duration(e),
      e.helperMode ?? '-',
    ]),
  ]);
}

/** What one chain link did: `on success → report: run 3f2a9c1e (execution 77b0c2d1)`, or why not. */
export function chainStepLine(step: ChainStep): string {
  const what = step.runId
    ? `run ${step.runId.slice(0, 8)} (execution${step.executionIds.length === 1 ? '' : 's'} ${step.executionIds.map((id) => id.slice(0, 8)).join(', ')})`
    : `not started: ${step.skipped}`;
  return `on ${step.on} → ${step.jobName}: ${what}`;
}

/**
 * One execution as text for `cronium show`; with its run, the trigger (and `scheduleLabel`, e.g. ` (nightly)`),
 * the parent of a chained run and how its notices went.
 */
export function showExecution(e: Execution, run?: Run, scheduleLabel = ''): string {
  const t = e.timings;
  const ms = (v: number | null) => (v === null ? '-' : `${v}ms`);
  const lines = [
    `execution:  ${e.id}`,
    `run:        ${e.runId}`,
    `job:        ${e.jobName}`,
    `started by: ${actorText(e.startedBy)}`,
    `server:     ${e.serverName}`,
    ...(e.worker === null ? [] : [`worker:     ${e.worker} (team mode: the worker that ran it)`]),
    `status:     ${e.status}`,
    `exit code:  ${e.exitCode ?? '-'}`,
  ];
  if (e.errorKind) lines.push(`error:      ${e.errorKind}: ${e.errorMessage}`);
  lines.push(
    `helpers:    ${e.helperMode ?? '-'}`,
    `fallback:   ${e.fallbackReason ?? '-'}`,
    `started:    ${when(e.startedAt)}`,
    `ended:      ${when(e.endedAt)} (${duration(e)})`,
    `phases:     connect ${ms(t.connectMs)}, deploy ${ms(t.deployMs)}, script ${ms(t.scriptMs)}, collect ${ms(t.collectMs)}`,
    `output:     ${e.output === null || e.output === undefined ? '-' : JSON.stringify(e.output)}`,
    `condition:  ${e.condition === null ? '-' : String(e.condition)}`,
    `variables:  ${e.variableChanges.map(changeText).join(', ') || '-'}`,
    `tools:      ${(e.toolActions ?? []).map((a) => `${a.tool} ${a.action} ${a.status}`).join(', ') || '-'}`,
  );
  if (run) {
    lines.splice(2, 0, `trigger:    ${run.trigger}${scheduleLabel}`);
    if (run.parentExecutionId)
      lines.splice(3, 0, `parent:     ${run.parentExecutionId} (chain depth ${run.chainDepth})`);
    for (const n of run.notifications)
      lines.push(
        `${n.channel}:    ${n.ok ? `delivered (HTTP ${n.httpStatus}, ${n.attempts} ${n.attempts === 1 ? 'try' : 'tries'})` : `failed: ${n.error}`} at ${when(n.at)}`,
      );
  }
  e.chain.forEach((step, i) =>
    lines.push(`${i === 0 ? 'chain:     ' : '           '} ${chainStepLine(step)}`),
  );
  return lines.join('\n') + '\n';
}

/** One variable change as `show` prints it: `set k = <JSON>`, `set k = (secret)` or `delete k`. */
export function changeText(c: VariableChange): string {
  if (c.op === 'delete') return `delete ${c.key}`;
  if (c.secret) return `set ${c.key} = (secret)`;
  return c.value === undefined ? `set ${c.key}` : `set ${c.key} = ${c.value}`;
}

export function variableRows(vars: Variable[]): string {
  return table([
    ['KEY', 'VALUE', 'UPDATED', 'BY'],
    ...vars.map((v) => [v.key, v.secret ? '***' : JSON.stringify(v.value), when(v.updatedAt), v.updatedBy]),
  ]);
}

/**
 * A run at a glance (`cronium show --run`): the run, each host's status, exit code and time, and the groups
 * of hosts whose stdout was identical.
 */
export function showRunOverview({ run, executions, groups }: RunOverview): string {
  const params = Object.entries(run.params);
  const lines = [
    `run:        ${run.id}`,
    `job:        ${run.jobName}`,
    `status:     ${run.status}`,
    `trigger:    ${run.trigger}${run.retryOf ? ` (attempt ${run.attempt}, repeats run ${run.retryOf})` : ''}`,
    `started by: ${actorText(run.startedBy)}`,
    `started:    ${when(run.startedAt)}`,
    `ended:      ${when(run.endedAt)}`,
    `input:      ${run.input === null || run.input === undefined ? '-' : JSON.stringify(run.input)}`,
    `params:     ${params.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ') || '-'}`,
    '',
  ];
  const hosts = table([
    ['SERVER', 'STATUS', 'EXIT', 'TIME', 'EXECUTION', 'OUTPUT'],
    ...executions.map((e) => {
      const group = groups.findIndex((g) => g.executionIds.includes(e.id));
      return [
        e.serverName,
        e.status,
        e.exitCode === null ? '-' : String(e.exitCode),
        duration(e),
        e.id.slice(0, 8),
        group < 0 ? '-' : `group ${group + 1}`,
      ];
    }),
  ]);
  const groupLines = groups.length
    ? groups.map((g, i) => `group ${i + 1}: ${groupLabel(g)} — ${g.servers.join(', ')}`)
    : ['no output to compare yet'];
  return lines.join('\n') + hosts + '\n' + groupLines.join('\n') + '\n';
}
