-- 0004: failed logins counted per login ID, not per user, as in the sqlite
-- backend.
--
-- A login ID locks after the same failures whether or not a user has it,
-- so the lock reveals nothing about which accounts exist. The key is a
-- keyed hash of the folded login ID (never what was typed). A record
-- counts the password checks of its window before each starts (one row
-- locked FOR UPDATE per login ID, so parallel attempts on any nodes cannot
-- check more than the threshold); expires is when it stops mattering, and
-- the reaper deletes it after.

DROP TABLE login_failures;

CREATE TABLE login_attempts (
    tenant_id    text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key          text        NOT NULL,
    count        integer     NOT NULL,
    first_at     timestamptz,
    last_failure timestamptz,
    locked_until timestamptz,
    expires      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX login_attempts_expires ON login_attempts (expires);
