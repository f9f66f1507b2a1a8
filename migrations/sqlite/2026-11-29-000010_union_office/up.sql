-- The union office (contract v1.1): staff that can be disabled or made to change their
-- password, worker password resets, roster imports, and the hash-chained audit trail.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP NULL;
ALTER TABLE users ADD COLUMN password_change_required BOOLEAN NOT NULL DEFAULT 0;

-- Actors are users, partners or the system (NULL): the table is rebuilt without the
-- foreign key and with a nullable actor (SQLite cannot alter a column).
CREATE TABLE audit_events_rebuilt (
    id TEXT PRIMARY KEY,
    actor_id TEXT NULL,
    action TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO audit_events_rebuilt SELECT id, actor_id, action, subject_id, detail, created_at FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_rebuilt RENAME TO audit_events;
CREATE INDEX audit_events_subject_idx ON audit_events (subject_id);
ALTER TABLE audit_events ADD COLUMN subject_type TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN union_id TEXT NULL;
-- Written by the sealer, never by the change itself (so writers never queue on the chain).
ALTER TABLE audit_events ADD COLUMN seq BIGINT NULL;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT NULL;
ALTER TABLE audit_events ADD COLUMN hash TEXT NULL;
-- HMAC of the entry under a key derived from VOUCHER_KEY, written with the entry: an
-- entry slipped in or edited with plain SQL (chained or not yet) cannot carry a valid one.
ALTER TABLE audit_events ADD COLUMN mac TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX audit_events_seq_idx ON audit_events (seq);
CREATE INDEX audit_events_unsealed_idx ON audit_events (created_at, id) WHERE seq IS NULL;
CREATE INDEX audit_events_action_idx ON audit_events (action);
-- The chain's head "seq:hash"; the sealer's row lock, and a witness of the last entry.
INSERT INTO app_settings (key, value) VALUES ('audit_head', '0:') ON CONFLICT DO NOTHING;

-- A worker's password reset: the 6-digit code is derived from the server key and the id,
-- so neither it nor a hash of it is stored.
CREATE TABLE password_resets (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at TIMESTAMP NULL
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id, created_at);

-- Roster lines whose phone has not registered yet; applied when it does. One pending
-- line per phone (a keyed hash, as for attestations).
CREATE TABLE roster_entries (
    phone_tag TEXT PRIMARY KEY,
    union_id TEXT NOT NULL REFERENCES unions (id),
    name TEXT NOT NULL,
    occupation TEXT NULL,
    region_code TEXT NULL,
    member_since TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX roster_entries_union_idx ON roster_entries (union_id);

-- A worker is told when a union ends their membership (SQLite cannot alter a CHECK: the
-- inbox is rebuilt with the wider list).
CREATE TABLE notifications_rebuilt (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('membership_approved', 'membership_rejected',
        'membership_ended', 'voucher_expiring', 'voucher_expired', 'voucher_revoked',
        'redemption_reversed', 'voucher_allocated')),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    voucher_id TEXT REFERENCES vouchers (id) ON DELETE CASCADE,
    campaign_id TEXT REFERENCES campaigns (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
INSERT INTO notifications_rebuilt SELECT id, user_id, kind, title, body, voucher_id, campaign_id, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_rebuilt RENAME TO notifications;
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
