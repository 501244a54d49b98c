-- The last TOTP time step (Unix time / 30 s) that signed a staff member in:
-- a code of that step or an earlier one is refused, so that a code cannot
-- be used twice, nor an older window's code after a newer one.
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
