-- Webhook subscriptions belong to API clients (issue 12), not to one of
-- their keys: a client manages its own through the integration API, its
-- keys' scopes decide which events it may have, and revoking the client
-- (api_clients.revoked_at, which also revokes its keys) stops them.
ALTER TABLE api_clients ADD COLUMN revoked_at TIMESTAMP;

-- A key that has subscriptions but no client (an Open311 key) gets one,
-- named after its holder (api_keys.client), or joins the client of that
-- name; a client made here is revoked if all of those keys were.
INSERT INTO api_clients (name, per_minute, created_at, revoked_at)
SELECT k.client, 60, MIN(k.created_at), CASE WHEN COUNT(*) = COUNT(k.revoked_at) THEN MAX(k.revoked_at) END
FROM api_keys k
WHERE k.client_id IS NULL AND k.id IN (SELECT key_id FROM webhook_subscriptions)
  AND k.client NOT IN (SELECT name FROM api_clients)
GROUP BY k.client;
UPDATE api_keys SET client_id = (SELECT c.id FROM api_clients c WHERE c.name = api_keys.client)
WHERE client_id IS NULL AND id IN (SELECT key_id FROM webhook_subscriptions);

-- SQLite changes a column's reference only by rebuilding the table, and
-- the deliveries and attempts refer to it: the three are rebuilt, children
-- dropped first, with their ids (the queued jobs name deliveries by id).
-- A subscription of a key that was revoked got nothing; under its client,
-- whose other keys may be in use, it stays paused rather than resume.
CREATE TABLE webhook_subscriptions_new (
    id              INTEGER PRIMARY KEY,
    client_id       INTEGER NOT NULL REFERENCES api_clients (id),
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
INSERT INTO webhook_subscriptions_new (id, client_id, url, events, secret, secret_version, previous_secret, previous_until, active,
    created_by, created_at, updated_at)
SELECT s.id, k.client_id, s.url, s.events, s.secret, s.secret_version, s.previous_secret, s.previous_until,
    CASE WHEN k.revoked_at IS NULL THEN s.active ELSE 0 END, s.created_by, s.created_at, s.updated_at
FROM webhook_subscriptions s JOIN api_keys k ON k.id = s.key_id;

CREATE TABLE webhook_deliveries_new (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES webhook_subscriptions_new (id),
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
INSERT INTO webhook_deliveries_new SELECT id, subscription_id, event_id, state, attempts, last_status, last_error, next_at, done_at,
    redelivered_by, created_at FROM webhook_deliveries;

CREATE TABLE webhook_attempts_new (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries_new (id),
    attempt     INTEGER NOT NULL,
    at          TIMESTAMP NOT NULL,
    status      INTEGER NOT NULL,
    latency_ms  INTEGER NOT NULL,
    error       TEXT NOT NULL
);
INSERT INTO webhook_attempts_new SELECT id, delivery_id, attempt, at, status, latency_ms, error FROM webhook_attempts;

DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
ALTER TABLE webhook_subscriptions_new RENAME TO webhook_subscriptions;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
ALTER TABLE webhook_attempts_new RENAME TO webhook_attempts;
CREATE INDEX webhook_subscriptions_client ON webhook_subscriptions (client_id, id);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
