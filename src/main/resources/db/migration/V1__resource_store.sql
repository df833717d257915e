-- Versioned FHIR resource store.
-- Every write adds a row to resource_version; a delete adds a tombstone version (deleted = true,
-- content NULL). The state of the store at instant T is
--   valid_from <= T AND (valid_to IS NULL OR valid_to > T) AND NOT deleted
-- and exports read exactly that (see store.SnapshotQueries). Ids use the "C" collation so keyset
-- cursors order bytewise and the same on every server.

CREATE TABLE resource (
    tenant        text COLLATE "C" NOT NULL,
    resource_type text COLLATE "C" NOT NULL,
    id            text COLLATE "C" NOT NULL,
    version_id    bigint NOT NULL,
    deleted       boolean NOT NULL,
    last_updated  timestamptz NOT NULL,
    PRIMARY KEY (tenant, resource_type, id)
);

CREATE TABLE resource_version (
    tenant        text COLLATE "C" NOT NULL,
    resource_type text COLLATE "C" NOT NULL,
    id            text COLLATE "C" NOT NULL,
    version_id    bigint NOT NULL,
    valid_from    timestamptz NOT NULL,          -- meta.lastUpdated of this version
    valid_to      timestamptz,                   -- when the next version replaced it; NULL while current
    deleted       boolean NOT NULL DEFAULT false,
    content       text,                          -- raw minified JSON as served; NULL for tombstones
    PRIMARY KEY (tenant, resource_type, id, version_id),
    CHECK (deleted = (content IS NULL)),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);

-- Deletions in a window (the manifest's deleted[] for _since requests).
CREATE INDEX resource_version_tombstones ON resource_version (tenant, resource_type, valid_from) WHERE deleted;
-- _since / _until on the current version of a type.
CREATE INDEX resource_version_by_time ON resource_version (tenant, resource_type, valid_from);

-- Patient compartment membership of each version, computed at write time from the FHIR R4
-- Patient CompartmentDefinition. A Patient is a member of its own compartment.
CREATE TABLE resource_compartment (
    tenant        text COLLATE "C" NOT NULL,
    patient_id    text COLLATE "C" NOT NULL,
    resource_type text COLLATE "C" NOT NULL,
    id            text COLLATE "C" NOT NULL,
    version_id    bigint NOT NULL,
    PRIMARY KEY (tenant, patient_id, resource_type, id, version_id)
);
CREATE INDEX resource_compartment_by_resource ON resource_compartment (tenant, resource_type, id, version_id);

-- Group.member of each Group version: queryable as of an instant via the Group's version validity
-- plus the member's own period and inactive flag.
CREATE TABLE group_member (
    tenant        text COLLATE "C" NOT NULL,
    group_id      text COLLATE "C" NOT NULL,
    version_id    bigint NOT NULL,
    member_type   text COLLATE "C" NOT NULL,     -- Patient or Group (nested)
    member_id     text COLLATE "C" NOT NULL,
    period_start  timestamptz,
    period_end    timestamptz,
    inactive      boolean NOT NULL DEFAULT false
);
CREATE INDEX group_member_by_group ON group_member (tenant, group_id, version_id);
