-- Small uploads staged in the database (internal/staging): a case's small
-- materials are written in the case's own transaction, so that they are
-- durable with it at one flush to disk; a background job then moves each
-- into the file store and deletes its row. Until then they are read from
-- here.
CREATE TABLE staged_files (
    sha256       TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    data         BLOB NOT NULL,
    staged_at    TIMESTAMP NOT NULL
);
CREATE INDEX staged_files_age ON staged_files (staged_at);
