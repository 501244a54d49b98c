-- 电子证照 (e-licences, issue 12): an item's licence template, kept by its
-- department's catalog managers, and the licences issued when a case of
-- the item is completed with approval. A licence's signed data (token:
-- base64url of the canonical JSON, a dot, base64url of the Ed25519
-- signature) is what verifies it; the row adds what only the platform
-- knows: who holds it (for the 证照夹 and 免提交) and its revocation.
CREATE TABLE licence_templates (
    item_id       INTEGER PRIMARY KEY REFERENCES items (id),
    type_name     TEXT NOT NULL,
    number_format TEXT NOT NULL,
    valid_years   INTEGER NOT NULL CHECK (valid_years >= 0),
    fields        TEXT NOT NULL DEFAULT '[]',
    next_seq      INTEGER NOT NULL DEFAULT 1,
    updated_by    INTEGER REFERENCES accounts (id),
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE licences (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    type_name     TEXT NOT NULL,
    case_id       INTEGER NOT NULL UNIQUE REFERENCES cases (id),
    item_id       INTEGER NOT NULL REFERENCES items (id),
    department_id INTEGER NOT NULL REFERENCES departments (id),
    holder_id     INTEGER NOT NULL REFERENCES accounts (id),
    enterprise_id INTEGER REFERENCES enterprises (id),
    holder_name   TEXT NOT NULL,
    token         TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    file_sha256   TEXT NOT NULL, -- the QR code as PNG, offered as a material (免提交)
    file_size     INTEGER NOT NULL,
    issued_on     TEXT NOT NULL,
    valid_until   TEXT NOT NULL DEFAULT '',
    revoked_at    TIMESTAMP,
    revoke_kind   TEXT NOT NULL DEFAULT '' CHECK (revoke_kind IN ('', 'revoked', 'cancelled')),
    revoke_reason TEXT NOT NULL DEFAULT '',
    revoked_by    INTEGER REFERENCES accounts (id),
    created_at    TIMESTAMP NOT NULL
);
-- The 证照夹 lists a holder's licences; 免提交 finds them by type.
CREATE INDEX licences_holder ON licences (holder_id, enterprise_id, type_name);
-- The sweeper asks whether a stored file is still referred to.
CREATE INDEX licences_file ON licences (file_sha256);
