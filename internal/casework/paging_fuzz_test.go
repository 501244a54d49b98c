package casework

import (
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
)

// A list's cursor comes back in the URL (after=…), where anyone can
// change it: parsing never panics, a cursor of the wrong shape is the one
// Chinese refusal, and a cursor the lists made reads back as its values.
func FuzzCursor(f *testing.F) {
	f.Add("1764547200000000000,42", int64(7), int64(1764547200000000000))
	f.Add("2026-12-01,1764547200000000000,9", int64(-1), int64(0))
	f.Add(",", int64(0), int64(-1))
	f.Add("1,2,3,4", int64(1<<62), int64(1<<62))
	f.Add("９,x", int64(0), int64(0))
	f.Fuzz(func(t *testing.T, after string, id, nanos int64) {
		for n := 1; n <= 3; n++ {
			c, err := parseCursor(after, n)
			if err != nil {
				if err != errCursor {
					t.Fatalf("parseCursor(%q, %d): %v", after, n, err)
				}
				continue
			}
			if after == "" {
				if c != nil {
					t.Fatalf("the first page has a cursor %q", c)
				}
				continue
			}
			if len(c) != n {
				t.Fatalf("parseCursor(%q, %d) has %d parts", after, n, len(c))
			}
			for i := range c {
				for _, err := range []error{second(c.int(i)), second(c.time(i)), second(c.date(i))} {
					if err != nil && (err != errCursor || !apperr.Is(err, apperr.Invalid)) {
						t.Fatalf("part %d of %q: %v", i, after, err)
					}
				}
			}
		}
		at := time.Unix(0, nanos).UTC()
		c, err := parseCursor(makeCursor("2026-12-01", at, id), 3)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := c.date(0)
		gotAt, err1 := c.time(1)
		gotID, err2 := c.int(2)
		if d != "2026-12-01" || err1 != nil || err2 != nil || !gotAt.Equal(at) || gotID != id {
			t.Fatalf("cursor of (%v, %d) read back as (%q, %v, %d)", at, id, d, gotAt, gotID)
		}
	})
}

func second[T any](_ T, err error) error { return err }
