DELETE FROM notifications WHERE kind = 'wish_fulfilled';
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'membership_approved', 'membership_rejected', 'membership_ended', 'voucher_expiring',
    'voucher_expired', 'voucher_revoked', 'redemption_reversed', 'voucher_allocated'));
DROP TABLE wishes;
DROP TABLE voucher_ratings;
ALTER TABLE redemptions DROP COLUMN method;
ALTER TABLE users DROP COLUMN address;
ALTER TABLE campaigns DROP COLUMN allocation_heartbeat;
ALTER TABLE campaigns DROP COLUMN allocation_generation;
ALTER TABLE campaigns DROP COLUMN allocation_pending;
ALTER TABLE campaigns DROP COLUMN fulfilment;
ALTER TABLE campaigns DROP COLUMN mode;
