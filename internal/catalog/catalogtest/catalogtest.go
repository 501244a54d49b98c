// Package catalogtest fills a database with a large published catalog
// for benchmarks.
package catalogtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Seed publishes n items through the store's own rows: one item is
// saved and published the ordinary way, then n-1 copies of its guide with
// other names and codes are written in batches (the ordinary way would
// take minutes at 100 000). it must be a valid new item; it comes back
// saved and published.
func Seed(tb testing.TB, db *store.DB, s *catalog.Store, it *catalog.Item, n int) {
	tb.Helper()
	ctx := context.Background()
	who := policy.Subject{Kind: policy.Staff, Name: "甲", Roles: []policy.Role{policy.Admin}}
	if _, err := s.SaveDraft(ctx, who, audit.Meta{}, it); err != nil {
		tb.Fatal(err)
	}
	// Published by a second person, as the catalog requires.
	if err := s.SubmitForReview(ctx, who, audit.Meta{}, it.ID, it.Version); err != nil {
		tb.Fatal(err)
	}
	if err := s.Publish(ctx, policy.Subject{Kind: policy.Staff, Name: "乙", Roles: []policy.Role{policy.Admin}}, audit.Meta{}, it.ID, it.Version); err != nil {
		tb.Fatal(err)
	}
	subjects := []string{"个体工商户", "食品经营", "建设工程", "城乡居民养老保险", "最低生活保障", "机动车", "居住证", "出版物经营", "道路运输", "药品零售"}
	actions := []string{"设立登记", "变更登记", "注销登记", "许可", "审批", "备案", "核发", "延续", "补办", "查询"}
	now := time.Now()
	const batch = 200
	for from := 1; from < n; from += batch {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			var items, versions []string
			var iargs, vargs []any
			for i := from; i < min(from+batch, n); i++ {
				c := *it
				c.ID = int64(it.ID) + int64(i)
				c.Name = fmt.Sprintf("%s%s（%d）", subjects[i%len(subjects)], actions[i/len(subjects)%len(actions)], i)
				c.ImplCode = fmt.Sprintf("%sB%d", it.ImplCode, i)
				c.Aliases = []string{subjects[i%len(subjects)]}
				body, err := json.Marshal(c)
				if err != nil {
					return err
				}
				entry, err := catalog.SearchEntry(c)
				if err != nil {
					return err
				}
				items = append(items, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'published', 1, 1, ?, ?, ?, ?, ?)")
				iargs = append(iargs, c.ID, c.ImplCode, c.BaseCode, c.Name, c.Type, c.Level, c.DepartmentID, c.RegionCode, c.Depth,
					c.CaseKind, c.Visits, i%1000, string(entry), now, now, now)
				versions = append(versions, "(?, 1, ?, '甲', ?)")
				vargs = append(vargs, c.ID, string(body), now)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO items (id, impl_code, base_code, name, type, level, department_id, region_code, depth,
				case_kind, visits, status, published_version, latest_version, popularity, search_entry, created_at, updated_at, published_at) VALUES `+
				strings.Join(items, ", "), iargs...); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO item_versions (item_id, version, body, created_by, created_at) VALUES `+
				strings.Join(versions, ", "), vargs...)
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}
