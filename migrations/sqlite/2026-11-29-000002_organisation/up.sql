-- The union tree. `path` is the chain of ids from the root ("/root/…/self/"), so a
-- subtree is a prefix match and authorization needs no recursive query.
CREATE TABLE unions (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES unions (id),
    path TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('national', 'province', 'city', 'district', 'grassroots')),
    region_code TEXT NOT NULL,
    onsite_auto_approve BOOLEAN NOT NULL DEFAULT FALSE,
    member_seq INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT REFERENCES users (id)
);
CREATE INDEX unions_parent_idx ON unions (parent_id);
CREATE INDEX unions_region_idx ON unions (region_code);

CREATE TABLE stations (
    id TEXT PRIMARY KEY,
    union_id TEXT NOT NULL REFERENCES unions (id),
    name TEXT NOT NULL,
    address TEXT,
    lat REAL,
    lng REAL,
    open_24h BOOLEAN NOT NULL DEFAULT FALSE,
    opening_hours TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX stations_union_idx ON stations (union_id);

-- Staff scope: a union_admin's union, a counter's union; a counter's stations.
ALTER TABLE users ADD COLUMN union_id TEXT REFERENCES unions (id);

CREATE TABLE staff_stations (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    station_id TEXT NOT NULL REFERENCES stations (id),
    PRIMARY KEY (user_id, station_id)
);

CREATE TABLE memberships (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    union_id TEXT NOT NULL REFERENCES unions (id),
    member_no TEXT NOT NULL,
    since TIMESTAMP NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    end_reason TEXT,
    UNIQUE (union_id, member_no)
);
-- One active membership per worker, whatever races.
CREATE UNIQUE INDEX memberships_one_active ON memberships (user_id) WHERE ended_at IS NULL;
CREATE INDEX memberships_union_idx ON memberships (union_id) WHERE ended_at IS NULL;

CREATE TABLE membership_applications (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('join', 'transfer')),
    user_id TEXT NOT NULL REFERENCES users (id),
    union_id TEXT NOT NULL REFERENCES unions (id),
    from_membership_id TEXT REFERENCES memberships (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    submitted_by TEXT NOT NULL REFERENCES users (id),
    station_id TEXT REFERENCES stations (id),
    reason TEXT,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    membership_id TEXT REFERENCES memberships (id),
    created_at TIMESTAMP NOT NULL
);
-- One open application (join or transfer) per worker.
CREATE UNIQUE INDEX membership_applications_one_pending ON membership_applications (user_id) WHERE status = 'pending';
CREATE INDEX membership_applications_union_idx ON membership_applications (union_id, status);

-- Who did what to whom, when: staff decisions that change a worker's standing.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    actor_id TEXT NOT NULL REFERENCES users (id),
    action TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_id);
