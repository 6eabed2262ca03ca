-- 0008: the authorization code flow: codes and the hosted login page's
-- SSO sessions.
--
-- Both are found by the SHA-256 of their value, which is never stored. A
-- code lives a minute and is redeemed once (used_at set by one UPDATE ...
-- WHERE used_at IS NULL); session_id is the refresh-token session its
-- redemption started, for a second redemption to revoke. Deleting a user
-- or an application deletes its codes and SSO sessions; GarbageCollect's
-- companion, CollectAuthorizations, deletes the expired ones.

CREATE TABLE authorization_codes (
    hash           BLOB    PRIMARY KEY,
    tenant_id      TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    application_id TEXT    NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    scopes         TEXT    NOT NULL,
    dpop_jkt       TEXT    NOT NULL,
    sso_session_id TEXT    NOT NULL,
    auth_time      INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    session_id     TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);

CREATE TABLE sso_sessions (
    id         TEXT    PRIMARY KEY,
    hash       BLOB    NOT NULL UNIQUE,
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time  INTEGER NOT NULL,
    last_used  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sso_sessions_expires ON sso_sessions (expires_at);
CREATE INDEX sso_sessions_user ON sso_sessions (user_id);
