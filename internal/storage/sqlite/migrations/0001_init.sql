-- 0001: the initial schema.
--
-- Conventions: times are INTEGER microseconds since the Unix epoch, UTC, and
-- NULL for the zero time.Time; JSON columns hold encoding/json text; "" is
-- stored as NULL only where uniqueness or a foreign key needs it (email,
-- username, a session's application, an API key's tenant). Case folding for
-- email and username happens in Go (see fold in sqlite.go), never in SQL.

CREATE TABLE tenants (
    id       TEXT    PRIMARY KEY,
    name     TEXT    NOT NULL,
    doc      TEXT    NOT NULL, -- api.Tenant as JSON
    inserted INTEGER NOT NULL
) STRICT;

CREATE TABLE applications (
    id                 TEXT    PRIMARY KEY,
    tenant_id          TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name               TEXT    NOT NULL,
    client_secret_hash BLOB,
    doc                TEXT    NOT NULL, -- api.Application as JSON, client secret blanked
    inserted           INTEGER NOT NULL
) STRICT;
CREATE INDEX applications_tenant ON applications (tenant_id);

CREATE TABLE users (
    id                       TEXT    PRIMARY KEY,
    tenant_id                TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email                    TEXT,
    email_folded             TEXT,
    username                 TEXT,
    username_folded          TEXT,
    password_scheme          TEXT    NOT NULL,
    password_factor          INTEGER NOT NULL,
    password_salt            TEXT    NOT NULL,
    password_hash            TEXT    NOT NULL,
    active                   INTEGER NOT NULL,
    verified                 INTEGER NOT NULL,
    password_change_required INTEGER NOT NULL,
    password_change_reason   TEXT    NOT NULL,
    expiry                   INTEGER,
    profile                  TEXT    NOT NULL, -- api.UserProfile as JSON
    inserted                 INTEGER,
    updated                  INTEGER,
    last_login               INTEGER,
    password_updated         INTEGER
) STRICT;
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email_folded) WHERE email_folded IS NOT NULL;
CREATE UNIQUE INDEX users_tenant_username ON users (tenant_id, username_folded) WHERE username_folded IS NOT NULL;

CREATE TABLE registrations (
    id             TEXT    PRIMARY KEY,
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id TEXT    NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    tenant_id      TEXT    NOT NULL,
    roles          TEXT    NOT NULL, -- []string as JSON
    username       TEXT    NOT NULL,
    verified       INTEGER NOT NULL,
    data           TEXT    NOT NULL, -- map[string]any as JSON
    inserted       INTEGER,
    updated        INTEGER,
    last_login     INTEGER,
    UNIQUE (user_id, application_id)
) STRICT;
CREATE INDEX registrations_application ON registrations (application_id);

CREATE TABLE sessions (
    id                  TEXT    PRIMARY KEY,
    tenant_id           TEXT    NOT NULL,
    user_id             TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id      TEXT    REFERENCES applications (id) ON DELETE CASCADE,
    token_hash          BLOB    NOT NULL UNIQUE,
    previous_hash       BLOB,
    sealed_successor    BLOB,
    rotated_at          INTEGER,
    generation          INTEGER NOT NULL,
    inserted            INTEGER,
    start_instant       INTEGER,
    expires_at          INTEGER,
    auth_time           INTEGER,
    authentication_type TEXT    NOT NULL,
    scopes              TEXT    NOT NULL, -- []string as JSON
    device              TEXT    NOT NULL, -- api.DeviceInfo as JSON
    last_used           INTEGER,
    dpop_jkt            TEXT    NOT NULL,
    revoked_at          INTEGER,
    revoke_reason       TEXT    NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_application ON sessions (application_id);
CREATE INDEX sessions_tenant ON sessions (tenant_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Every value a session's token had before its current one, for reuse
-- detection; the most recent is also sessions.previous_hash.
CREATE TABLE session_former_tokens (
    token_hash BLOB    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    rotated_at INTEGER
) STRICT;
CREATE INDEX session_former_tokens_session ON session_former_tokens (session_id);

CREATE TABLE signing_keys (
    id         TEXT    PRIMARY KEY,
    kid        TEXT    NOT NULL UNIQUE,
    algorithm  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    private    BLOB,
    public_pem TEXT    NOT NULL,
    inserted   INTEGER,
    retired_at INTEGER,
    expires_at INTEGER
) STRICT;

CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    hash        BLOB    NOT NULL UNIQUE,
    tenant_id   TEXT    REFERENCES tenants (id) ON DELETE CASCADE, -- NULL: every tenant
    description TEXT    NOT NULL,
    endpoints   TEXT    NOT NULL, -- map[string][]string as JSON
    inserted    INTEGER
) STRICT;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE login_failures (
    user_id      TEXT    PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    count        INTEGER NOT NULL,
    first_at     INTEGER,
    last_at      INTEGER,
    locked_until INTEGER
) STRICT;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
