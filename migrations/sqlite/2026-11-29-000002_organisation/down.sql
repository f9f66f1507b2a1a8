DROP TABLE audit_events;
DROP TABLE membership_applications;
DROP TABLE memberships;
DROP TABLE staff_stations;
ALTER TABLE users DROP COLUMN union_id;
DROP TABLE stations;
DROP TABLE unions;
