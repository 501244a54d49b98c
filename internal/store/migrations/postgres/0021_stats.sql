-- Statistics and dashboards (issue 10).
--
-- How a case finished, kept on the case by the finishing step (办结 or
-- 不予受理), so that every figure is a function of the case row alone:
-- the Beijing date it finished, the working days from acceptance to then,
-- and the item's promised and legal limits in working days as they stood
-- (0 when the case was never accepted or the limit is not in working days).
ALTER TABLE cases ADD COLUMN finished_on TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN handling_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN promise_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN legal_days INTEGER NOT NULL DEFAULT 0;

-- The counters are INTEGER, not BIGINT: a row counts one month of one item
-- (or unit), far below 2^31, and PostgreSQL sums INTEGER into a BIGINT
-- where it sums BIGINT into NUMERIC, several times slower.
--
-- Counters per month the case was begun (Beijing), item, department,
-- region and channel: what each case contributes (internal/stats
-- contribution), added in the transaction of every change of the case and
-- rebuilt by stats.Recount. Rows may fall to all zeros; they count nothing.
CREATE TABLE case_stats (
    month          TEXT NOT NULL,
    item_id        INTEGER NOT NULL,
    department_id  INTEGER NOT NULL,
    region_code    TEXT NOT NULL,
    channel        TEXT NOT NULL,
    submitted      INTEGER NOT NULL DEFAULT 0,
    accepted       INTEGER NOT NULL DEFAULT 0,
    finished       INTEGER NOT NULL DEFAULT 0,
    timed          INTEGER NOT NULL DEFAULT 0,
    on_time        INTEGER NOT NULL DEFAULT 0,
    late           INTEGER NOT NULL DEFAULT 0,
    measured       INTEGER NOT NULL DEFAULT 0,
    handling_days  INTEGER NOT NULL DEFAULT 0,
    promise_days   INTEGER NOT NULL DEFAULT 0,
    legal_days     INTEGER NOT NULL DEFAULT 0,
    one_visit      INTEGER NOT NULL DEFAULT 0,
    one_correction INTEGER NOT NULL DEFAULT 0,
    withdrawn      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, item_id, department_id, region_code, channel)
);
CREATE INDEX case_stats_department ON case_stats (department_id, month);
CREATE INDEX case_stats_region ON case_stats (region_code, month);

-- The same counters without the item: a row per month, department, region
-- and channel, a twentieth of case_stats' rows, which every view not by
-- item or of one item reads instead (kept and recounted with it).
CREATE TABLE case_stats_units (
    month          TEXT NOT NULL,
    department_id  INTEGER NOT NULL,
    region_code    TEXT NOT NULL,
    channel        TEXT NOT NULL,
    submitted      INTEGER NOT NULL DEFAULT 0,
    accepted       INTEGER NOT NULL DEFAULT 0,
    finished       INTEGER NOT NULL DEFAULT 0,
    timed          INTEGER NOT NULL DEFAULT 0,
    on_time        INTEGER NOT NULL DEFAULT 0,
    late           INTEGER NOT NULL DEFAULT 0,
    measured       INTEGER NOT NULL DEFAULT 0,
    handling_days  INTEGER NOT NULL DEFAULT 0,
    promise_days   INTEGER NOT NULL DEFAULT 0,
    legal_days     INTEGER NOT NULL DEFAULT 0,
    one_visit      INTEGER NOT NULL DEFAULT 0,
    one_correction INTEGER NOT NULL DEFAULT 0,
    withdrawn      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, department_id, region_code, channel)
);

-- And per month and item alone (half of case_stats' rows or fewer: no
-- channel, and the department and region follow from the item but for
-- transfers), which the district-wide tables by item read.
CREATE TABLE case_stats_items (
    month          TEXT NOT NULL,
    item_id        INTEGER NOT NULL,
    submitted      INTEGER NOT NULL DEFAULT 0,
    accepted       INTEGER NOT NULL DEFAULT 0,
    finished       INTEGER NOT NULL DEFAULT 0,
    timed          INTEGER NOT NULL DEFAULT 0,
    on_time        INTEGER NOT NULL DEFAULT 0,
    late           INTEGER NOT NULL DEFAULT 0,
    measured       INTEGER NOT NULL DEFAULT 0,
    handling_days  INTEGER NOT NULL DEFAULT 0,
    promise_days   INTEGER NOT NULL DEFAULT 0,
    legal_days     INTEGER NOT NULL DEFAULT 0,
    one_visit      INTEGER NOT NULL DEFAULT 0,
    one_correction INTEGER NOT NULL DEFAULT 0,
    withdrawn      INTEGER NOT NULL DEFAULT 0,
    online         INTEGER NOT NULL DEFAULT 0, -- submitted online (the other tables have the channel)
    PRIMARY KEY (month, item_id)
);

-- The drill-downs list the cases behind a figure, newest begun first, in
-- the dashboard's filter: every submitted case (and a department's, which
-- a unit's staff see), and the finished late.
CREATE INDEX cases_begun ON cases (created_at, id, region_code, department_id) WHERE status <> 'draft';
CREATE INDEX cases_begun_department ON cases (department_id, created_at, id) WHERE status <> 'draft';
CREATE INDEX cases_finished_late ON cases (created_at, id, region_code, department_id) WHERE due_on <> '' AND finished_on > due_on;
