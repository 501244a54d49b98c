-- 时限监督 of a street or a community (a supervisor's view, or a region
-- filter): the region's running cases by due date. The list walked
-- cases_running_due, led by the due date, until it had found 10,001 of the
-- region's cases for its count: for a region with few running cases, most
-- of the district's (0.8–2.3 s at 10 million cases). These indexes are led
-- by a community's code and by a street's (the code's first nine digits),
-- as the lists now spell them (casework's inRegion), so a region's list
-- reads its own running cases in the list's order, and its count at most
-- 10,001 of them.
CREATE INDEX cases_running_region ON cases (region_code, due_on, id, department_id, status) WHERE status IN ('reviewing', 'reviewed', 'decided');
CREATE INDEX cases_running_street ON cases (substr(region_code, 1, 9), due_on, id, department_id, status) WHERE status IN ('reviewing', 'reviewed', 'decided');
