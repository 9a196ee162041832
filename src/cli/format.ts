import type { Execution, Job, Server, Variable } from '../core/domain.ts';
import { hostPort } from '../core/rules.ts';

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

export function showJob(j: Job, serverNames: string[]): string {
  const lines = [
    `name:     ${j.name}`,
    `language: ${j.language}`,
    `timeout:  ${j.timeoutSec}s`,
    `helpers:  ${j.helperMode}${j.keepRunning ? ' (keep running: the script outlives its connection)' : ''}`,
    `servers:  ${serverNames.join(', ') || '-'}`,
    `input:    ${j.defaultInput === null ? '-' : JSON.stringify(j.defaultInput)}`,
    `env:      ${j.env.map((e) => `${e.key}=${e.secret ? '***' : e.value}`).join(' ') || '-'}`,
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

export function showExecution(e: Execution): string {
  const t = e.timings;
  const ms = (v: number | null) => (v === null ? '-' : `${v}ms`);
  const lines = [
    `execution:  ${e.id}`,
    `run:        ${e.runId}`,
    `job:        ${e.jobName}`,
    `server:     ${e.serverName}`,
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
    `variables:  ${e.variableChanges.map((c) => `${c.op} ${c.key}`).join(', ') || '-'}`,
  );
  return lines.join('\n') + '\n';
}

export function variableRows(vars: Variable[]): string {
  return table([
    ['KEY', 'VALUE', 'UPDATED', 'BY'],
    ...vars.map((v) => [v.key, v.secret ? '***' : JSON.stringify(v.value), when(v.updatedAt), v.updatedBy]),
  ]);
}
