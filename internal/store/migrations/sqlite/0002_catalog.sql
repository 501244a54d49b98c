-- The service catalog. An item is a stable identity; each edit makes a new
-- row in item_versions holding the whole guide as JSON, and publishing a
-- version copies the fields that lists, filters and statistics need into
-- items. Cases will refer to (item_id, version).
CREATE TABLE items (
    id                INTEGER PRIMARY KEY,
    impl_code         TEXT NOT NULL UNIQUE,
    base_code         TEXT NOT NULL,
    name              TEXT NOT NULL,
    type              TEXT NOT NULL,
    level             INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
    department_id     INTEGER NOT NULL REFERENCES departments (id),
    region_code       TEXT NOT NULL REFERENCES regions (code),
    depth             INTEGER NOT NULL CHECK (depth BETWEEN 1 AND 4),
    case_kind         TEXT NOT NULL,
    visits            INTEGER NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('draft', 'published', 'suspended', 'cancelled')),
    status_reason     TEXT NOT NULL DEFAULT '',
    published_version INTEGER NOT NULL DEFAULT 0,
    latest_version    INTEGER NOT NULL,
    popularity        INTEGER NOT NULL DEFAULT 0,
    generated         INTEGER NOT NULL DEFAULT 0,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    published_at      TIMESTAMP
);
CREATE INDEX items_department ON items (department_id, status);
CREATE INDEX items_level ON items (level, status, depth);
CREATE INDEX items_base_code ON items (base_code);

CREATE TABLE item_versions (
    item_id     INTEGER NOT NULL REFERENCES items (id),
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (item_id, version)
);

-- Every change to the catalog: who, what, when and why.
CREATE TABLE item_changes (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL REFERENCES items (id),
    version    INTEGER NOT NULL,
    action     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    at         TIMESTAMP NOT NULL
);
CREATE INDEX item_changes_item ON item_changes (item_id, id);

-- Synonyms and common words people type, kept as catalog data: 开店 → 食品经营许可 …
CREATE TABLE search_synonyms (
    term      TEXT NOT NULL,
    expansion TEXT NOT NULL,
    PRIMARY KEY (term, expansion)
);

-- One row per cache that instances keep in memory; a change bumps its
-- version in the same transaction, and every instance polls the row.
CREATE TABLE cache_versions (
    name    TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO cache_versions (name, version) VALUES ('catalog', 1);

-- The implementing body's 统一社会信用代码 is part of every 实施编码.
ALTER TABLE departments ADD COLUMN credit_code TEXT NOT NULL DEFAULT '';
