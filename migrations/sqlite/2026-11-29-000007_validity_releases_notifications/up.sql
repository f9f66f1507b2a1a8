-- A voucher expires `voucher_valid_days` after it is issued (or at redeem_until, if sooner).
ALTER TABLE campaigns ADD COLUMN voucher_valid_days INTEGER CHECK (voucher_valid_days >= 1);
-- The earliest release still to come (NULL: none), read by every claim to release due
-- batches itself rather than wait for the job.
ALTER TABLE campaigns ADD COLUMN next_release_at TIMESTAMP;

-- Stock released in batches: each row is released exactly once (`released_at` is the
-- fence), adding its quantity to the claimable shards.
CREATE TABLE campaign_stock_releases (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    release_at TIMESTAMP NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    released_at TIMESTAMP,
    PRIMARY KEY (campaign_id, seq)
);

-- An expired voucher's unit goes back to the shards once: `stock_returned_at` is the fence.
ALTER TABLE vouchers ADD COLUMN stock_returned_at TIMESTAMP;
-- The last reminder an admin sent for this voucher (at most one per 24 h).
ALTER TABLE vouchers ADD COLUMN admin_reminded_at TIMESTAMP;
CREATE INDEX vouchers_unreturned_idx ON vouchers (campaign_id, expires_at)
    WHERE status = 'issued' AND stock_returned_at IS NULL;

-- The automatic "about to expire" reminders: one row per voucher and stage (hours before).
CREATE TABLE voucher_reminders (
    voucher_id TEXT NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
    stage INTEGER NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (voucher_id, stage)
);

-- A worker's inbox.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('membership_approved', 'membership_rejected',
        'voucher_expiring', 'voucher_expired', 'voucher_revoked', 'redemption_reversed',
        'voucher_allocated')),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    voucher_id TEXT REFERENCES vouchers (id) ON DELETE CASCADE,
    campaign_id TEXT REFERENCES campaigns (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);

-- Outbound deliveries (the notification gateway now, partner webhooks later), written in
-- the transaction of the change they announce; `id` is the Standard Webhooks webhook-id.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until TIMESTAMP,
    delivered_at TIMESTAMP,
    gave_up_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;
