-- Where a partner wants its events. The signing secret is derived from the server key and
-- the endpoint id (never stored): only the id is here.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX webhook_endpoints_partner_idx ON webhook_endpoints (partner_id);

-- Every delivery attempt of an outbox message to an endpoint: the delivery log.
CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    outbox_id TEXT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_attempts_outbox_idx ON webhook_attempts (outbox_id, attempt);
CREATE INDEX outbox_target_idx ON outbox (target, id);
