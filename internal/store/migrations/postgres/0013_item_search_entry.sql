-- Regions and departments are read from a copy each instance keeps; every
-- change to one bumps the 'regions' row of cache_versions in its
-- transaction, and a reader that sees the row move reads them again.
INSERT INTO cache_versions (name, version) VALUES ('regions', 1);

-- What the search index needs of an item's published guide (name, aliases,
-- result and its type, base code, region, department, level, type, depth, case kind, visits, promised time,
-- themes, subjects), as a small JSON object written when the version is
-- published. An instance starting, or rebuilding its index after a
-- publication, reads these instead of decoding every full guide.
ALTER TABLE items ADD COLUMN search_entry TEXT NOT NULL DEFAULT '';

UPDATE items SET search_entry = (
    SELECT jsonb_build_object(
        'name', b -> 'name', 'aliases', b -> 'aliases',
        'result', jsonb_build_object('name', b -> 'result' -> 'name', 'type', b -> 'result' -> 'type'),
        'base_code', b -> 'base_code', 'region_code', b -> 'region_code',
        'department_id', b -> 'department_id', 'department', b -> 'department',
        'level', b -> 'level', 'type', b -> 'type', 'depth', b -> 'depth',
        'case_kind', b -> 'case_kind', 'visits', b -> 'visits', 'promise_limit', b -> 'promise_limit',
        'themes', b -> 'themes', 'subjects', b -> 'subjects')::text
    FROM (SELECT v.body::jsonb AS b FROM item_versions v WHERE v.item_id = items.id AND v.version = items.published_version) AS v)
WHERE published_version > 0;
