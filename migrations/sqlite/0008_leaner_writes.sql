-- Fewer b-trees per write: an index a write does not need to touch is one page less in every
-- commit. Indexes that serve only some tasks hold only those tasks; the change log's age is found
-- through the feed's timestamp index instead of one of its own.

-- claim-next reads todo tasks only.
DROP INDEX idx_tasks_todo;
CREATE INDEX idx_tasks_todo ON tasks(priority, created_at) WHERE status = 'todo';
-- Only held tasks have a lease.
DROP INDEX idx_tasks_held;
CREATE INDEX idx_tasks_held ON tasks(assigned_agent, lease_expires_at)
  WHERE lease_expires_at IS NOT NULL;
DROP INDEX idx_changes_created_at;
