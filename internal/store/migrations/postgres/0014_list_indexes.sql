-- The lists read only their page (issue 18): each list has an index in
-- its filter and order, and keyset paging walks it.
--
-- How often the applicant came in person, kept on the case with the step
-- that records the visit (as corrections is), so that the 最多跑一次 list
-- need not count case_visits for every case. Backfilled here.
ALTER TABLE cases ADD COLUMN visits INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET visits = (SELECT COUNT(*) FROM case_visits v WHERE v.case_id = cases.id)
    WHERE id IN (SELECT case_id FROM case_visits);

-- Work queues: a department's cases of one status by due date, then
-- longest waiting.
DROP INDEX cases_queue;
CREATE INDEX cases_queue ON cases (department_id, status, due_on, updated_at, id);
-- 我的办件: a person's own, or an enterprise's, most recently changed first.
CREATE INDEX cases_applicant_recent ON cases (applicant_id, updated_at, id, enterprise_id);
CREATE INDEX cases_enterprise_recent ON cases (enterprise_id, updated_at, id);
-- The supervisors' lists: each partial index holds only its list's cases,
-- in the list's order (then id, the keyset's tie-break), with the region
-- and department after it, so that a supervisor's scope and a department
-- filter, and the list's count, are read from the index alone (status
-- too: SQLite reads a column the predicate implies from the table).
-- 时限监督: running cases by due date.
CREATE INDEX cases_running_due ON cases (due_on, id, region_code, department_id, status) WHERE status IN ('reviewing', 'reviewed', 'decided');
-- The archive check: finished cases, most recently finished first.
CREATE INDEX cases_finished ON cases (updated_at, id, region_code, department_id, status) WHERE status IN ('completed', 'delivered', 'rejected');
-- 最多跑一次 and 一次性告知: only the exceptions.
CREATE INDEX cases_many_visits ON cases (visits, id, region_code, department_id, status) WHERE visits > 1 AND status <> 'draft';
CREATE INDEX cases_many_corrections ON cases (corrections, id, region_code, department_id, status) WHERE corrections > 1 AND status <> 'draft';
-- The hourly deadline check reads only the warnings still owed: running
-- cases not yet warned, or not yet reported late, for their due date.
CREATE INDEX cases_warning_owed ON cases (due_on) WHERE status IN ('reviewing', 'reviewed', 'decided') AND due_on <> '' AND warned_for <> due_on;
CREATE INDEX cases_overdue_owed ON cases (due_on) WHERE status IN ('reviewing', 'reviewed', 'decided') AND due_on <> '' AND overdue_for <> due_on;
