DROP INDEX outbox_target_idx;
DROP TABLE webhook_attempts;
DROP TABLE webhook_endpoints;
