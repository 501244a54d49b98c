-- Each case event commits to the state of the case after it (issue 14):
-- a digest of the case row's meaningful columns, its materials' hashes and
-- its notices' bodies, included in the event's own hash. Events written
-- before this have an empty state_hash and are checked as before.
ALTER TABLE case_events ADD COLUMN state_hash TEXT NOT NULL DEFAULT '';
