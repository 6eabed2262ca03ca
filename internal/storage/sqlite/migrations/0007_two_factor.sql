-- 0007: two-factor logins.
--
-- two_factor_methods: a user's TOTP methods, the secret sealed under the
-- master key (token.Sealer), never in the clear.
-- recovery_codes: SHA-256 hashes of a user's unused recovery codes; a
-- code is spent by deleting its row.
-- two_factor_codes: the (user, method, time step) of every accepted TOTP
-- code until its window closes: the primary key refuses a second use of
-- one code on any connection or process.
-- two_factor_logins: logins waiting for their code (twoFactorId), by the
-- SHA-256 of the id; spent by deleting the row.
-- two_factor_trusts: trusted computers (twoFactorTrustId), by hash.

CREATE TABLE two_factor_methods (
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id            TEXT    NOT NULL,
    method        TEXT    NOT NULL,
    secret_sealed BLOB    NOT NULL,
    inserted      INTEGER NOT NULL,
    PRIMARY KEY (user_id, id)
) STRICT;

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BLOB NOT NULL,
    PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE two_factor_codes (
    user_id   TEXT    NOT NULL,
    method_id TEXT    NOT NULL,
    step      INTEGER NOT NULL,
    expires   INTEGER NOT NULL,
    PRIMARY KEY (user_id, method_id, step)
) STRICT, WITHOUT ROWID;
CREATE INDEX two_factor_codes_expires ON two_factor_codes (expires);

CREATE TABLE two_factor_logins (
    hash           BLOB    PRIMARY KEY,
    tenant_id      TEXT    NOT NULL,
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id TEXT    NOT NULL,
    login_key      TEXT    NOT NULL,
    address        TEXT    NOT NULL,
    dpop_jkt       TEXT    NOT NULL,
    inserted       INTEGER NOT NULL,
    expires        INTEGER NOT NULL
) STRICT;
CREATE INDEX two_factor_logins_expires ON two_factor_logins (expires);
CREATE INDEX two_factor_logins_user ON two_factor_logins (user_id);

CREATE TABLE two_factor_trusts (
    hash     BLOB    PRIMARY KEY,
    user_id  TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inserted INTEGER NOT NULL,
    expires  INTEGER NOT NULL
) STRICT;
CREATE INDEX two_factor_trusts_expires ON two_factor_trusts (expires);
CREATE INDEX two_factor_trusts_user ON two_factor_trusts (user_id);
