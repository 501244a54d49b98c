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
    SELECT json_object(
        'name', json(v.body -> '$.name'), 'aliases', json(v.body -> '$.aliases'),
        'result', json_object('name', json(v.body -> '$.result.name'), 'type', json(v.body -> '$.result.type')),
        'base_code', json(v.body -> '$.base_code'), 'region_code', json(v.body -> '$.region_code'),
        'department_id', json(v.body -> '$.department_id'), 'department', json(v.body -> '$.department'),
        'level', json(v.body -> '$.level'), 'type', json(v.body -> '$.type'), 'depth', json(v.body -> '$.depth'),
        'case_kind', json(v.body -> '$.case_kind'), 'visits', json(v.body -> '$.visits'),
        'promise_limit', json(v.body -> '$.promise_limit'),
        'themes', json(v.body -> '$.themes'), 'subjects', json(v.body -> '$.subjects'))
    FROM item_versions v WHERE v.item_id = items.id AND v.version = items.published_version)
WHERE published_version > 0;
