-- Who may do what, and what the operator can see of tokens.

-- Display names are unique (case-insensitively), so that no agent can pass for another.
-- Boards made before this rule keep every agent; later duplicates get their id appended.
UPDATE agents SET name = name || ' (' || id || ')'
WHERE rowid NOT IN (SELECT MIN(rowid) FROM agents GROUP BY name COLLATE NOCASE);
CREATE UNIQUE INDEX idx_agents_name ON agents(name COLLATE NOCASE);

-- When each token was last used (kept to the minute), and an agent's tokens by agent.
ALTER TABLE auth_tokens ADD COLUMN last_used_at INTEGER;
CREATE INDEX idx_auth_tokens_user_id ON auth_tokens(user_id, created_at);

-- The whole board in creation order, page by page (keyset pagination).
CREATE INDEX idx_tasks_created_at ON tasks(created_at, id);
