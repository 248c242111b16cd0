-- People with their own sign-ins: each acts on the board as its own agent card (`id` is the
-- card's id, `agent-<username>`), with an access role. The operator from the environment gets
-- its row when the server starts (its password hash, wherever it was kept, moves here then).
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  access TEXT NOT NULL CHECK (access IN ('admin', 'member', 'viewer')),
  -- Argon2 PHC string; NULL while an invitation is pending.
  password_hash TEXT,
  -- SHA-256 of a pending invitation's token, and when it runs out (epoch milliseconds).
  invite_hash TEXT UNIQUE,
  invite_expires_at INTEGER,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
