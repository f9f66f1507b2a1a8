-- Sessions end when idle: the last refresh is remembered (NULL = never refreshed).
ALTER TABLE sessions ADD COLUMN refreshed_at TIMESTAMP;

-- Refresh tokens form a tree: retries within the grace mint siblings under one parent,
-- and a parent whose child was used is spent for good.
ALTER TABLE refresh_tokens ADD COLUMN parent_id TEXT REFERENCES refresh_tokens (id) ON DELETE CASCADE;
CREATE INDEX refresh_tokens_parent_id_idx ON refresh_tokens (parent_id);

-- Consent for an on-site join: a worker shows an 8-digit code from the app; only its
-- keyed hash is kept, and it works once within ten minutes.
CREATE TABLE join_codes (
    code_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX join_codes_user_id_idx ON join_codes (user_id);
