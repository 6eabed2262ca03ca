-- 0008: the authorization code flow, as in the sqlite backend: codes and
-- the hosted login page's SSO sessions.
--
-- Both are found by the SHA-256 of their value, which is never stored. A
-- code lives a minute and is redeemed once (used_at set by one UPDATE ...
-- WHERE used_at IS NULL); session_id is the refresh-token session its
-- redemption started, for a second redemption to revoke. Deleting a user
-- or an application deletes its codes and SSO sessions; GarbageCollect's
-- companion, CollectAuthorizations, deletes the expired ones.

CREATE TABLE authorization_codes (
    hash           bytea   PRIMARY KEY,
    tenant_id      text    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    application_id text    NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id        text    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   text    NOT NULL,
    code_challenge text    NOT NULL,
    nonce          text    NOT NULL,
    scopes         jsonb   NOT NULL, -- []string
    dpop_jkt       text    NOT NULL,
    sso_session_id text    NOT NULL,
    auth_time      timestamptz NOT NULL,
    created        timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    session_id     text
);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);

CREATE TABLE sso_sessions (
    id         text    PRIMARY KEY,
    hash       bytea   NOT NULL UNIQUE,
    tenant_id  text    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    text    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time  timestamptz NOT NULL,
    last_used  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sso_sessions_expires ON sso_sessions (expires_at);
CREATE INDEX sso_sessions_user ON sso_sessions (user_id);
