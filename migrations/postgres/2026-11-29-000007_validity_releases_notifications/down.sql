DROP TABLE outbox;
DROP TABLE notifications;
DROP TABLE voucher_reminders;
DROP INDEX vouchers_unreturned_idx;
ALTER TABLE vouchers DROP COLUMN admin_reminded_at;
ALTER TABLE vouchers DROP COLUMN stock_returned_at;
DROP TABLE campaign_stock_releases;
ALTER TABLE campaigns DROP COLUMN next_release_at;
ALTER TABLE campaigns DROP COLUMN voucher_valid_days;
