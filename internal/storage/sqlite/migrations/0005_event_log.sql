-- 0005: the outbox as the webhook event log.
--
-- keep_until keeps an event past its last delivery: a revocation stays for
-- as long as the JWTs it concerns may live, so that a receiver that was
-- down, or restarted, catches up on it. NULL: the event goes with its last
-- delivery, as before. The index serves searches by type and time.

ALTER TABLE webhook_events ADD COLUMN keep_until INTEGER;
CREATE INDEX webhook_events_type_created ON webhook_events (type, created);
