package store

import "context"

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
