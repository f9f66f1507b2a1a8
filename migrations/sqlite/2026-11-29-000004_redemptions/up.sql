-- One row per redemption (核销). The voucher's conditional update issued → redeemed is
-- the fence; this partial unique index is a second one: at most one live (unreversed)
-- redemption per voucher, whatever any lock did.
CREATE TABLE redemptions (
    id TEXT PRIMARY KEY,
    voucher_id TEXT NOT NULL REFERENCES vouchers (id),
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    station_id TEXT NOT NULL REFERENCES stations (id),
    counter_id TEXT NOT NULL REFERENCES users (id),
    terminal_id TEXT,
    redeemed_at TIMESTAMP NOT NULL,
    reversed_at TIMESTAMP,
    reversed_by TEXT REFERENCES users (id),
    reversal_reason TEXT
);
CREATE UNIQUE INDEX redemptions_one_live ON redemptions (voucher_id) WHERE reversed_at IS NULL;
CREATE INDEX redemptions_campaign_idx ON redemptions (campaign_id, id);
