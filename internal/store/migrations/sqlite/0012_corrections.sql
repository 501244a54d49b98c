-- What each 补正材料通知书 names: the materials (positions in the case's
-- item version) the applicant must hand in again, so that their case page
-- marks them and a resubmission that changes none of them is refused.
-- materials is a JSON array of positions; a notice from before this table
-- has no row, and any new material answers it.
CREATE TABLE case_corrections (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL REFERENCES cases (id),
    asked_at  TIMESTAMP NOT NULL,
    due_on    TEXT NOT NULL,
    reason    TEXT NOT NULL,
    materials TEXT NOT NULL
);
CREATE INDEX case_corrections_case ON case_corrections (case_id, id);
