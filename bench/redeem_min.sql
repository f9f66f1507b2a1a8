-- The shortest correct redemption this schema allows, in one round trip (P3's anchor):
-- the counter's session and its binding to the station, the campaign redeemable there,
-- the fence (issued → redeemed, not expired), the redemption record (a partial unique
-- index allows one live one), and the audit entry. Each transaction takes the next code.
WITH k AS (
  SELECT s.user_id FROM sessions s
  JOIN staff_stations ss ON ss.user_id = s.user_id AND ss.station_id = :station
  WHERE s.id = :counter_session AND s.revoked_at IS NULL
), v AS (
  UPDATE vouchers SET status = 'redeemed'
  WHERE code_hash = (SELECT code_hash FROM bench_codes WHERE n = (SELECT nextval('bench_code_seq')))
    AND status = 'issued' AND expires_at > now()
    AND EXISTS (SELECT 1 FROM k)
    AND EXISTS (SELECT 1 FROM campaign_stations cs WHERE cs.campaign_id = vouchers.campaign_id AND cs.station_id = :station)
  RETURNING id, campaign_id
), r AS (
  INSERT INTO redemptions (id, voucher_id, campaign_id, station_id, counter_id, redeemed_at, method)
  SELECT gen_random_uuid()::text, v.id, v.campaign_id, :station, k.user_id, now(), 'counter' FROM v, k
  RETURNING voucher_id, counter_id
)
INSERT INTO audit_events (id, actor_id, action, subject_type, subject_id, detail, created_at, mac)
SELECT gen_random_uuid()::text, r.counter_id, 'voucher.redeemed', 'voucher', r.voucher_id, '{}', now(), '' FROM r;
