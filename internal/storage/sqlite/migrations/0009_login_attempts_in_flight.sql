-- 0009: the checks running apart from the failures.
--
-- count now holds the failed checks of a window, counted when each
-- completes, and in_flight the checks running, counted before each starts
-- and given back when it ends: failures and running checks together stay
-- within the threshold, and only failures start a lock, so that parallel
-- logins with the right password lock nobody out. A record's count as it
-- was (its reserved checks) is kept as failures: a lock in force stays.

ALTER TABLE login_attempts ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
