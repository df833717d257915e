-- SMART Backend Services authorization (package io.sluice.auth).

-- Client assertion ids already used at the token endpoint, shared by all replicas.
-- A row lives until the assertion it came from has expired; a second assertion with the same
-- (client_id, jti) is refused while the row lives. Expired rows are deleted by AuthStore.purgeExpiredAssertions.
CREATE TABLE auth_assertion_jti (
    client_id  text COLLATE "C" NOT NULL,
    jti        text COLLATE "C" NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX auth_assertion_jti_expiry ON auth_assertion_jti (expires_at);

-- Clients registered through the admin endpoint (clients from the clients file live in memory).
CREATE TABLE auth_client (
    client_id  text COLLATE "C" PRIMARY KEY,
    tenant     text COLLATE "C" NOT NULL,
    scopes     text NOT NULL,                 -- space-separated SMART system scopes the client may ask for
    jwks       text NOT NULL,                 -- public JWK Set (JSON) the client signs its assertions with
    created_at timestamptz NOT NULL
);
