-- 时限监督 of one department (a department head's view, or a supervisor's
-- filter): the running cases of that department by due date. The list
-- walked cases_running_due, which is led by the due date, and skipped the
-- other departments' cases: past the first page it read most of the
-- district's running cases (178 ms at a million cases). This index is
-- led by the department, so the list and its capped count read only that
-- department's running cases, in the list's order.
CREATE INDEX cases_running_department ON cases (department_id, due_on, id, region_code, status) WHERE status IN ('reviewing', 'reviewed', 'decided');
