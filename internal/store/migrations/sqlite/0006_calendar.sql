-- Local calendar days: what administrators add on top of the State
-- Council's holidays and make-up workdays (a district holiday, a correction,
-- a changed 调休). Deadlines on every instance count with them: a change
-- bumps the 'calendar' row of cache_versions in its transaction, and each
-- instance polls that row. Each change is in the audit log with the value
-- it replaced.
CREATE TABLE calendar_days (
    day        TEXT PRIMARY KEY CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'), -- Beijing date, YYYY-MM-DD
    workday    INTEGER NOT NULL CHECK (workday IN (0, 1)),  -- 1: working day, 0: rest day
    label      TEXT NOT NULL CHECK (label <> ''),            -- shown with the day, e.g. 区庆
    changed_by INTEGER REFERENCES accounts (id),             -- NULL: the system or the command line
    changed_at TIMESTAMP NOT NULL
);

INSERT INTO cache_versions (name, version) VALUES ('calendar', 1);
