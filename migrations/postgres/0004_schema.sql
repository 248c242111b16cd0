-- The board's schema on PostgreSQL, as the SQLite migrations 0001 to 0004 left it: a new
-- PostgreSQL database starts here. Later migrations come in pairs, one per database, with the
-- same number. Times are epoch milliseconds (BIGINT), lists are JSON text, as on SQLite.

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT,
  status TEXT NOT NULL CHECK (status IN ('backlog', 'todo', 'in-progress', 'done')),
  assigned_agent TEXT,
  priority TEXT CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  created_by TEXT,
  tags TEXT,
  version BIGINT NOT NULL DEFAULT 1,
  updated_by TEXT,
  lease_expires_at BIGINT,
  lease_seconds BIGINT
);
CREATE INDEX idx_tasks_status ON tasks (status, created_at);
CREATE INDEX idx_tasks_assigned_agent ON tasks (assigned_agent, created_at);
CREATE INDEX idx_tasks_created_at ON tasks (created_at, id);
CREATE INDEX idx_tasks_lease_expires_at ON tasks (lease_expires_at)
  WHERE lease_expires_at IS NOT NULL;
CREATE INDEX idx_tasks_todo ON tasks (status, priority, created_at);

CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('Main', 'Dev', 'Research', 'Ops')),
  status TEXT NOT NULL CHECK (status IN ('online', 'offline', 'busy')),
  last_active BIGINT NOT NULL,
  avatar_color TEXT
);
-- Display names are unique, case-insensitively.
CREATE UNIQUE INDEX idx_agents_name ON agents (lower(name));

CREATE TABLE events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  message TEXT NOT NULL,
  agent_id TEXT,
  task_id TEXT,
  timestamp BIGINT NOT NULL,
  seq BIGINT
);
CREATE INDEX idx_events_timestamp ON events (timestamp, id);
CREATE UNIQUE INDEX idx_events_seq ON events (seq);

CREATE TABLE auth_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_used_at BIGINT
);
CREATE INDEX idx_auth_tokens_expires_at ON auth_tokens (expires_at);
CREATE INDEX idx_auth_tokens_user_id ON auth_tokens (user_id, created_at);

CREATE TABLE task_blockers (
  task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  blocker_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  PRIMARY KEY (task_id, blocker_id)
);
CREATE INDEX idx_task_blockers_blocker_id ON task_blockers (blocker_id);

CREATE TABLE comments (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX idx_comments_task_id ON comments (task_id, id);

CREATE TABLE idempotency_keys (
  actor TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  answer TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (actor, key)
);
CREATE INDEX idx_idempotency_keys_created_at ON idempotency_keys (created_at);

-- The change log, numbered by seq in commit order across every process: writers take a
-- transaction-scoped advisory lock once per group commit, read the last seq from
-- log_position, and write it back before they commit, so seqs are dense and a reader that
-- tails the log never skips one committed late.
CREATE TABLE changes (
  seq BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX idx_changes_created_at ON changes (created_at);

CREATE TABLE log_position (
  id SMALLINT PRIMARY KEY CHECK (id = 1),
  last_seq BIGINT NOT NULL
);
INSERT INTO log_position (id, last_seq) VALUES (1, 0);
