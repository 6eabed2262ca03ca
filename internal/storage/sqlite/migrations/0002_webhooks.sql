-- 0002: webhooks and the event outbox.
--
-- An event is written by the transaction of the change that caused it,
-- with one delivery row per webhook that receives it; the dispatcher claims
-- due deliveries (a lease), POSTs them, and marks them delivered or due
-- again. The payload is the exact request body, kept as bytes.

CREATE TABLE webhooks (
    id       TEXT    PRIMARY KEY,
    doc      TEXT    NOT NULL, -- api.Webhook as JSON
    inserted INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_events (
    id        TEXT    PRIMARY KEY,
    tenant_id TEXT    NOT NULL, -- no foreign key: an event may outlive its tenant
    type      TEXT    NOT NULL,
    payload   BLOB    NOT NULL,
    created   INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_events_created ON webhook_events (created);

CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY,
    event_id     TEXT    NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    webhook_id   TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    attempts     INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    lease_until  INTEGER,
    delivered_at INTEGER,
    abandoned_at INTEGER,
    last_error   TEXT    NOT NULL,
    UNIQUE (event_id, webhook_id)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id);
CREATE INDEX webhook_deliveries_delivered ON webhook_deliveries (delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX webhook_deliveries_abandoned ON webhook_deliveries (abandoned_at) WHERE abandoned_at IS NOT NULL;
