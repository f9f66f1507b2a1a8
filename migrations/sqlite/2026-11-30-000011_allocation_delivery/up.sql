-- Allocation (精准发放), delivery (送货上门), ratings and micro-wishes (微心愿), contract
-- v1.1 "Allocation, delivery, ratings, wishes".

-- How a campaign hands out vouchers and how the goods reach the worker. An allocation that
-- has not finished a full pass since publication (or since a crash) stays `pending`, and
-- the jobs finish it once its heartbeat (touched by every batch) is a minute old; each
-- publication or top-up bumps the generation, and a pass clears `pending` only if no
-- newer one began meanwhile. The vouchers' unique key makes any number of passes issue
-- one each.
ALTER TABLE campaigns ADD COLUMN mode TEXT NOT NULL DEFAULT 'claim' CHECK (mode IN ('claim', 'allocate'));
ALTER TABLE campaigns ADD COLUMN fulfilment TEXT NOT NULL DEFAULT 'pickup'
    CHECK (fulfilment IN ('pickup', 'delivery'));
ALTER TABLE campaigns ADD COLUMN allocation_pending BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN allocation_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN allocation_heartbeat TIMESTAMP;

-- Where a delivery goes: personal data, shown only to counters of a delivery campaign.
ALTER TABLE users ADD COLUMN address TEXT;

-- A hand-over at the door is a redemption like one at a counter (the same fence and the
-- same one live record per voucher), told apart for the stats.
ALTER TABLE redemptions ADD COLUMN method TEXT NOT NULL DEFAULT 'counter'
    CHECK (method IN ('counter', 'delivery'));

-- One rating per voucher: the primary key is what refuses a second one.
CREATE TABLE voucher_ratings (
    voucher_id TEXT PRIMARY KEY REFERENCES vouchers (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    station_id TEXT REFERENCES stations (id),
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX voucher_ratings_campaign_idx ON voucher_ratings (campaign_id, station_id);

-- A worker has at most one open wish per category (the partial unique index).
CREATE TABLE wishes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    category TEXT NOT NULL CHECK (category IN ('warmth', 'food', 'daily', 'health', 'tools', 'other')),
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'fulfilled')),
    created_at TIMESTAMP NOT NULL,
    fulfilled_at TIMESTAMP,
    voucher_id TEXT REFERENCES vouchers (id)
);
CREATE UNIQUE INDEX wishes_one_open ON wishes (user_id, category) WHERE status = 'open';
CREATE INDEX wishes_user_idx ON wishes (user_id, id);

-- SQLite cannot alter a CHECK: the inbox is rebuilt with the wider list.
CREATE TABLE notifications_rebuilt (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('membership_approved', 'membership_rejected',
        'membership_ended', 'voucher_expiring', 'voucher_expired', 'voucher_revoked',
        'redemption_reversed', 'voucher_allocated', 'wish_fulfilled')),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    voucher_id TEXT REFERENCES vouchers (id) ON DELETE CASCADE,
    campaign_id TEXT REFERENCES campaigns (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
INSERT INTO notifications_rebuilt SELECT id, user_id, kind, title, body, voucher_id, campaign_id, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_rebuilt RENAME TO notifications;
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
