-- 表扬台 and 曝光台: entries that supervisors publish from finished cases
-- (and, once their packages plug in, complaints and ratings). snapshot is
-- the entry as the public sees it, personal data already removed, fixed
-- at publication: later edits of the record, or a key rotation, cannot
-- leak through it. Withdrawing keeps the row (the audit log names it).
CREATE TABLE board_entries (
    id              INTEGER PRIMARY KEY,
    board           TEXT NOT NULL CHECK (board IN ('praise', 'exposure')),
    source          TEXT NOT NULL,
    source_id       INTEGER NOT NULL,
    region_code     TEXT NOT NULL,
    title           TEXT NOT NULL,
    snapshot        TEXT NOT NULL,
    published_by    INTEGER REFERENCES accounts (id),
    published_at    TIMESTAMP NOT NULL,
    withdrawn_by    INTEGER REFERENCES accounts (id),
    withdrawn_at    TIMESTAMP,
    withdraw_reason TEXT NOT NULL DEFAULT ''
);
-- One live entry per thing and board.
CREATE UNIQUE INDEX board_entries_live ON board_entries (board, source, source_id) WHERE withdrawn_at IS NULL;
CREATE INDEX board_entries_public ON board_entries (board, published_at, id) WHERE withdrawn_at IS NULL;

-- 问卷: questions is a JSON array, fixed once the survey opens.
CREATE TABLE surveys (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    intro       TEXT NOT NULL DEFAULT '',
    audience    TEXT NOT NULL CHECK (audience IN ('citizens', 'staff')),
    anonymous   INTEGER NOT NULL,
    once_per    TEXT NOT NULL CHECK (once_per IN ('person', 'device')),
    questions   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
    created_by  INTEGER REFERENCES accounts (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- One row per answer. respondent is a keyed hash of the account (or of
-- the device's cookie) within the survey, so that one person or device
-- answers once without an anonymous answer naming its account; account_id
-- is set only on a named survey.
CREATE TABLE survey_responses (
    id           INTEGER PRIMARY KEY,
    survey_id    INTEGER NOT NULL REFERENCES surveys (id),
    respondent   TEXT NOT NULL,
    account_id   INTEGER REFERENCES accounts (id),
    answers      TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    UNIQUE (survey_id, respondent)
);
-- Results and the export read a survey's answers a page at a time by id.
CREATE INDEX survey_responses_survey ON survey_responses (survey_id, id);
