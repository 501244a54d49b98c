-- Limits on attempts (sign-in, public lookups) held in the database, so
-- that they hold across every instance on it. Times are Unix seconds:
-- window numbers and expiry compare as integers alike on both dialects.

-- A counter per name in fixed windows: window_no is Unix time divided by
-- the window's length; a hit in a newer window starts the count again.
CREATE TABLE throttle_counters (
    name      TEXT PRIMARY KEY,
    window_no INTEGER NOT NULL,
    hits      INTEGER NOT NULL,
    expires   INTEGER NOT NULL
);
CREATE INDEX throttle_counters_expires ON throttle_counters (expires);

-- Progressive locks, one per (account, address) of a sign-in: consecutive
-- failures, when the last was, until when the pair is locked, and whether
-- the address has signed the account in before (known addresses are not
-- slowed down when the account is attacked from elsewhere).
CREATE TABLE throttle_locks (
    name         TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    known        INTEGER NOT NULL,
    expires      INTEGER NOT NULL
);
CREATE INDEX throttle_locks_expires ON throttle_locks (expires);


-- The per-account lockout these replace.
ALTER TABLE accounts DROP COLUMN failed_attempts;
ALTER TABLE accounts DROP COLUMN locked_until;
