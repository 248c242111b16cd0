-- Revoked tokens, until they would have expired anyway: a revoked token's row is deleted, and
-- this record keeps an import (of an export taken before the revocation) from bringing it back.
CREATE TABLE revoked_tokens (
  id TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
CREATE INDEX idx_revoked_tokens_expires_at ON revoked_tokens (expires_at);
