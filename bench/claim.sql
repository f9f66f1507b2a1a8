-- The statements one claim request runs on PostgreSQL, for pgbench (see examples/claim_bench.rs, which
-- fills in :campaign and runs this with -c 64). ON CONFLICT stands in for the app's
-- savepoint around the voucher insert (pgbench would abort a client on the error).
\set n random(1, :users)
\set shard random(0, 15)
-- the access token's session check (then the transaction: SQLite alone pre-checks outside it)
SELECT s.revoked_at, u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = 'pgb-s-' || :n AND s.user_id = 'pgb-' || :n;
-- the claim transaction
BEGIN;
SELECT id, status, claim_starts_at, claim_ends_at, rules, per_worker_limit, redeem_until FROM campaigns WHERE id = :campaign;
SELECT occupation, occupation_verified, region_code, hardship_archived FROM users WHERE id = 'pgb-' || :n;
SELECT un.path, m.since FROM memberships m JOIN unions un ON un.id = m.union_id WHERE m.user_id = 'pgb-' || :n AND m.ended_at IS NULL LIMIT 1;
SELECT id FROM vouchers WHERE campaign_id = :campaign AND user_id = 'pgb-' || :n ORDER BY claim_no DESC;
SELECT remaining FROM campaign_stock_shards WHERE campaign_id = :campaign;
SELECT shard FROM campaign_stock_shards WHERE campaign_id = :campaign AND remaining > 0;
INSERT INTO vouchers (id, campaign_id, user_id, claim_no, code_hash, stock_shard, status, issued_at, expires_at)
  VALUES (gen_random_uuid()::text, :campaign, 'pgb-' || :n, 1, md5(random()::text) || md5(random()::text), :shard, 'issued', now(), now() + interval '7 days')
  ON CONFLICT DO NOTHING;
UPDATE campaign_stock_shards SET remaining = remaining - 1 WHERE campaign_id = :campaign AND shard = :shard AND remaining > 0;
SELECT id, status FROM vouchers WHERE campaign_id = :campaign AND user_id = 'pgb-' || :n;
COMMIT;
