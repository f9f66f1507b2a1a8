-- An eligibility check's facts in one statement (P4's anchor): the session, the worker's
-- facts, their current membership's union path, the campaign, the vouchers they hold of
-- it and the stock remaining.
\set n random(1, :workers)
SELECT u.occupation, u.region_code, u.occupation_verified, u.hardship_archived,
       (SELECT un.path FROM memberships m JOIN unions un ON un.id = m.union_id
         WHERE m.user_id = u.id AND m.ended_at IS NULL LIMIT 1) AS union_path,
       c.status, c.claim_starts_at, c.claim_ends_at, c.rules, c.per_worker_limit,
       (SELECT count(*) FROM vouchers v WHERE v.campaign_id = c.id AND v.user_id = u.id) AS held,
       (SELECT coalesce(sum(remaining), 0) FROM campaign_stock_shards WHERE campaign_id = c.id) AS remaining
FROM bench_workers b
JOIN sessions s ON s.id = b.session_id AND s.revoked_at IS NULL
JOIN users u ON u.id = s.user_id AND u.disabled_at IS NULL
CROSS JOIN campaigns c
WHERE b.n = :n AND c.id = :campaign;
