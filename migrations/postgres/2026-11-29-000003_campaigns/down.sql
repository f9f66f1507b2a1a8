DROP TABLE idempotency_keys;
DROP TABLE vouchers;
DROP TABLE campaign_stock_shards;
DROP TABLE campaign_stations;
DROP TABLE campaigns;
