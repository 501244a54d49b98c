-- The self-evaluation's indicators entered by hand (internal/evaluation):
-- one row per period and indicator, the latest entry; every entry and
-- correction is in the audit log. The evidence file lives in the file
-- store, referred to by its SHA-256 (the sweeper keeps it).
CREATE TABLE evaluation_entries (
    period        INTEGER NOT NULL,
    code          TEXT NOT NULL,
    value         DOUBLE PRECISION NOT NULL,
    note          TEXT NOT NULL,
    file_sha256   TEXT NOT NULL,
    file_size     BIGINT NOT NULL,
    file_type     TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    entered_by_id BIGINT REFERENCES accounts (id),
    entered_by    TEXT NOT NULL,
    entered_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (period, code)
);
