-- Third-party apps (delivery and ride-hailing platforms, a union's own office systems),
-- authenticated by OAuth 2.0 client credentials. The secret is 256 random bits, kept only
-- as its SHA-256.
CREATE TABLE partners (
    id TEXT PRIMARY KEY,
    union_id TEXT NOT NULL REFERENCES unions (id),
    name TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    secret_rotated_at TIMESTAMP,
    disabled_at TIMESTAMP
);
CREATE INDEX partners_union_idx ON partners (union_id);

-- A worker's permission for a partner to read them (revocable at once).
CREATE TABLE partner_grants (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX partner_grants_live_idx ON partner_grants (user_id, partner_id) WHERE revoked_at IS NULL;
CREATE INDEX partner_grants_partner_idx ON partner_grants (partner_id, id);

-- A platform's word that a phone's owner works as `occupation`: applied at once, or when
-- that phone registers within 90 days. The phone is kept as a keyed hash (to match) and
-- masked (to show admins), never in the clear.
CREATE TABLE attestations (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    phone_hash TEXT NOT NULL,
    phone_masked TEXT NOT NULL,
    occupation TEXT NOT NULL CHECK (occupation IN ('courier', 'food_delivery', 'ride_hailing', 'truck_driver', 'sanitation', 'domestic', 'other')),
    employer TEXT,
    reference TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    applied_at TIMESTAMP,
    applied_user_id TEXT REFERENCES users (id)
);
CREATE INDEX attestations_phone_idx ON attestations (phone_hash);
CREATE INDEX attestations_partner_idx ON attestations (partner_id, id);

-- Who verified a worker's occupation (NULL: nobody, or union staff).
ALTER TABLE users ADD COLUMN occupation_verified_by TEXT REFERENCES partners (id);

-- Every call a partner makes: the partner audit trail.
CREATE TABLE partner_calls (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX partner_calls_partner_idx ON partner_calls (partner_id, id);
