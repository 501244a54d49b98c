-- Webhooks (issue 12): other systems subscribe, per API key (the client
-- that holds it, internal/apikey), to events of cases, complaints and
-- ratings; each event is recorded in the transaction of the change that
-- causes it, with one delivery per subscription, posted by a durable job
-- (internal/webhook). The signing secret is sealed with the personal-data
-- keys; the previous one is kept for a day after a rotation so that
-- receivers can switch at their pace.
CREATE TABLE webhook_subscriptions (
    id              INTEGER PRIMARY KEY,
    key_id          INTEGER NOT NULL REFERENCES api_keys (id),
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    secret          TEXT NOT NULL,
    secret_version  INTEGER NOT NULL,
    previous_secret TEXT NOT NULL DEFAULT '',
    previous_until  TIMESTAMP,
    active          INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

-- An event as sent: its public id (the receiver's idempotency key), its
-- type and the JSON body, the same for every subscription and attempt.
CREATE TABLE webhook_events (
    id         INTEGER PRIMARY KEY,
    public_id  TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- One event to one subscription, and where it stands; a manual
-- redelivery is a delivery of its own (redelivered_by names who).
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES webhook_subscriptions (id),
    event_id        INTEGER NOT NULL REFERENCES webhook_events (id),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_at         TIMESTAMP,
    done_at         TIMESTAMP,
    redelivered_by  TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);

-- Every attempt of a delivery: the answer's status (0: none), the time it
-- took and the error.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    attempt     INTEGER NOT NULL,
    at          TIMESTAMP NOT NULL,
    status      INTEGER NOT NULL,
    latency_ms  INTEGER NOT NULL,
    error       TEXT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
