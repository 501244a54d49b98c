package store

// VersionQueries is how many times db has queried every row of
// cache_versions for requests' memos.
func (db *DB) VersionQueries() int64 { return db.versions.queries.Load() }
