-- The last TOTP time step (Unix time / 30 s) that signed a staff member in:
-- a code of that step or an earlier one is refused, so that a code cannot
-- be used twice, nor an older window's code after a newer one.
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- The region an audit entry belongs to (the acting staff member's
-- department's region; '' for citizens, the command line and the system):
-- a supervisor searches only their region's subtree, administrators all.
ALTER TABLE audit_log ADD COLUMN region_code TEXT NOT NULL DEFAULT '';
