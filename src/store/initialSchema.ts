/**
 * Version 1 of the schema, the tables every later migration builds on, in both engines' texts (see
 * Migration in migrations.ts). Kept in a file of its own: it is most of the schema's text.
 */
export const INITIAL_SCHEMA = {
  version: 1,
  name: 'initial schema',
  sql: `
CREATE TABLE servers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  host TEXT NOT NULL,
  port INTEGER NOT NULL DEFAULT 22,
  username TEXT NOT NULL,
  auth_type TEXT NOT NULL CHECK (auth_type IN ('key', 'password', 'agent')),
  key_path TEXT,
  secret TEXT,
  jump_server_id TEXT REFERENCES servers(id) ON DELETE RESTRICT,
  tags TEXT NOT NULL DEFAULT '[]',
  description TEXT NOT NULL DEFAULT '',
  last_check_at INTEGER,
  last_check_online INTEGER,
  last_check_os TEXT,
  last_check_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  language TEXT NOT NULL CHECK (language IN ('bash', 'python', 'node')),
  script TEXT NOT NULL,
  timeout_sec INTEGER NOT NULL DEFAULT 3600,
  env TEXT NOT NULL DEFAULT '[]',
  default_input TEXT,
  default_server_ids TEXT NOT NULL DEFAULT '[]',
  helper_mode TEXT NOT NULL DEFAULT 'auto' CHECK (helper_mode IN ('auto', 'api', 'bundled')),
  tags TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- History keeps job and server names so it survives their removal.
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  job_name TEXT NOT NULL,
  input TEXT,
  trigger TEXT NOT NULL,
  concurrency INTEGER NOT NULL,
  helper_mode TEXT NOT NULL,
  status TEXT NOT NULL,
  owner_pid INTEGER,
  started_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX runs_started ON runs (started_at DESC);

CREATE TABLE executions (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  job_id TEXT NOT NULL,
  job_name TEXT NOT NULL,
  server_id TEXT NOT NULL,
  server_name TEXT NOT NULL,
  status TEXT NOT NULL,
  exit_code INTEGER,
  error_kind TEXT,
  error_message TEXT,
  helper_mode TEXT,
  fallback_reason TEXT,
  connect_ms INTEGER,
  deploy_ms INTEGER,
  script_ms INTEGER,
  collect_ms INTEGER,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  output TEXT,
  condition INTEGER,
  variable_changes TEXT NOT NULL DEFAULT '[]',
  attempt INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX executions_started ON executions (started_at DESC, id);
CREATE INDEX executions_job ON executions (job_id, started_at DESC);
CREATE INDEX executions_server ON executions (server_id, started_at DESC);
CREATE INDEX executions_status ON executions (status, started_at DESC);
CREATE INDEX executions_run ON executions (run_id);

CREATE TABLE log_chunks (
  execution_id TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  stream TEXT NOT NULL,
  ts INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;

CREATE TABLE variables (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  secret INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);

CREATE TABLE known_hosts (
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  key_type TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  PRIMARY KEY (host, port)
);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  postgres: `
CREATE TABLE servers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL DEFAULT 22,
  username TEXT NOT NULL,
  auth_type TEXT NOT NULL CHECK (auth_type IN ('key', 'password', 'agent')),
  key_path TEXT,
  secret TEXT,
  jump_server_id TEXT REFERENCES servers(id) ON DELETE RESTRICT,
  tags TEXT NOT NULL DEFAULT '[]',
  description TEXT NOT NULL DEFAULT '',
  last_check_at BIGINT,
  last_check_online INTEGER,
  last_check_os TEXT,
  last_check_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX servers_name ON servers (lower(name));

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  language TEXT NOT NULL CHECK (language IN ('bash', 'python', 'node')),
  script TEXT NOT NULL,
  timeout_sec INTEGER NOT NULL DEFAULT 3600,
  env TEXT NOT NULL DEFAULT '[]',
  default_input TEXT,
  default_server_ids TEXT NOT NULL DEFAULT '[]',
  helper_mode TEXT NOT NULL DEFAULT 'auto' CHECK (helper_mode IN ('auto', 'api', 'bundled')),
  tags TEXT NOT NULL DEFAULT '[]',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX jobs_name ON jobs (lower(name));

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  job_name TEXT NOT NULL,
  input TEXT,
  trigger TEXT NOT NULL,
  concurrency INTEGER NOT NULL,
  helper_mode TEXT NOT NULL,
  status TEXT NOT NULL,
  owner_pid INTEGER,
  started_at BIGINT NOT NULL,
  ended_at BIGINT
);
CREATE INDEX runs_started ON runs (started_at DESC);

CREATE TABLE executions (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  job_id TEXT NOT NULL,
  job_name TEXT NOT NULL,
  server_id TEXT NOT NULL,
  server_name TEXT NOT NULL,
  status TEXT NOT NULL,
  exit_code INTEGER,
  error_kind TEXT,
  error_message TEXT,
  helper_mode TEXT,
  fallback_reason TEXT,
  connect_ms BIGINT,
  deploy_ms BIGINT,
  script_ms BIGINT,
  collect_ms BIGINT,
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  output TEXT,
  condition INTEGER,
  variable_changes TEXT NOT NULL DEFAULT '[]',
  attempt INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX executions_started ON executions (started_at DESC, id);
CREATE INDEX executions_job ON executions (job_id, started_at DESC);
CREATE INDEX executions_server ON executions (server_id, started_at DESC);
CREATE INDEX executions_status ON executions (status, started_at DESC);
CREATE INDEX executions_run ON executions (run_id);

CREATE TABLE log_chunks (
  execution_id TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  stream TEXT NOT NULL,
  ts BIGINT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (execution_id, seq)
);

CREATE TABLE variables (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  secret INTEGER NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);

CREATE TABLE known_hosts (
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  key_type TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  PRIMARY KEY (host, port)
);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
};
