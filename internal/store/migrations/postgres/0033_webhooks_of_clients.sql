-- Webhook subscriptions belong to API clients (issue 12), not to one of
-- their keys: a client manages its own through the integration API, its
-- keys' scopes decide which events it may have, and revoking the client
-- (api_clients.revoked_at, which also revokes its keys) stops them.
ALTER TABLE api_clients ADD COLUMN revoked_at TIMESTAMPTZ;

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

-- A subscription of a key that was revoked got nothing; under its client,
-- whose other keys may be in use, it stays paused rather than resume.
ALTER TABLE webhook_subscriptions ADD COLUMN client_id BIGINT REFERENCES api_clients (id);
UPDATE webhook_subscriptions s SET client_id = k.client_id, active = s.active AND k.revoked_at IS NULL
FROM api_keys k WHERE k.id = s.key_id;
ALTER TABLE webhook_subscriptions ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE webhook_subscriptions DROP COLUMN key_id;
CREATE INDEX webhook_subscriptions_client ON webhook_subscriptions (client_id, id);
