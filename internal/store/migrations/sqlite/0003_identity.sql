-- Accounts of people who sign in: citizens (natural persons) and staff.
-- 身份证号码 and mobile numbers are stored sealed (AES-GCM, with a key id)
-- and found through a keyed hash; only their masked forms are plain.
CREATE TABLE accounts (
    id                  INTEGER PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('person', 'staff')),
    name                TEXT NOT NULL,
    username            TEXT UNIQUE,
    id_number_sealed    TEXT,
    id_number_index     TEXT UNIQUE,
    id_number_masked    TEXT NOT NULL DEFAULT '',
    mobile_sealed       TEXT,
    mobile_index        TEXT UNIQUE,
    mobile_masked       TEXT NOT NULL DEFAULT '',
    password_hash       TEXT NOT NULL DEFAULT '',
    password_changed_at TIMESTAMP,
    totp_sealed         TEXT NOT NULL DEFAULT '',
    totp_required       INTEGER NOT NULL DEFAULT 1,
    department_id       INTEGER REFERENCES departments (id),
    real_name_status    TEXT NOT NULL DEFAULT 'unverified' CHECK (real_name_status IN ('unverified', 'verified')),
    oidc_subject        TEXT UNIQUE,
    failed_attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until        TIMESTAMP,
    disabled            INTEGER NOT NULL DEFAULT 0,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    CHECK ((kind = 'staff') = (department_id IS NOT NULL AND username IS NOT NULL))
);

CREATE TABLE staff_roles (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    role       TEXT NOT NULL CHECK (role IN ('window', 'reviewer', 'head', 'supervisor', 'catalog', 'admin')),
    PRIMARY KEY (account_id, role)
);

-- Enterprises and organisations, and the people allowed to act for them.
CREATE TABLE enterprises (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    credit_code    TEXT NOT NULL UNIQUE,
    legal_rep_name TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);

CREATE TABLE enterprise_agents (
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    role          TEXT NOT NULL CHECK (role IN ('legal_rep', 'agent')),
    added_by      INTEGER NOT NULL REFERENCES accounts (id),
    added_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (enterprise_id, account_id)
);
CREATE INDEX enterprise_agents_account ON enterprise_agents (account_id);

-- Signed-in sessions. The cookie holds a random token; the table only its
-- SHA-256, so a copy of the table signs nobody in.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    acting_for    INTEGER REFERENCES enterprises (id),
    created_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    revoked_at    TIMESTAMP,
    client        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Every sign-in attempt, for the person's own history and for lockouts.
CREATE TABLE sign_ins (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER REFERENCES accounts (id),
    method     TEXT NOT NULL,
    success    INTEGER NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT '',
    client     TEXT NOT NULL DEFAULT '',
    at         TIMESTAMP NOT NULL
);
CREATE INDEX sign_ins_account ON sign_ins (account_id, id);

-- One-time codes sent by SMS, kept as a keyed hash; single use.
CREATE TABLE otp_codes (
    id           INTEGER PRIMARY KEY,
    mobile_index TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    code_hash    TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    used_at      TIMESTAMP
);
CREATE INDEX otp_codes_mobile ON otp_codes (mobile_index, created_at);
CREATE INDEX otp_codes_ip ON otp_codes (ip, created_at);

-- Keys for other government systems, with scopes.
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL UNIQUE,
    key_hash      TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    department_id INTEGER REFERENCES departments (id),
    created_by    INTEGER NOT NULL REFERENCES accounts (id),
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP
);

-- The audit log: sign-ins and failures, role changes, reveals of personal
-- data, exports, configuration changes. Append-only (triggers refuse any
-- change) and hash-chained, so an edit behind the application's back shows.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TIMESTAMP NOT NULL,
    actor_id   INTEGER,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    object     TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT '',
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
