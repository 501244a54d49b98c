package store

import "context"

// VersionQueries is how many times db has queried every row of
// cache_versions for requests' memos.
func (db *DB) VersionQueries() int64 { return db.versions.queries.Load() }

// MigrateTo applies the migrations up to version n only, so that a test
// can put rows in the older schema and see a later migration move them.
func (db *DB) MigrateTo(ctx context.Context, n int) error {
	ms, err := Migrations(db.Dialect)
	if err != nil {
		return err
	}
	for _, m := range ms[:n] {
		if _, err := db.applyOne(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
