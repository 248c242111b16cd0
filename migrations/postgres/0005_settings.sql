-- Board-wide settings that must be the same for every process serving the board (the
-- operator's password hash when none is set in the environment).
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
