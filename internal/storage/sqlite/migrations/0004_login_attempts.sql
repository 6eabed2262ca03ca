-- 0004: failed logins counted per login ID, not per user.
--
-- A login ID locks after the same failures whether or not a user has it,
-- so the lock reveals nothing about which accounts exist. The key is a
-- keyed hash of the folded login ID (never what was typed: people type
-- passwords into login fields). A record counts the password checks of
-- its window before each starts, so parallel attempts cannot check more
-- than the threshold; expires is when it stops mattering, and the reaper
-- deletes it after.

DROP TABLE login_failures;

CREATE TABLE login_attempts (
    tenant_id    TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key          TEXT    NOT NULL,
    count        INTEGER NOT NULL,
    first_at     INTEGER,
    last_failure INTEGER,
    locked_until INTEGER,
    expires      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX login_attempts_expires ON login_attempts (expires);
