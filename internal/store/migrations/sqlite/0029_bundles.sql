-- 一件事一次办 (internal/bundle): a life event's items applied for once.
-- A bundle names its items in order; bundle_fields maps a field of one
-- item's form to the combined form's field that fills it (the same key
-- fills every item without a row here); bundle_dependencies says which
-- item waits for another's result and which of its materials that result
-- fills (免提交). An item has at most one prerequisite.
CREATE TABLE bundles (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    theme      TEXT NOT NULL DEFAULT '',
    summary    TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    updated_by INTEGER REFERENCES accounts (id),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE bundle_items (
    bundle_id INTEGER NOT NULL REFERENCES bundles (id),
    position  INTEGER NOT NULL,
    item_id   INTEGER NOT NULL REFERENCES items (id),
    PRIMARY KEY (bundle_id, position),
    UNIQUE (bundle_id, item_id)
);

CREATE TABLE bundle_fields (
    bundle_id INTEGER NOT NULL REFERENCES bundles (id),
    item_id   INTEGER NOT NULL REFERENCES items (id),
    item_key  TEXT NOT NULL,
    from_key  TEXT NOT NULL,
    PRIMARY KEY (bundle_id, item_id, item_key)
);

CREATE TABLE bundle_dependencies (
    bundle_id   INTEGER NOT NULL REFERENCES bundles (id),
    item_id     INTEGER NOT NULL REFERENCES items (id),
    requires_id INTEGER NOT NULL REFERENCES items (id),
    material    TEXT NOT NULL,
    PRIMARY KEY (bundle_id, item_id)
);

-- One application to a bundle, and its cases: one per item, each in its
-- department, made in one transaction.
CREATE TABLE bundle_cases (
    id            INTEGER PRIMARY KEY,
    bundle_id     INTEGER NOT NULL REFERENCES bundles (id),
    applicant_id  INTEGER NOT NULL REFERENCES accounts (id),
    enterprise_id INTEGER REFERENCES enterprises (id),
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX bundle_cases_applicant ON bundle_cases (applicant_id, created_at, id);

CREATE TABLE bundle_parts (
    bundle_case_id INTEGER NOT NULL REFERENCES bundle_cases (id),
    position       INTEGER NOT NULL,
    case_id        INTEGER NOT NULL UNIQUE REFERENCES cases (id),
    PRIMARY KEY (bundle_case_id, position)
);

-- A case that waits (status waiting, internal/casework) for another's
-- result: when that one completes, the result fills material position of
-- this one and it is submitted; when it ends otherwise, this one closes.
CREATE TABLE case_waits (
    case_id   INTEGER PRIMARY KEY REFERENCES cases (id),
    waits_for INTEGER NOT NULL REFERENCES cases (id),
    position  INTEGER NOT NULL
);
CREATE INDEX case_waits_for ON case_waits (waits_for);
