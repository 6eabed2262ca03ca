-- 0001: the initial schema, table for table the one of the sqlite backend.
--
-- Conventions: times are timestamptz holding UTC microseconds (truncated in
-- Go before they are sent), NULL for the zero time.Time; documents and
-- lists are jsonb; "" is stored as NULL only where uniqueness or a foreign
-- key needs it (email, username, a session's application, an API key's
-- tenant). Case folding for email and username happens in Go
-- (strings.ToLower), never in SQL: lower() depends on the database's
-- collation and locale. seq keeps creation order, which SQLite gets from
-- rowid.

CREATE TABLE tenants (
    id       text        PRIMARY KEY,
    seq      bigint      GENERATED ALWAYS AS IDENTITY,
    name     text        NOT NULL,
    doc      jsonb       NOT NULL, -- api.Tenant
    inserted timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE applications (
    id                 text        PRIMARY KEY,
    seq                bigint      GENERATED ALWAYS AS IDENTITY,
    tenant_id          text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name               text        NOT NULL,
    client_secret_hash bytea,
    doc                jsonb       NOT NULL, -- api.Application, client secret blanked
    inserted           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applications_tenant ON applications (tenant_id, seq);

CREATE TABLE users (
    id                       text        PRIMARY KEY,
    tenant_id                text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email                    text,
    email_folded             text,
    username                 text,
    username_folded          text,
    password_scheme          text        NOT NULL,
    password_factor          integer     NOT NULL,
    password_salt            text        NOT NULL,
    password_hash            text        NOT NULL,
    active                   boolean     NOT NULL,
    verified                 boolean     NOT NULL,
    password_change_required boolean     NOT NULL,
    password_change_reason   text        NOT NULL,
    expiry                   timestamptz,
    profile                  jsonb       NOT NULL, -- api.UserProfile
    inserted                 timestamptz,
    updated                  timestamptz,
    last_login               timestamptz,
    password_updated         timestamptz
);
-- NULLs are distinct: users without an email (or username) never collide.
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email_folded);
CREATE UNIQUE INDEX users_tenant_username ON users (tenant_id, username_folded);

CREATE TABLE registrations (
    id             text        PRIMARY KEY,
    seq            bigint      GENERATED ALWAYS AS IDENTITY,
    user_id        text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id text        NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    tenant_id      text        NOT NULL,
    roles          jsonb       NOT NULL, -- []string
    username       text        NOT NULL,
    verified       boolean     NOT NULL,
    data           jsonb       NOT NULL, -- map[string]any
    inserted       timestamptz,
    updated        timestamptz,
    last_login     timestamptz,
    UNIQUE (user_id, application_id)
);
CREATE INDEX registrations_application ON registrations (application_id);

CREATE TABLE sessions (
    id                  text        PRIMARY KEY,
    seq                 bigint      GENERATED ALWAYS AS IDENTITY,
    tenant_id           text        NOT NULL,
    user_id             text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id      text        REFERENCES applications (id) ON DELETE CASCADE,
    token_hash          bytea       NOT NULL UNIQUE,
    previous_hash       bytea,
    sealed_successor    bytea,
    rotated_at          timestamptz,
    generation          integer     NOT NULL,
    inserted            timestamptz,
    start_instant       timestamptz,
    expires_at          timestamptz,
    auth_time           timestamptz,
    authentication_type text        NOT NULL,
    scopes              jsonb       NOT NULL, -- []string
    device              jsonb       NOT NULL, -- api.DeviceInfo
    last_used           timestamptz,
    dpop_jkt            text        NOT NULL,
    revoked_at          timestamptz,
    revoke_reason       text        NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_application ON sessions (application_id);
CREATE INDEX sessions_tenant ON sessions (tenant_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Every value a session's token had before its current one, for reuse
-- detection; the most recent is also sessions.previous_hash.
CREATE TABLE session_former_tokens (
    token_hash bytea       PRIMARY KEY,
    session_id text        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    rotated_at timestamptz
);
CREATE INDEX session_former_tokens_session ON session_former_tokens (session_id);

CREATE TABLE signing_keys (
    id         text        PRIMARY KEY,
    seq        bigint      GENERATED ALWAYS AS IDENTITY,
    kid        text        NOT NULL UNIQUE,
    algorithm  text        NOT NULL,
    name       text        NOT NULL,
    private    bytea,
    public_pem text        NOT NULL,
    inserted   timestamptz,
    retired_at timestamptz,
    expires_at timestamptz
);

CREATE TABLE api_keys (
    id          text        PRIMARY KEY,
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    hash        bytea       NOT NULL UNIQUE,
    tenant_id   text        REFERENCES tenants (id) ON DELETE CASCADE, -- NULL: every tenant
    description text        NOT NULL,
    endpoints   jsonb       NOT NULL, -- map[string][]string
    inserted    timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE login_failures (
    user_id      text        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    count        integer     NOT NULL,
    first_at     timestamptz,
    last_at      timestamptz,
    locked_until timestamptz
);

CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
