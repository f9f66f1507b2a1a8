DROP TABLE partner_calls;
ALTER TABLE users DROP COLUMN occupation_verified_by;
DROP TABLE attestations;
DROP TABLE partner_grants;
DROP TABLE partners;
