CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    union_id TEXT NOT NULL REFERENCES unions (id),
    title TEXT NOT NULL,
    item_name TEXT NOT NULL,
    description TEXT,
    total_stock INTEGER NOT NULL CHECK (total_stock > 0),
    per_worker_limit INTEGER NOT NULL DEFAULT 1 CHECK (per_worker_limit >= 1),
    claim_starts_at TIMESTAMP NOT NULL,
    claim_ends_at TIMESTAMP NOT NULL,
    redeem_until TIMESTAMP NOT NULL,
    rules TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'paused', 'closed')),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    CHECK (claim_starts_at < claim_ends_at AND claim_ends_at <= redeem_until)
);
CREATE INDEX campaigns_union_idx ON campaigns (union_id);
CREATE INDEX campaigns_status_idx ON campaigns (status);

CREATE TABLE campaign_stations (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    station_id TEXT NOT NULL REFERENCES stations (id),
    PRIMARY KEY (campaign_id, station_id)
);

-- Stock split over a few rows so a burst of claims does not queue on one hot row.
-- The CHECK is the last line of defence against overselling.
CREATE TABLE campaign_stock_shards (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    shard INTEGER NOT NULL,
    remaining INTEGER NOT NULL CHECK (remaining >= 0),
    PRIMARY KEY (campaign_id, shard)
);

CREATE TABLE vouchers (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    -- The worker's n-th voucher of the campaign, 1..per_worker_limit: the unique key
    -- below is what stops a second claim, whatever races.
    claim_no INTEGER NOT NULL CHECK (claim_no >= 1),
    -- A keyed hash of the code: a dump of this table redeems nothing.
    code_hash TEXT NOT NULL UNIQUE,
    stock_shard INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('issued', 'redeemed', 'cancelled', 'revoked')),
    issued_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    redeemed_at TIMESTAMP,
    redeemed_station_id TEXT REFERENCES stations (id),
    redeemed_by TEXT REFERENCES users (id),
    cancelled_at TIMESTAMP,
    revoked_at TIMESTAMP,
    revoked_by TEXT REFERENCES users (id),
    revoked_reason TEXT,
    UNIQUE (campaign_id, user_id, claim_no)
);
CREATE INDEX vouchers_user_idx ON vouchers (user_id, id);
CREATE INDEX vouchers_campaign_status_idx ON vouchers (campaign_id, status);

-- Idempotency-Key records: the first answer to (principal, key), replayed for 24 h.
CREATE TABLE idempotency_keys (
    principal_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
    response_status INTEGER,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (principal_id, idem_key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
