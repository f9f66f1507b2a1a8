DELETE FROM notifications WHERE kind = 'wish_fulfilled';
DROP TABLE wishes;
DROP TABLE voucher_ratings;
ALTER TABLE redemptions DROP COLUMN method;
ALTER TABLE users DROP COLUMN address;
ALTER TABLE campaigns DROP COLUMN allocation_pending;
ALTER TABLE campaigns DROP COLUMN fulfilment;
ALTER TABLE campaigns DROP COLUMN mode;
