-- Module and channel usage (internal/usage): how many times each module
-- was used on each Beijing date, and nothing else — no account, no
-- address, no path. Instances count in memory and add their counts here
-- with an additive upsert, so several instances add up.
CREATE TABLE module_uses (
    day    TEXT NOT NULL,   -- YYYY-MM-DD, Beijing date
    module TEXT NOT NULL,
    uses   INTEGER NOT NULL,
    PRIMARY KEY (day, module)
);
