-- The change log: every committed change with its wire payload, numbered by `seq` in commit
-- order, so that a client (or another process) can resume exactly where it stopped.
-- AUTOINCREMENT: a seq is never reused, even after old entries are swept.
CREATE TABLE changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX idx_changes_created_at ON changes(created_at);

-- Each event-log row carries the seq of its `event.new` change. Rows older than the log are
-- numbered in their order, below every seq the log will hand out.
ALTER TABLE events ADD COLUMN seq INTEGER;
UPDATE events SET seq = numbered.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY timestamp, id) AS n FROM events) AS numbered
WHERE events.id = numbered.id;
INSERT INTO sqlite_sequence (name, seq) SELECT 'changes', COALESCE(MAX(seq), 0) FROM events;
CREATE UNIQUE INDEX idx_events_seq ON events(seq);
