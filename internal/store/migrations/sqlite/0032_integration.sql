-- Integration (issue 12): the systems that call the API (api_clients),
-- their keys (api_keys gains the client and, for rotation, the time an
-- old key stops working), the sharing directory (what data each client
-- may read or write, for which purpose) and the data-sharing access log
-- (共享调用日志): every call, hash-chained like audit_log and append-only.
CREATE TABLE api_clients (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    department_id INTEGER REFERENCES departments (id),
    per_minute    INTEGER NOT NULL CHECK (per_minute > 0),
    created_at    TIMESTAMP NOT NULL
);
ALTER TABLE api_keys ADD COLUMN client_id INTEGER REFERENCES api_clients (id);
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMP;
CREATE INDEX api_keys_client ON api_keys (client_id);

CREATE TABLE sharing_directory (
    id            INTEGER PRIMARY KEY,
    client_id     INTEGER NOT NULL REFERENCES api_clients (id),
    data          TEXT NOT NULL CHECK (data IN ('catalog', 'cases', 'results', 'complaints', 'ratings')),
    department_id INTEGER REFERENCES departments (id),
    purpose       TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX sharing_directory_client ON sharing_directory (client_id, data);

CREATE TABLE sharing_log (
    id         INTEGER PRIMARY KEY,
    at         TIMESTAMP NOT NULL,
    client_id  INTEGER NOT NULL REFERENCES api_clients (id),
    key_id     INTEGER NOT NULL REFERENCES api_keys (id),
    operation  TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    status     INTEGER NOT NULL,
    outcome    TEXT NOT NULL,
    records    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX sharing_log_client ON sharing_log (client_id, id);
-- One row per record a call touched ("case:2026…", "account:12",
-- "complaint:…"), for the search by record and the citizen's page.
CREATE TABLE sharing_log_records (
    record TEXT NOT NULL,
    log_id INTEGER NOT NULL REFERENCES sharing_log (id),
    PRIMARY KEY (record, log_id)
);
CREATE TRIGGER sharing_log_no_update BEFORE UPDATE ON sharing_log BEGIN SELECT RAISE(ABORT, 'sharing_log is append-only'); END;
CREATE TRIGGER sharing_log_no_delete BEFORE DELETE ON sharing_log BEGIN SELECT RAISE(ABORT, 'sharing_log is append-only'); END;
