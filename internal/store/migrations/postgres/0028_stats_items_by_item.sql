-- The table by item sums a year of case_stats_items (some 20,000 rows)
-- into one row an item: keyed in item order, the rows come grouped.
ALTER TABLE case_stats_items DROP CONSTRAINT case_stats_items_pkey;
ALTER TABLE case_stats_items ADD PRIMARY KEY (item_id, month);
