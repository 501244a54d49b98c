-- 帮办代办 (assisted applications): a community or street worker applies
-- online on a person's behalf, with the person's consent recorded first.
-- The case is the person's (applicant_id); assisted_by names the worker,
-- so that the policy can let them follow it up, and the worker's list
-- reads it along its index.
ALTER TABLE cases ADD COLUMN assisted_by BIGINT REFERENCES accounts (id);
CREATE INDEX cases_assisted_by ON cases (assisted_by, updated_at, id) WHERE assisted_by IS NOT NULL;

-- The consent of each assisted case, written in the case's own
-- transaction: a signed 授权委托书 in the file store (by SHA-256, like
-- materials), or an SMS code the person confirmed (the number masked).
CREATE TABLE case_consents (
    case_id       BIGINT PRIMARY KEY REFERENCES cases (id),
    method        TEXT NOT NULL CHECK (method IN ('form', 'sms')),
    assistant_id  BIGINT NOT NULL REFERENCES accounts (id),
    department_id BIGINT NOT NULL REFERENCES departments (id),
    file_sha256   TEXT NOT NULL DEFAULT '',
    file_size     BIGINT NOT NULL DEFAULT 0,
    file_type     TEXT NOT NULL DEFAULT '',
    file_name     TEXT NOT NULL DEFAULT '',
    mobile_masked TEXT NOT NULL DEFAULT '',
    at            TIMESTAMPTZ NOT NULL,
    CHECK (method = 'form' AND file_sha256 <> '' OR method = 'sms' AND mobile_masked <> '')
);
-- The sweeper asks whether a stored file is still referred to.
CREATE INDEX case_consents_file ON case_consents (file_sha256);

-- A new staff role: 帮办代办员 (assistant).
ALTER TABLE staff_roles DROP CONSTRAINT staff_roles_role_check;
ALTER TABLE staff_roles ADD CONSTRAINT staff_roles_role_check
    CHECK (role IN ('window', 'reviewer', 'head', 'supervisor', 'catalog', 'admin', 'dispatcher', 'assistant'));
