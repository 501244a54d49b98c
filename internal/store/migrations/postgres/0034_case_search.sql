-- The staff's search across the queues (casework's Queue with a query,
-- issue 18) matched a substring of the number and of three names with
-- LIKE '%…%', which no index serves: it read the department's whole
-- history with its joins (8.6 s at 10 million cases). Each way a case
-- can match is an index range of its own now (casework/search.go):
--
-- the number: whole or a prefix of it (the unique index), its date and
-- serial without the county code, or its serial of the day;
CREATE INDEX cases_number_day ON cases (substr(number, 7), id);
CREATE INDEX cases_number_serial ON cases (substr(number, 15), id);
-- an item, an applicant or an enterprise the query names: its cases in
-- the department, with what the list filters and sorts on, so that a
-- search's candidates and its capped count are read from the index;
CREATE INDEX cases_by_item ON cases (item_id, department_id, status, due_on, updated_at, id);
CREATE INDEX cases_by_applicant ON cases (applicant_id, department_id, status, due_on, updated_at, id);
CREATE INDEX cases_by_enterprise ON cases (enterprise_id, department_id, status, due_on, updated_at, id);
-- and, for a search that matches more than 10,000 of a department's cases
-- (a common item), the department's cases in the order of the queue, not
-- led by the status, with the columns the search tests: such a search
-- walks it and stops at its page.
CREATE INDEX cases_department_due ON cases (department_id, due_on, updated_at, id, status, item_id, applicant_id, enterprise_id);
-- Applicants and enterprises by the start of their names, in code point
-- order whatever the database's locale (casework/search.go asks in the C
-- collation: under a Chinese locale names sort by pinyin, where a prefix
-- is not a range of code points).
CREATE INDEX accounts_name ON accounts (name COLLATE "C");
CREATE INDEX enterprises_name ON enterprises (name COLLATE "C");
