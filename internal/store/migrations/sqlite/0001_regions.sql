-- The district's region tree (区 → 街道/乡镇 → 社区/村) and the departments
-- and service centres attached to it.
CREATE TABLE regions (
    code         TEXT PRIMARY KEY CHECK (length(code) = 12),
    name         TEXT NOT NULL,
    level        INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
    parent_code  TEXT REFERENCES regions (code),
    kind         TEXT NOT NULL,
    illustrative INTEGER NOT NULL DEFAULT 0,
    CHECK ((level = 1) = (parent_code IS NULL))
);
CREATE INDEX regions_parent ON regions (parent_code, code);

CREATE TABLE departments (
    id           INTEGER PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL UNIQUE,
    short_name   TEXT NOT NULL,
    region_code  TEXT NOT NULL REFERENCES regions (code),
    kind         TEXT NOT NULL CHECK (kind IN ('center', 'bureau', 'street_center', 'community_station')),
    phone        TEXT NOT NULL DEFAULT '',
    address      TEXT NOT NULL DEFAULT '',
    hours        TEXT NOT NULL DEFAULT '',
    illustrative INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX departments_region ON departments (region_code);
