-- A redemption is recorded once, in `redemptions`. The voucher keeps only its lifecycle
-- status (the fence `issued → redeemed`); when, where and by whom come from the live
-- redemption row, so the wallet, the counter, the stats and the admin log read one copy.
-- Both were written in one transaction since redemption began, so every redeemed voucher
-- has its live row; should one be missing, it is made from the voucher's own columns
-- before they go, so no redemption is lost.
INSERT INTO redemptions (id, voucher_id, campaign_id, station_id, counter_id, redeemed_at)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6))), v.id, v.campaign_id, v.redeemed_station_id, v.redeemed_by, v.redeemed_at
FROM vouchers v
WHERE v.status = 'redeemed' AND v.redeemed_at IS NOT NULL
  AND v.redeemed_station_id IS NOT NULL AND v.redeemed_by IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM redemptions r WHERE r.voucher_id = v.id AND r.reversed_at IS NULL);

ALTER TABLE vouchers DROP COLUMN redeemed_at;
ALTER TABLE vouchers DROP COLUMN redeemed_station_id;
ALTER TABLE vouchers DROP COLUMN redeemed_by;
