-- Whether a stored file is still referenced (a refused upload's file is
-- deleted at once, the hourly sweep removes orphans) is asked by SHA-256
-- of case materials and results: index both so the question stays cheap
-- however many cases there are.
CREATE INDEX case_materials_sha256 ON case_materials (sha256);
CREATE INDEX cases_result_sha256 ON cases (result_sha256);
