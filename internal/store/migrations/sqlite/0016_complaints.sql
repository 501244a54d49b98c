-- 有诉即应 / 接诉即办: complaints and requests. A complaint is filed by a
-- person (signed in, or anonymous with a verified mobile number), taken in
-- at a window or from a phone call, or pushed in by the 12345 hotline; it
-- is dispatched to one unit (a department) that owns it, signs for it,
-- handles it (with helper units for joint handling) and replies; the
-- person confirms. Limits (dispatch, feedback) come from its category.
CREATE TABLE complaint_categories (
    id             INTEGER PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL UNIQUE,
    description    TEXT NOT NULL DEFAULT '',
    -- Limits: a value in hours (自然小时), working hours (工作小时, on the
    -- office day) or working days (工作日, ending at the close of the day).
    dispatch_value INTEGER NOT NULL CHECK (dispatch_value > 0),
    dispatch_unit  TEXT NOT NULL CHECK (dispatch_unit IN ('hours', 'working_hours', 'working_days')),
    feedback_value INTEGER NOT NULL CHECK (feedback_value > 0),
    feedback_unit  TEXT NOT NULL CHECK (feedback_unit IN ('hours', 'working_hours', 'working_days')),
    position       INTEGER NOT NULL DEFAULT 0,
    active         INTEGER NOT NULL DEFAULT 1,
    updated_at     TIMESTAMP NOT NULL
);

-- Routing: a complaint of a category in a region goes to a department; the
-- rule of the most specific region (community, then street, then district)
-- that holds the complaint's region wins.
CREATE TABLE complaint_routes (
    id            INTEGER PRIMARY KEY,
    category_id   INTEGER NOT NULL REFERENCES complaint_categories (id),
    region_code   TEXT NOT NULL REFERENCES regions (code),
    department_id INTEGER NOT NULL REFERENCES departments (id),
    UNIQUE (category_id, region_code)
);

CREATE TABLE complaint_numbers (
    day  TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE complaints (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    category_id     INTEGER NOT NULL REFERENCES complaint_categories (id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    address         TEXT NOT NULL DEFAULT '',
    lat             REAL,
    lng             REAL,
    case_number     TEXT NOT NULL DEFAULT '',
    channel         TEXT NOT NULL CHECK (channel IN ('web', 'web_anonymous', 'window', 'phone', 'hotline_12345')),
    external_id     TEXT NOT NULL DEFAULT '',
    region_code     TEXT NOT NULL REFERENCES regions (code),
    status          TEXT NOT NULL,
    department_id   INTEGER REFERENCES departments (id),
    account_id      INTEGER REFERENCES accounts (id),
    taken_by        INTEGER REFERENCES accounts (id),
    -- The complainant's name and mobile number, sealed (pii), with their
    -- masked forms for pages and a keyed index of the mobile number.
    name_sealed     TEXT NOT NULL DEFAULT '',
    name_masked     TEXT NOT NULL DEFAULT '',
    mobile_sealed   TEXT NOT NULL DEFAULT '',
    mobile_masked   TEXT NOT NULL DEFAULT '',
    mobile_index    TEXT NOT NULL DEFAULT '',
    dispatch_due    TIMESTAMP NOT NULL,
    dispatch_warn   TIMESTAMP NOT NULL,
    feedback_due    TIMESTAMP NOT NULL,
    feedback_warn   TIMESTAMP NOT NULL,
    -- What the limit check has already said, and when it must look again.
    dispatch_warned INTEGER NOT NULL DEFAULT 0,
    dispatch_late   INTEGER NOT NULL DEFAULT 0,
    feedback_warned INTEGER NOT NULL DEFAULT 0,
    feedback_late   INTEGER NOT NULL DEFAULT 0,
    next_check_at   TIMESTAMP,
    dispatched_at   TIMESTAMP,
    signed_at       TIMESTAMP,
    replied_at      TIMESTAMP,
    closed_at       TIMESTAMP,
    resolved        INTEGER,
    satisfied       INTEGER,
    bounces         INTEGER NOT NULL DEFAULT 0,
    reopens         INTEGER NOT NULL DEFAULT 0,
    urges           INTEGER NOT NULL DEFAULT 0,
    escalated       INTEGER NOT NULL DEFAULT 0,
    version         INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX complaints_external ON complaints (channel, external_id) WHERE external_id <> '';
CREATE INDEX complaints_account ON complaints (account_id, id);
CREATE INDEX complaints_unit ON complaints (department_id, status, id);
CREATE INDEX complaints_status ON complaints (status, id);
CREATE INDEX complaints_updated ON complaints (updated_at, id);
CREATE INDEX complaints_check ON complaints (next_check_at) WHERE next_check_at IS NOT NULL;

-- Units that help the owner (joint handling: a lead unit plus helpers).
CREATE TABLE complaint_helpers (
    complaint_id  INTEGER NOT NULL REFERENCES complaints (id),
    department_id INTEGER NOT NULL REFERENCES departments (id),
    PRIMARY KEY (complaint_id, department_id)
);
CREATE INDEX complaint_helpers_department ON complaint_helpers (department_id, complaint_id);

-- Each bounce (退回) is counted against the unit that sent it back.
CREATE TABLE complaint_bounces (
    id            INTEGER PRIMARY KEY,
    complaint_id  INTEGER NOT NULL REFERENCES complaints (id),
    department_id INTEGER NOT NULL REFERENCES departments (id),
    reason        TEXT NOT NULL,
    at            TIMESTAMP NOT NULL
);
CREATE INDEX complaint_bounces_department ON complaint_bounces (department_id, at);

-- Photos and files, in the file store by SHA-256 like case materials.
CREATE TABLE complaint_files (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    sha256       TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX complaint_files_complaint ON complaint_files (complaint_id, id);
CREATE INDEX complaint_files_sha256 ON complaint_files (sha256);

-- The progress log: who did what and when; public entries are shown to the
-- person (and, without personal data, to Open311 clients).
CREATE TABLE complaint_events (
    id            INTEGER PRIMARY KEY,
    complaint_id  INTEGER NOT NULL REFERENCES complaints (id),
    at            TIMESTAMP NOT NULL,
    actor_id      INTEGER,
    actor         TEXT NOT NULL,
    department_id INTEGER,
    action        TEXT NOT NULL,
    status        TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '',
    public        INTEGER NOT NULL
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, id);
CREATE INDEX complaint_events_at ON complaint_events (at, complaint_id);

-- A new staff role: 派单员 (dispatcher), who dispatches complaints that no
-- routing rule matched and those sent back. SQLite changes a CHECK only by
-- rebuilding the table.
CREATE TABLE staff_roles_new (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    role       TEXT NOT NULL CHECK (role IN ('window', 'reviewer', 'head', 'supervisor', 'catalog', 'admin', 'dispatcher')),
    PRIMARY KEY (account_id, role)
);
INSERT INTO staff_roles_new (account_id, role) SELECT account_id, role FROM staff_roles;
DROP TABLE staff_roles;
ALTER TABLE staff_roles_new RENAME TO staff_roles;
