/**
 * How runs and executions are stored: their rows, the mapping to the domain's objects, the columns an
 * ExecutionPatch writes, and the one query that pages history (used by HistoryRepo).
 */
import { NOT_SUCCEEDED_STATUSES } from '../core/domain.ts';
import type {
  ChainStep,
  ErrorKind,
  Execution,
  ExecutionStatus,
  HelperMode,
  HistoryStatusFilter,
  RunStatus,
  RunTrigger,
  ToolActionRecord,
  VariableChange,
} from '../core/domain.ts';
import type { SqlEngine } from './sql.ts';

export interface RunRow {
  id: string;
  job_id: string;
  job_name: string;
  input: string | null;
  trigger: RunTrigger;
  concurrency: number;
  helper_mode: HelperMode;
  status: RunStatus;
  owner_pid: number | null;
  schedule_id: string | null;
  started_at: number;
  ended_at: number | null;
  parent_execution_id: string | null;
  chain_depth: number;
  notifications: string;
  params: string;
  retry_of: string | null;
  attempt: number;
  started_by: string | null;
}

export interface ExecutionRow {
  id: string;
  run_id: string;
  job_id: string;
  job_name: string;
  server_id: string;
  server_name: string;
  status: ExecutionStatus;
  exit_code: number | null;
  error_kind: ErrorKind | null;
  error_message: string | null;
  helper_mode: 'api' | 'bundled' | null;
  fallback_reason: string | null;
  connect_ms: number | null;
  deploy_ms: number | null;
  script_ms: number | null;
  collect_ms: number | null;
  started_at: number;
  ended_at: number | null;
  output: string | null;
  condition: number | null;
  variable_changes: string;
  tool_actions: string;
  attempt: number;
  chain: string;
  stdout_hash: string | null;
  started_by: string | null;
  worker: string | null;
}

export function executionFromRow(row: ExecutionRow): Execution {
  return {
    id: row.id,
    runId: row.run_id,
    jobId: row.job_id,
    jobName: row.job_name,
    serverId: row.server_id,
    serverName: row.server_name,
    status: row.status,
    exitCode: row.exit_code,
    errorKind: row.error_kind,
    errorMessage: row.error_message,
    helperMode: row.helper_mode,
    fallbackReason: row.fallback_reason,
    timings: {
      connectMs: row.connect_ms,
      deployMs: row.deploy_ms,
      scriptMs: row.script_ms,
      collectMs: row.collect_ms,
    },
    startedAt: row.started_at,
    endedAt: row.ended_at,
    output: row.output === null ? null : (JSON.parse(row.output) as unknown),
    condition: row.condition === null ? null : row.condition === 1,
    variableChanges: JSON.parse(row.variable_changes) as VariableChange[],
    toolActions: JSON.parse(row.tool_actions) as ToolActionRecord[],
    attempt: row.attempt,
    chain: JSON.parse(row.chain) as ChainStep[],
    stdoutHash: row.stdout_hash,
    startedBy: row.started_by ?? null,
    worker: row.worker ?? null,
  };
}

/**
 * Fields of an execution that change while it runs; undefined leaves a column as it is. The status is
 * not among them: it changes only through moveExecution (the status machine, src/core/executionStatus.ts).
 */
export interface ExecutionPatch {
  exitCode?: number | null;
  errorKind?: ErrorKind | null;
  errorMessage?: string | null;
  helperMode?: 'api' | 'bundled' | null;
  fallbackReason?: string | null;
  connectMs?: number | null;
  deployMs?: number | null;
  scriptMs?: number | null;
  collectMs?: number | null;
  endedAt?: number | null;
  output?: unknown;
  condition?: boolean | null;
  variableChanges?: VariableChange[];
  stdoutHash?: string | null;
  toolActions?: ToolActionRecord[];
}

export const PATCH_COLUMNS: Record<keyof ExecutionPatch, [string, (v: unknown) => unknown]> = {
  exitCode: ['exit_code', (v) => v],
  errorKind: ['error_kind', (v) => v],
  errorMessage: ['error_message', (v) => v],
  helperMode: ['helper_mode', (v) => v],
  fallbackReason: ['fallback_reason', (v) => v],
  connectMs: ['connect_ms', (v) => v],
  deployMs: ['deploy_ms', (v) => v],
  scriptMs: ['script_ms', (v) => v],
  collectMs: ['collect_ms', (v) => v],
  endedAt: ['ended_at', (v) => v],
  output: ['output', (v) => (v === undefined ? null : JSON.stringify(v))],
  condition: ['condition', (v) => (v === null ? null : v ? 1 : 0)],
  variableChanges: ['variable_changes', (v) => JSON.stringify(v)],
  stdoutHash: ['stdout_hash', (v) => v],
  toolActions: ['tool_actions', (v) => JSON.stringify(v)],
};

export interface ExecutionFilter {
  jobId?: string;
  serverId?: string;
  status?: HistoryStatusFilter;
  /** Words that must each appear in the job name, server name, error message, id or who started it. */
  text?: string;
  from?: number;
  to?: number;
  limit: number;
  /** Keyset position: rows strictly older than (startedAt, id). */
  before?: { startedAt: number; id: string };
}

/** The columns history's text search looks in (started_by: who started the run, issue 13). */
const SEARCHED = ['job_name', 'server_name', 'error_message', 'id', 'run_id', 'started_by'];

/**
 * The SQL and its parameters for one page of history (exported so tests can EXPLAIN the real query), in
 * `engine`'s dialect: only the text search differs (see below).
 */
export function executionListQuery(
  filter: ExecutionFilter,
  engine: SqlEngine = 'sqlite',
): { sql: string; values: (string | number)[] } {
  const where: string[] = [];
  const values: (string | number)[] = [];
  const add = (clause: string, value: string | number) => {
    where.push(clause);
    values.push(value);
  };
  if (filter.jobId) add('job_id = ?', filter.jobId);
  if (filter.serverId) add('server_id = ?', filter.serverId);
  if (filter.status === 'not_succeeded') {
    where.push(`status IN (${NOT_SUCCEEDED_STATUSES.map(() => '?').join(', ')})`);
    values.push(...NOT_SUCCEEDED_STATUSES);
  } else if (filter.status) add('status = ?', filter.status);
  // Each word must appear in one of the searched columns, case-blind: SQLite's LIKE already is (for
  // ASCII), PostgreSQL's ILIKE is; lower() on both sides would say the same but costs a call per row.
  const like = engine === 'postgres' ? 'ILIKE' : 'LIKE';
  for (const word of filter.text?.split(/\s+/).filter(Boolean) ?? []) {
    const pattern = `%${word.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    where.push(`(${SEARCHED.map((c) => `${c} ${like} ? ESCAPE '\\'`).join(' OR ')})`);
    values.push(...SEARCHED.map(() => pattern));
  }
  if (filter.from !== undefined) add('started_at >= ?', filter.from);
  if (filter.to !== undefined) add('started_at < ?', filter.to);
  if (filter.before) {
    // Strictly older than (startedAt, id), with `started_at <= ?` first: a plain bound on the index's
    // leading column. The same rows as `started_at < ? OR (started_at = ? AND id < ?)`, which SQLite
    // planned as two index searches OR'ed and sorted whole — every older row, 130+ ms a page on a large
    // history — where this reads one page along the index on both engines.
    where.push('started_at <= ? AND (started_at < ? OR id < ?)');
    values.push(filter.before.startedAt, filter.before.startedAt, filter.before.id);
  }
  const sql = `SELECT * FROM executions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`;
  return { sql, values: [...values, filter.limit] };
}
