-- API keys of other systems (Open311 clients now, the integration's
-- systems later). 0003's table was never written to, and its created_by
-- required an account, where keys are also made on the command line (and
-- by the demo): it is made again. A key is stored as the SHA-256 of the
-- whole key (see internal/apikey); prefix is its public part, by which it
-- is found and listed.
DROP TABLE api_keys;
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    client        TEXT NOT NULL,
    prefix        TEXT NOT NULL UNIQUE,
    key_hash      TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_by_id INTEGER REFERENCES accounts (id),
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP
);
