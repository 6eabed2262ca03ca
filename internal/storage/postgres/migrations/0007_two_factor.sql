-- 0007: two-factor logins, as in the sqlite backend.
--
-- two_factor_methods: a user's TOTP methods, the secret sealed under the
-- master key (token.Sealer), never in the clear.
-- recovery_codes: SHA-256 hashes of a user's unused recovery codes; a
-- code is spent by deleting its row (one DELETE: of concurrent spenders on
-- any node, one deletes it).
-- two_factor_codes: the (user, method, time step) of every accepted TOTP
-- code until its window closes: the primary key refuses a second use of
-- one code on any node.
-- two_factor_logins: logins waiting for their code (twoFactorId), by the
-- SHA-256 of the id; spent by deleting the row.
-- two_factor_trusts: trusted computers (twoFactorTrustId), by hash.

CREATE TABLE two_factor_methods (
    user_id       text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id            text        NOT NULL,
    method        text        NOT NULL,
    secret_sealed bytea       NOT NULL,
    inserted      timestamptz NOT NULL,
    PRIMARY KEY (user_id, id)
);

CREATE TABLE recovery_codes (
    user_id text  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    bytea NOT NULL,
    PRIMARY KEY (user_id, hash)
);

CREATE TABLE two_factor_codes (
    user_id   text        NOT NULL,
    method_id text        NOT NULL,
    step      bigint      NOT NULL,
    expires   timestamptz NOT NULL,
    PRIMARY KEY (user_id, method_id, step)
);
CREATE INDEX two_factor_codes_expires ON two_factor_codes (expires);

CREATE TABLE two_factor_logins (
    hash           bytea       PRIMARY KEY,
    tenant_id      text        NOT NULL,
    user_id        text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id text        NOT NULL,
    login_key      text        NOT NULL,
    address        text        NOT NULL,
    dpop_jkt       text        NOT NULL,
    inserted       timestamptz NOT NULL,
    expires        timestamptz NOT NULL
);
CREATE INDEX two_factor_logins_expires ON two_factor_logins (expires);
CREATE INDEX two_factor_logins_user ON two_factor_logins (user_id);

CREATE TABLE two_factor_trusts (
    hash     bytea       PRIMARY KEY,
    user_id  text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inserted timestamptz NOT NULL,
    expires  timestamptz NOT NULL
);
CREATE INDEX two_factor_trusts_expires ON two_factor_trusts (expires);
CREATE INDEX two_factor_trusts_user ON two_factor_trusts (user_id);
