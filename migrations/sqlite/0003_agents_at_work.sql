-- Claims with leases, versions for conditional writes, dependencies, notes, safe retries.

-- Every change to a task increments its version (ETag / If-Match). Who made the last change.
ALTER TABLE tasks ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tasks ADD COLUMN updated_by TEXT;
-- A claimed task is in progress, assigned to its holder, and held until lease_expires_at;
-- lease_seconds is the length the holder asked for, used when the lease is renewed.
ALTER TABLE tasks ADD COLUMN lease_expires_at INTEGER;
ALTER TABLE tasks ADD COLUMN lease_seconds INTEGER;
CREATE INDEX idx_tasks_lease_expires_at ON tasks(lease_expires_at)
  WHERE lease_expires_at IS NOT NULL;
-- claim-next: the oldest todo tasks, by priority.
CREATE INDEX idx_tasks_todo ON tasks(status, priority, created_at);

-- task_id cannot move to in-progress or done until blocker_id is done. Deleting either task
-- removes the edge.
CREATE TABLE task_blockers (
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  blocker_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  PRIMARY KEY (task_id, blocker_id)
) WITHOUT ROWID;
CREATE INDEX idx_task_blockers_blocker_id ON task_blockers(blocker_id);

-- Notes on a task: progress, questions, results.
CREATE TABLE comments (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX idx_comments_task_id ON comments(task_id, id);

-- Idempotency-Key: the first answer to a request, replayed for a retry with the same key.
CREATE TABLE idempotency_keys (
  actor TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  answer TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (actor, key)
) WITHOUT ROWID;
CREATE INDEX idx_idempotency_keys_created_at ON idempotency_keys(created_at);
