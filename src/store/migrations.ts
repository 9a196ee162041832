import { INITIAL_SCHEMA } from './initialSchema.ts';

/**
 * One step of the schema. Both engines take the same steps in the same order: `sql` is SQLite's text,
 * `postgres` PostgreSQL 15's where the two differ (BIGINT for epoch milliseconds, BYTEA for blobs, a
 * unique index on lower(name) for SQLite's COLLATE NOCASE, no WITHOUT ROWID); without it, `sql` serves both
 * (versions 4, 5 and 8 only add columns and a partial index in syntax both engines share).
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  postgres?: string;
}

/** Versioned schema migrations; each runs once, in its own transaction, in order. */
export const MIGRATIONS: readonly Migration[] = [
  INITIAL_SCHEMA,
  {
    version: 2,
    name: 'compressed log chunks',
    // Large chunks are stored deflated (logs compress several times over); small ones stay plain text.
    sql: `ALTER TABLE log_chunks ADD COLUMN packed BLOB;`,
    postgres: `ALTER TABLE log_chunks ADD COLUMN packed BYTEA;`,
  },
  {
    version: 3,
    name: 'schedules, their fires and the scheduler lease',
    // A schedule goes with its job. schedule_fires holds one row per occurrence handled: its primary key is
    // what makes two processes never fire the same occurrence. scheduler_lease names the one process firing.
    sql: `
CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  cron TEXT NOT NULL,
  timezone TEXT,
  targets TEXT NOT NULL DEFAULT '[]',
  params TEXT NOT NULL DEFAULT '{}',
  input TEXT,
  overlap TEXT NOT NULL DEFAULT 'skip' CHECK (overlap IN ('skip', 'allow')),
  missed TEXT NOT NULL DEFAULT 'skip' CHECK (missed IN ('skip', 'run-once')),
  enabled INTEGER NOT NULL DEFAULT 1,
  checked_until INTEGER NOT NULL,
  last_fire_at INTEGER,
  last_outcome TEXT,
  last_error TEXT,
  last_run_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX schedules_job ON schedules (job_id);

CREATE TABLE schedule_fires (
  schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  fire_at INTEGER NOT NULL,
  holder TEXT NOT NULL,
  outcome TEXT NOT NULL,
  run_id TEXT,
  message TEXT,
  missed INTEGER NOT NULL DEFAULT 0,
  claimed_at INTEGER NOT NULL,
  PRIMARY KEY (schedule_id, fire_at)
) WITHOUT ROWID;

CREATE TABLE scheduler_lease (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  acquired_at INTEGER NOT NULL
);

ALTER TABLE runs ADD COLUMN schedule_id TEXT;
CREATE INDEX runs_schedule ON runs (schedule_id, status);
`,
    postgres: `
CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  cron TEXT NOT NULL,
  timezone TEXT,
  targets TEXT NOT NULL DEFAULT '[]',
  params TEXT NOT NULL DEFAULT '{}',
  input TEXT,
  overlap TEXT NOT NULL DEFAULT 'skip' CHECK (overlap IN ('skip', 'allow')),
  missed TEXT NOT NULL DEFAULT 'skip' CHECK (missed IN ('skip', 'run-once')),
  enabled INTEGER NOT NULL DEFAULT 1,
  checked_until BIGINT NOT NULL,
  last_fire_at BIGINT,
  last_outcome TEXT,
  last_error TEXT,
  last_run_id TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX schedules_name ON schedules (lower(name));
CREATE INDEX schedules_job ON schedules (job_id);

CREATE TABLE schedule_fires (
  schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  fire_at BIGINT NOT NULL,
  holder TEXT NOT NULL,
  outcome TEXT NOT NULL,
  run_id TEXT,
  message TEXT,
  missed INTEGER NOT NULL DEFAULT 0,
  claimed_at BIGINT NOT NULL,
  PRIMARY KEY (schedule_id, fire_at)
);

CREATE TABLE scheduler_lease (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  acquired_at BIGINT NOT NULL
);

ALTER TABLE runs ADD COLUMN schedule_id TEXT;
CREATE INDEX runs_schedule ON runs (schedule_id, status);
`,
  },
  {
    version: 4,
    name: 'server helper mode',
    // default: the job's mode; api or bundled: what this host always uses (SERVER_HELPER_MODES).
    sql: `ALTER TABLE servers ADD COLUMN helper_mode TEXT NOT NULL DEFAULT 'default'
      CHECK (helper_mode IN ('default', 'api', 'bundled'));`,
  },
  {
    version: 5,
    name: 'chained jobs and notifications',
    // A job's chain links and notice settings (its webhook URL sealed, like a secret); a run's parent
    // execution, its depth in a chain and its notices' results; what an execution's links did.
    sql: `
ALTER TABLE jobs ADD COLUMN chain TEXT NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN desktop_notify TEXT NOT NULL DEFAULT 'never';
ALTER TABLE jobs ADD COLUMN webhook TEXT;
ALTER TABLE runs ADD COLUMN parent_execution_id TEXT;
ALTER TABLE runs ADD COLUMN chain_depth INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN notifications TEXT NOT NULL DEFAULT '[]';
ALTER TABLE executions ADD COLUMN chain TEXT NOT NULL DEFAULT '[]';
CREATE INDEX runs_parent ON runs (parent_execution_id) WHERE parent_execution_id IS NOT NULL;
`,
  },
  {
    version: 6,
    name: 'job parameters, re-runs, output hashes, cancel requests across processes',
    // A job's declared parameters; a run's given values and the run it repeats; each execution's stdout
    // hash (output groups); and cancels asked of a run another process owns (that process polls them).
    sql: `
ALTER TABLE jobs ADD COLUMN params TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN retry_of TEXT;
ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE executions ADD COLUMN stdout_hash TEXT;
CREATE INDEX runs_retry_of ON runs (retry_of);
CREATE TABLE cancel_requests (
  run_id TEXT NOT NULL,
  execution_id TEXT,
  requested_at INTEGER NOT NULL
);
CREATE INDEX cancel_requests_run ON cancel_requests (run_id);
`,
    postgres: `
ALTER TABLE jobs ADD COLUMN params TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN retry_of TEXT;
ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE executions ADD COLUMN stdout_hash TEXT;
CREATE INDEX runs_retry_of ON runs (retry_of);
CREATE TABLE cancel_requests (
  run_id TEXT NOT NULL,
  execution_id TEXT,
  requested_at BIGINT NOT NULL
);
CREATE INDEX cancel_requests_run ON cancel_requests (run_id);
`,
  },
  {
    version: 7,
    name: 'tool credentials and tool actions',
    // Credentials for the tool actions scripts ask for (Slack, Discord, SMTP): the secret part sealed by the
    // secret store, a summary without secrets for lists. Each execution keeps the actions it asked for.
    sql: `
CREATE TABLE tools (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  type TEXT NOT NULL CHECK (type IN ('slack', 'discord', 'email')),
  summary TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX tools_type ON tools (type, created_at DESC);
ALTER TABLE executions ADD COLUMN tool_actions TEXT NOT NULL DEFAULT '[]';
`,
    postgres: `
CREATE TABLE tools (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('slack', 'discord', 'email')),
  summary TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX tools_name ON tools (lower(name));
CREATE INDEX tools_type ON tools (type, created_at DESC);
ALTER TABLE executions ADD COLUMN tool_actions TEXT NOT NULL DEFAULT '[]';
`,
  },
  {
    version: 8,
    name: 'keep-running jobs',
    // A job's option, and each execution's own copy (how it was started decides whether it can detach).
    sql: `ALTER TABLE jobs ADD COLUMN keep_running INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN keep_running INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 9,
    name: 'who started each run',
    // The audit trail (issue 13): "user@machine" of the process that started the run, or "worker NAME@host".
    // Older runs keep null, shown as "unknown". Executions carry a copy, as they carry the job's name, so
    // history's page query and its text search stay on the executions table.
    sql: `ALTER TABLE runs ADD COLUMN started_by TEXT;
ALTER TABLE executions ADD COLUMN started_by TEXT;`,
    postgres: `ALTER TABLE runs ADD COLUMN started_by TEXT;
ALTER TABLE executions ADD COLUMN started_by TEXT;`,
  },
  {
    version: 10,
    name: 'team mode workers: heartbeats, the worker of an execution, runs sent to workers',
    // Each `cronium worker`'s heartbeat row; which worker took an execution and its queue job (pg-boss's
    // id, to fail it when the worker is lost); whether a run's executions go to workers (`via`), so that
    // failOrphans leaves them to the heartbeat reaper (their creator's pid says nothing about them).
    sql: `
CREATE TABLE workers (
  name TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  concurrency INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);
ALTER TABLE executions ADD COLUMN worker TEXT;
ALTER TABLE executions ADD COLUMN queue_job TEXT;
ALTER TABLE runs ADD COLUMN via TEXT NOT NULL DEFAULT 'direct';
CREATE INDEX executions_worker ON executions (worker) WHERE worker IS NOT NULL;
`,
    postgres: `
CREATE TABLE workers (
  name TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  concurrency INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);
ALTER TABLE executions ADD COLUMN worker TEXT;
ALTER TABLE executions ADD COLUMN queue_job TEXT;
ALTER TABLE runs ADD COLUMN via TEXT NOT NULL DEFAULT 'direct';
CREATE INDEX executions_worker ON executions (worker) WHERE worker IS NOT NULL;
`,
  },
  {
    version: 11,
    name: 'text in byte order on PostgreSQL, as in SQLite',
    // A team's server is usually initialised in a language's locale, whose collation orders and compares
    // text linguistically ("a.b" < "DB-1" < "db", punctuation ignored, case at a later level): lists came
    // out in another order than SQLite's BINARY one, and the id-prefix ranges (id >= 'ab-' AND id < 'ab.')
    // matched the wrong ids. Every text column of the store's own tables takes the "C" collation (byte
    // order, as SQLite); later PostgreSQL migrations declare new text columns COLLATE "C" (checked by
    // test/store.matrix.test.ts). Nothing to do on SQLite.
    sql: `SELECT 1;`,
    postgres: `
DO $$
DECLARE col record;
BEGIN
  FOR col IN
    SELECT c.table_name, c.column_name
      FROM information_schema.columns c
      JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.data_type = 'text'
       AND c.collation_name IS DISTINCT FROM 'C'
  LOOP
    EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE TEXT COLLATE "C"', col.table_name, col.column_name);
  END LOOP;
END $$;
`,
  },
  {
    version: 12,
    name: 'where runs of a job go by default (direct, or to the team’s workers)',
    sql: `ALTER TABLE jobs ADD COLUMN default_via TEXT NOT NULL DEFAULT 'direct';`,
    postgres: `ALTER TABLE jobs ADD COLUMN default_via TEXT COLLATE "C" NOT NULL DEFAULT 'direct';`,
  },
  {
    version: 13,
    name: "a job's executions counted by status from an index (the event's successCount, failureCount)",
    // jobStats counts a job's executions by status at the start of every run: through executions_job it
    // read each row of the table (1.45 s for a job with a million), through this one it reads the index
    // alone (about a tenth of that).
    sql: `CREATE INDEX executions_job_status ON executions (job_id, status);`,
    postgres: `CREATE INDEX executions_job_status ON executions (job_id, status);`,
  },
];
