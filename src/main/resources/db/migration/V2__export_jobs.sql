-- Durable export job queue with leases and fencing tokens.
CREATE TABLE export_job (
    id               uuid PRIMARY KEY,
    tenant           text COLLATE "C" NOT NULL,
    status           text NOT NULL CHECK (status IN ('accepted', 'in-progress', 'complete', 'error', 'cancelled')),
    level            text NOT NULL CHECK (level IN ('system', 'patient', 'group')),
    group_id         text,
    request          jsonb NOT NULL,               -- normalized request parameters
    request_url      text NOT NULL,                -- the kick-off URL as the client sent it
    owner            text NOT NULL DEFAULT '',     -- client id; empty without auth
    transaction_time timestamptz NOT NULL,         -- snapshot instant, fixed at kick-off
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    completed_at     timestamptz,
    error_message    text,
    worker_id        text,
    lease_expires_at timestamptz,
    fencing_token    bigint NOT NULL DEFAULT 0,
    heartbeat_at     timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    CHECK (level <> 'group' OR group_id IS NOT NULL)
);
CREATE INDEX export_job_claimable ON export_job (created_at) WHERE status IN ('accepted', 'in-progress');
CREATE INDEX export_job_by_tenant ON export_job (tenant, status);
CREATE INDEX export_job_finished ON export_job (completed_at) WHERE status IN ('complete', 'error', 'cancelled');

-- Resume state per (job, part kind, resource type): one row per phase of the job.
-- kind output: resources of the type; deleted: tombstones of the type (written as Bundles);
-- error: the single OperationOutcome part of lenient-mode issues (resource_type OperationOutcome).
-- cursor/exported/next_part advance only in the transaction that records a part (export_part).
CREATE TABLE export_type_progress (
    job_id         uuid NOT NULL REFERENCES export_job (id) ON DELETE CASCADE,
    kind           text NOT NULL DEFAULT 'output' CHECK (kind IN ('output', 'error', 'deleted')),
    resource_type  text COLLATE "C" NOT NULL,
    cursor_id      text COLLATE "C",               -- last exported id (keyset); NULL = from the start
    exported       bigint NOT NULL DEFAULT 0,
    total          bigint,                         -- snapshot size when known
    next_part      integer NOT NULL DEFAULT 0,
    done           boolean NOT NULL DEFAULT false,
    PRIMARY KEY (job_id, kind, resource_type)
);

-- Finalized, recorded output files. For kind 'deleted', resource_type is the type of the deleted
-- resources (the lines are Bundles; the manifest lists them with type Bundle). Only rows here are ever listed in a manifest.
CREATE TABLE export_part (
    job_id         uuid NOT NULL REFERENCES export_job (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('output', 'error', 'deleted')),
    resource_type  text COLLATE "C" NOT NULL,
    part_index     integer NOT NULL,
    location       text NOT NULL,
    resource_count bigint NOT NULL,
    byte_count     bigint NOT NULL,
    sha256         text NOT NULL,
    fencing_token  bigint NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (job_id, kind, resource_type, part_index)
);
