-- Cases (办件): an application under one version of an item, handled by
-- a department. Every change of a case is one transaction that also
-- writes a case_events row; the events of a case form a hash chain.
CREATE TABLE cases (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    item_id       INTEGER NOT NULL REFERENCES items (id),
    item_version  INTEGER NOT NULL,
    applicant_id  INTEGER NOT NULL REFERENCES accounts (id),
    enterprise_id INTEGER REFERENCES enterprises (id),
    department_id INTEGER NOT NULL REFERENCES departments (id),
    region_code   TEXT NOT NULL REFERENCES regions (code),
    status        TEXT NOT NULL,
    channel       TEXT NOT NULL DEFAULT 'online' CHECK (channel IN ('online', 'window')),
    form_data     TEXT NOT NULL DEFAULT '{}',
    corrections   INTEGER NOT NULL DEFAULT 0,
    -- Deadlines, as Beijing dates (YYYY-MM-DD): counted in working days
    -- from the day after acceptance, pushed by the working days paused.
    accepted_on   TEXT NOT NULL DEFAULT '',
    due_on        TEXT NOT NULL DEFAULT '',
    paused_on     TEXT NOT NULL DEFAULT '',
    -- The deadline check warns once per due date: these remember for which.
    warned_for    TEXT NOT NULL DEFAULT '',
    overdue_for   TEXT NOT NULL DEFAULT '',
    -- The result (证照, 批文 …) attached when the case is completed.
    result_sha256 TEXT NOT NULL DEFAULT '',
    result_name   TEXT NOT NULL DEFAULT '',
    result_type   TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    submitted_at  TIMESTAMP
);
CREATE INDEX cases_applicant ON cases (applicant_id, id);
CREATE INDEX cases_queue ON cases (department_id, status, updated_at);

CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    seq         INTEGER NOT NULL,
    at          TIMESTAMP NOT NULL,
    actor_id    INTEGER,
    actor_role  TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    UNIQUE (case_id, seq)
);
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;

-- Per-day counters for case numbers.
CREATE TABLE case_numbers (
    day  TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

-- Materials handed in for a case, one file per row, by the position of the
-- material in the item version. Files live in the file store under their
-- SHA-256; a material reused from an earlier case (免提交) names that case.
CREATE TABLE case_materials (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    filename     TEXT NOT NULL,
    reused_from  INTEGER REFERENCES cases (id),
    uploaded_by  INTEGER NOT NULL REFERENCES accounts (id),
    uploaded_at  TIMESTAMP NOT NULL
);
CREATE INDEX case_materials_case ON case_materials (case_id, position);
CREATE INDEX case_materials_name ON case_materials (uploaded_by, name);

-- Notices issued on a case (受理通知书, 不予受理通知书, 补正材料通知书,
-- 决定书), numbered per department, kind and year, in the same
-- transaction as the step that issues them.
CREATE TABLE case_documents (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    kind          TEXT NOT NULL,
    number        TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments (id),
    issued_at     TIMESTAMP NOT NULL
);
CREATE INDEX case_documents_case ON case_documents (case_id, id);

CREATE TABLE document_numbers (
    department_id INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    year          INTEGER NOT NULL,
    last          INTEGER NOT NULL,
    PRIMARY KEY (department_id, kind, year)
);

-- Every time the applicant came in person for a case (最多跑一次 counts them).
CREATE TABLE case_visits (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL REFERENCES cases (id),
    staff_id  INTEGER NOT NULL REFERENCES accounts (id),
    purpose   TEXT NOT NULL,
    at        TIMESTAMP NOT NULL
);
CREATE INDEX case_visits_case ON case_visits (case_id);

-- The message centre: what the platform tells an applicant. Each message
-- is written with the step that causes it; its SMS goes out by a durable
-- job enqueued in the same transaction.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    case_id    INTEGER REFERENCES cases (id),
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at    TIMESTAMP
);
CREATE INDEX messages_account ON messages (account_id, id);
