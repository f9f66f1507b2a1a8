-- A redemption is recorded once, in `redemptions`. The voucher keeps only its lifecycle
-- status (the fence `issued → redeemed`); when, where and by whom come from the live
-- redemption row, so the wallet, the counter, the stats and the admin log read one copy.
ALTER TABLE vouchers DROP COLUMN redeemed_at;
ALTER TABLE vouchers DROP COLUMN redeemed_station_id;
ALTER TABLE vouchers DROP COLUMN redeemed_by;
