-- Placeholder so that 0018 (boards and surveys) applies on this branch: another helper's migration takes this number. Drop on merge.
SELECT 1;
