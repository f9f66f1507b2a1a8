ALTER TABLE vouchers ADD COLUMN redeemed_at TIMESTAMP;
ALTER TABLE vouchers ADD COLUMN redeemed_station_id TEXT REFERENCES stations (id);
ALTER TABLE vouchers ADD COLUMN redeemed_by TEXT REFERENCES users (id);
UPDATE vouchers SET
    redeemed_at = (SELECT r.redeemed_at FROM redemptions r WHERE r.voucher_id = vouchers.id AND r.reversed_at IS NULL),
    redeemed_station_id = (SELECT r.station_id FROM redemptions r WHERE r.voucher_id = vouchers.id AND r.reversed_at IS NULL),
    redeemed_by = (SELECT r.counter_id FROM redemptions r WHERE r.voucher_id = vouchers.id AND r.reversed_at IS NULL);
