DROP TABLE join_codes;
DROP INDEX refresh_tokens_parent_id_idx;
ALTER TABLE refresh_tokens DROP COLUMN parent_id;
ALTER TABLE sessions DROP COLUMN refreshed_at;
