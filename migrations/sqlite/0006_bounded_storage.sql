-- What the board keeps is bounded in bytes, and what a write costs is bounded whatever the
-- board holds.

-- The change log's size: the bytes of its payloads, kept up to date by every group commit and
-- every trim, so that its bound in bytes (CHANGE_LOG_MAX_MB) is checked without reading it.
CREATE TABLE change_log_size (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  bytes INTEGER NOT NULL
);
INSERT INTO change_log_size (id, bytes)
SELECT 1, COALESCE(SUM(octet_length(payload)), 0) FROM changes;

-- Idempotency keys: the bytes each takes (key, fingerprint and answer), whether `answer` is the
-- answer itself (1) or, for an answer too large to keep, the ids to read it again by (0), and
-- the bytes each agent's keys take in all, for its quota.
ALTER TABLE idempotency_keys ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE idempotency_keys ADD COLUMN whole INTEGER NOT NULL DEFAULT 1;
UPDATE idempotency_keys
SET bytes = octet_length(key) + octet_length(fingerprint) + octet_length(answer);
CREATE INDEX idx_idempotency_keys_actor ON idempotency_keys(actor, created_at, bytes);
CREATE TABLE idempotency_usage (
  actor TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL
);
INSERT INTO idempotency_usage (actor, bytes)
SELECT actor, SUM(bytes) FROM idempotency_keys GROUP BY actor;

-- How many tasks an agent holds, counted at every claim.
CREATE INDEX idx_tasks_held ON tasks(assigned_agent, lease_expires_at);
