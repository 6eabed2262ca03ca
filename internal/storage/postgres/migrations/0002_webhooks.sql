-- 0002: webhooks and the event outbox, table for table those of the sqlite
-- backend.
--
-- An event is written by the transaction of the change that caused it,
-- with one delivery row per webhook that receives it; dispatchers on every
-- node claim due deliveries (FOR UPDATE SKIP LOCKED, then a lease), POST
-- them, and mark them delivered or due again. The payload is the exact
-- request body, kept as bytea (jsonb would reorder it).

CREATE TABLE webhooks (
    id       text        PRIMARY KEY,
    seq      bigint      GENERATED ALWAYS AS IDENTITY,
    doc      jsonb       NOT NULL, -- api.Webhook
    inserted timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_events (
    id        text        PRIMARY KEY,
    tenant_id text        NOT NULL, -- no foreign key: an event may outlive its tenant
    type      text        NOT NULL,
    payload   bytea       NOT NULL,
    created   timestamptz NOT NULL
);
CREATE INDEX webhook_events_created ON webhook_events (created);

CREATE TABLE webhook_deliveries (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     text        NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    webhook_id   text        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    attempts     integer     NOT NULL,
    next_attempt timestamptz NOT NULL,
    lease_until  timestamptz,
    delivered_at timestamptz,
    abandoned_at timestamptz,
    last_error   text        NOT NULL,
    UNIQUE (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt, id)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id);
CREATE INDEX webhook_deliveries_delivered ON webhook_deliveries (delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX webhook_deliveries_abandoned ON webhook_deliveries (abandoned_at) WHERE abandoned_at IS NOT NULL;
