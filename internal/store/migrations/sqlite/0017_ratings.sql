-- 好差评 (internal/rating). A rating is about a subject: a finished case
-- (一事一评), a closed complaint, or a visit to a window (一次一评, a row of
-- case_visits). The subject's number, title, department and region are
-- copied at rating time, so that a rating keeps its scope and its public
-- rectification stays readable whatever happens to the subject later.
-- One rating per subject per person: rater_id is the account rated for.
-- The comment is personal data the citizen typed: it is sealed.
CREATE TABLE ratings (
    id             INTEGER PRIMARY KEY,
    subject_kind   TEXT NOT NULL CHECK (subject_kind IN ('case', 'complaint', 'visit')),
    subject_id     INTEGER NOT NULL,
    subject_number TEXT NOT NULL,
    title          TEXT NOT NULL,
    item_id        INTEGER REFERENCES items (id),
    department_id  INTEGER NOT NULL REFERENCES departments (id),
    region_code    TEXT NOT NULL,
    rater_id       INTEGER NOT NULL REFERENCES accounts (id),
    staff_id       INTEGER REFERENCES accounts (id),
    channel        TEXT NOT NULL CHECK (channel IN ('web', 'message', 'tablet', 'app')),
    scene          TEXT NOT NULL CHECK (scene IN ('online', 'onsite')),
    level          INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    dimensions     TEXT NOT NULL,
    comment_sealed TEXT NOT NULL DEFAULT '',
    excluded       INTEGER NOT NULL DEFAULT 0,
    rated_at       TIMESTAMP NOT NULL,
    UNIQUE (subject_kind, subject_id, rater_id)
);
-- The rates count along these (covering: nothing read from the table),
-- grouped by department or item and level, filtered by scope and period.
CREATE INDEX ratings_by_department ON ratings (department_id, level, excluded, region_code, rated_at);
CREATE INDEX ratings_by_item ON ratings (item_id, level, excluded, region_code, rated_at);

-- Who is asked to rate what; rating_id is set once they have. Reminders
-- are owed by the invitations neither rated nor reminded (partial index).
CREATE TABLE rating_invitations (
    id             INTEGER PRIMARY KEY,
    subject_kind   TEXT NOT NULL,
    subject_id     INTEGER NOT NULL,
    subject_number TEXT NOT NULL,
    title          TEXT NOT NULL,
    item_id        INTEGER REFERENCES items (id),
    department_id  INTEGER NOT NULL REFERENCES departments (id),
    region_code    TEXT NOT NULL,
    scene          TEXT NOT NULL,
    account_id     INTEGER NOT NULL REFERENCES accounts (id),
    enterprise_id  INTEGER REFERENCES enterprises (id),
    staff_id       INTEGER REFERENCES accounts (id),
    case_id        INTEGER REFERENCES cases (id),
    invited_at     TIMESTAMP NOT NULL,
    reminded_at    TIMESTAMP,
    rating_id      INTEGER REFERENCES ratings (id),
    UNIQUE (subject_kind, subject_id, account_id)
);
CREATE INDEX rating_invitations_account ON rating_invitations (account_id, id);
CREATE INDEX rating_invitations_owed ON rating_invitations (invited_at) WHERE rating_id IS NULL AND reminded_at IS NULL;

-- Every 差评 opens a follow-up: a named call-back (回访), the unit's
-- rectification by due_on (working days from the calendar), and perhaps an
-- appeal a supervisor decides. warned_for/overdue_for hold the due date a
-- warning was sent for, as cases do.
CREATE TABLE rating_followups (
    id                INTEGER PRIMARY KEY,
    rating_id         INTEGER NOT NULL UNIQUE REFERENCES ratings (id),
    department_id     INTEGER NOT NULL REFERENCES departments (id),
    region_code       TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('callback', 'rectify', 'appealed', 'rectified', 'excluded')),
    opened_at         TIMESTAMP NOT NULL,
    due_on            TEXT NOT NULL,
    called_by         INTEGER REFERENCES accounts (id),
    called_by_name    TEXT NOT NULL DEFAULT '',
    called_at         TIMESTAMP,
    call_reached      INTEGER NOT NULL DEFAULT 0,
    call_note         TEXT NOT NULL DEFAULT '',
    rectified_by      INTEGER REFERENCES accounts (id),
    rectified_by_name TEXT NOT NULL DEFAULT '',
    rectified_at      TIMESTAMP,
    rectified_on      TEXT NOT NULL DEFAULT '',
    rectification     TEXT NOT NULL DEFAULT '',
    appeal_from       TEXT NOT NULL DEFAULT '',
    appealed_by       INTEGER REFERENCES accounts (id),
    appealed_by_name  TEXT NOT NULL DEFAULT '',
    appealed_at       TIMESTAMP,
    appeal_reason     TEXT NOT NULL DEFAULT '',
    decided_by        INTEGER REFERENCES accounts (id),
    decided_by_name   TEXT NOT NULL DEFAULT '',
    decided_at        TIMESTAMP,
    appeal_upheld     INTEGER NOT NULL DEFAULT 0,
    decision_reason   TEXT NOT NULL DEFAULT '',
    warned_for        TEXT NOT NULL DEFAULT '',
    overdue_for       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX rating_followups_scope ON rating_followups (department_id, state, id);
CREATE INDEX rating_followups_open ON rating_followups (due_on, id) WHERE state IN ('callback', 'rectify', 'appealed');
CREATE INDEX rating_followups_rectified ON rating_followups (rectified_at, id) WHERE state = 'rectified';

-- The counter tablets (一次一评): a window clerk pairs a tablet with their
-- window; the tablet holds a random token, the table its SHA-256.
CREATE TABLE rating_tablets (
    token_hash TEXT PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX rating_tablets_staff ON rating_tablets (staff_id);

-- The tablet looks every few seconds for its clerk's latest visit.
CREATE INDEX case_visits_staff ON case_visits (staff_id, at);
