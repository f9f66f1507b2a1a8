-- The shortest correct claim this schema allows, in one round trip (P1's anchor; run by
-- examples/bench with pgbench -M prepared). Everything the service decides is here:
-- the session (not revoked) and its worker (not disabled), the campaign's rules for this
-- campaign (couriers and riders of 3310xx), its status and window, the per-worker limit
-- (no voucher held yet; the unique key settles a race), the conditional decrement of one
-- stock shard, the voucher, and the audit entry of the change. Each transaction takes the
-- next worker of its own (a sequence), as each HTTP claim has its own rider.
\set shard random(0, 15)
WITH w AS (
  SELECT u.id AS user_id
  FROM bench_workers b
  JOIN sessions s ON s.id = b.session_id AND s.revoked_at IS NULL
  JOIN users u ON u.id = s.user_id AND u.disabled_at IS NULL
  WHERE b.n = (SELECT nextval('bench_worker_seq'))
    AND u.occupation IN ('food_delivery', 'courier') AND u.region_code LIKE '3310%'
), c AS (
  SELECT id, redeem_until FROM campaigns
  WHERE id = :campaign AND status = 'published' AND claim_starts_at <= now() AND claim_ends_at > now()
), taken AS (
  UPDATE campaign_stock_shards SET remaining = remaining - 1
  WHERE campaign_id = (SELECT id FROM c) AND shard = :shard AND remaining > 0
    AND EXISTS (SELECT 1 FROM w)
    AND NOT EXISTS (SELECT 1 FROM vouchers v JOIN w ON v.user_id = w.user_id WHERE v.campaign_id = :campaign)
  RETURNING shard
), v AS (
  INSERT INTO vouchers (id, campaign_id, user_id, claim_no, code_hash, stock_shard, status, issued_at, expires_at)
  SELECT gen_random_uuid()::text, c.id, w.user_id, 1, md5(random()::text) || md5(random()::text), taken.shard,
         'issued', now(), c.redeem_until
  FROM w, taken, c
  RETURNING id, user_id
)
INSERT INTO audit_events (id, actor_id, action, subject_type, subject_id, detail, created_at, mac)
SELECT gen_random_uuid()::text, v.user_id, 'voucher.claimed', 'voucher', v.id, '{}', now(), '' FROM v;
