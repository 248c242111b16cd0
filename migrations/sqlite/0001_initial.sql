-- The four tables of the product specification, exactly as written there.
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT,
  status TEXT NOT NULL CHECK(status IN ('backlog', 'todo', 'in-progress', 'done')),
  assigned_agent TEXT,
  priority TEXT CHECK(priority IN ('low', 'medium', 'high', 'critical')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  created_by TEXT,
  tags TEXT -- JSON array
);

CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK(role IN ('Main', 'Dev', 'Research', 'Ops')),
  status TEXT NOT NULL CHECK(status IN ('online', 'offline', 'busy')),
  last_active INTEGER NOT NULL,
  avatar_color TEXT
);

CREATE TABLE events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  message TEXT NOT NULL,
  agent_id TEXT,
  task_id TEXT,
  timestamp INTEGER NOT NULL
);

CREATE TABLE auth_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- Indexes for the queries the API makes: the board by column and by assignee, the event feed
-- newest first and "since" a timestamp, and sweeping expired tokens.
CREATE INDEX idx_tasks_status ON tasks(status, created_at);
CREATE INDEX idx_tasks_assigned_agent ON tasks(assigned_agent, created_at);
CREATE INDEX idx_events_timestamp ON events(timestamp, id);
CREATE INDEX idx_auth_tokens_expires_at ON auth_tokens(expires_at);
