-- Handling shaped per item (issue 5): how the decision went, how the
-- result reached the applicant, how often the case changed department;
-- and an e-mail address for notifications, sealed like the mobile number.
ALTER TABLE cases ADD COLUMN decision TEXT NOT NULL DEFAULT '' CHECK (decision IN ('', 'approved', 'denied'));
ALTER TABLE cases ADD COLUMN delivery TEXT NOT NULL DEFAULT '' CHECK (delivery IN ('', 'online', 'express', 'window'));
ALTER TABLE cases ADD COLUMN transfers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN email_sealed TEXT NOT NULL DEFAULT '';
