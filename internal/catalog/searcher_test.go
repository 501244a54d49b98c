package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Two instances on one database each keep their own index; a publication
// on one reaches the other's search within a poll.
func TestInstancesConvergeAfterPublish(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(t, db)
		log := slog.New(slog.DiscardHandler)
		a, err := catalog.NewSearcher(ctx, s, log)
		if err != nil {
			t.Fatal(err)
		}
		b, err := catalog.NewSearcher(ctx, s, log)
		if err != nil {
			t.Fatal(err)
		}
		watchCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go b.Watch(watchCtx, 20*time.Millisecond)

		it := goodItem()
		who := editor("甲")
		if _, err := s.SaveDraft(ctx, who, audit.Meta{}, &it); err != nil {
			t.Fatal(err)
		}
		if b.Search("个体工商户", catalog.Filter{}, 0, 10).Total != 0 {
			t.Error("a draft is searchable")
		}
		if err := review(ctx, s, it.ID, it.Version); err != nil {
			t.Fatal(err)
		}
		if changed, err := a.Refresh(ctx); err != nil || !changed {
			t.Fatalf("instance a did not rebuild: %v %v", changed, err)
		}
		if changed, _ := a.Refresh(ctx); changed {
			t.Fatal("rebuilt although nothing changed")
		}
		if res := a.Search("营业执照", catalog.Filter{}, 0, 10); res.Total != 1 || res.Hits[0].ID != it.ID {
			t.Fatalf("instance a: %+v", res)
		}
		deadline := time.Now().Add(5 * time.Second)
		for b.Search("开店", catalog.Filter{Level: 1, Department: "scjgj"}, 0, 10).Total != 1 {
			if time.Now().After(deadline) {
				t.Fatal("instance b never learned of the publication")
			}
			time.Sleep(10 * time.Millisecond)
		}
		// Synonyms are catalog data too.
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return s.SetSynonyms(ctx, tx, "做生意", []string{"个体工商户设立登记"})
		}); err != nil {
			t.Fatal(err)
		}
		a.Refresh(ctx)
		if res := a.Search("做生意", catalog.Filter{}, 0, 10); res.Total != 1 {
			t.Fatalf("synonym: %+v", res)
		}
		// A suspended item stays findable (its guide says why); a cancelled one does not.
		if err := s.SetStatus(ctx, who, audit.Meta{}, it.ID, catalog.Cancelled, "职能划转"); err != nil {
			t.Fatal(err)
		}
		a.Refresh(ctx)
		if res := a.Search("营业执照", catalog.Filter{}, 0, 10); res.Total != 0 {
			t.Fatalf("cancelled item found: %+v", res)
		}
	})
}

func TestReadinessAndQualityReport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(t, db)
		online, offline := goodItem(), goodItem()
		offline.BaseCode, offline.Name, offline.Depth, offline.Visits, offline.VisitReason = "010100100009", "烟花爆竹经营许可", catalog.DepthPublic, 1, "现场核查"
		for _, it := range []*catalog.Item{&online, &offline} {
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				return s.Load(ctx, tx, it, "甲")
			}); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.Readiness(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Levels) != 3 || r.Levels[0].Total != 2 || r.Levels[0].Online != 1 || r.Levels[0].Percent() != 50 {
			t.Fatalf("levels %+v", r.Levels)
		}
		if len(r.Gaps) != 1 || r.Gaps[0].Name != "烟花爆竹经营许可" || r.Gaps[0].Department != "区市场监管局" {
			t.Fatalf("gaps %+v", r.Gaps)
		}
		// The whole-catalog check finds a published guide that breaks a rule
		// (as one would after a rule is tightened); here its phones are made
		// equal behind the store's back.
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE item_versions SET body = REPLACE(body, '"12345"', '"0375-8861002"') WHERE item_id = ?`, online.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		failing, err := s.QualityReport(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(failing) != 1 || failing[0].Item.ID != online.ID || failing[0].Problems[0].Rule != "phones" {
			t.Fatalf("quality report %+v", failing)
		}
	})
}

// A second instance over the same database sees what the first one
// changed — a new version of an item, a suspension, a synonym — and its
// rebuild decodes only the guide that changed, not the whole catalog.
func TestSecondInstanceReloadsOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(t, db)
		who := editor("甲")
		var items []catalog.Item
		for i, name := range []string{"个体工商户设立登记", "食品经营许可", "烟花爆竹经营许可"} {
			it := goodItem()
			it.BaseCode, it.Name = fmt.Sprintf("01010010010%d", i), name
			if _, err := s.SaveDraft(ctx, who, audit.Meta{}, &it); err != nil {
				t.Fatal(err)
			}
			if err := review(ctx, s, it.ID, it.Version); err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
		}
		log := slog.New(slog.DiscardHandler)
		b, err := catalog.NewSearcher(ctx, catalog.NewStore(db, region.NewStore(db), clock.System{}), log)
		if err != nil {
			t.Fatal(err)
		}
		if catalog.Decoded(b) != 3 || b.Len() != 3 {
			t.Fatalf("first build: decoded %d, %d items", catalog.Decoded(b), b.Len())
		}
		// On instance a: the first item gets a new name, the second is
		// suspended, and a synonym is added.
		changed := items[0]
		changed.Name = "个体工商户开业登记"
		if _, err := s.SaveDraft(ctx, who, audit.Meta{}, &changed); err != nil {
			t.Fatal(err)
		}
		if err := review(ctx, s, changed.ID, changed.Version); err != nil {
			t.Fatal(err)
		}
		if err := s.SetStatus(ctx, who, audit.Meta{}, items[1].ID, catalog.Suspended, "系统升级"); err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return s.SetSynonyms(ctx, tx, "放鞭炮", []string{"烟花爆竹经营许可"})
		}); err != nil {
			t.Fatal(err)
		}
		if ok, err := b.Refresh(ctx); err != nil || !ok {
			t.Fatalf("instance b did not rebuild: %v %v", ok, err)
		}
		if n := catalog.Decoded(b); n != 1 {
			t.Errorf("the rebuild decoded %d guides; only the one changed needs decoding", n)
		}
		if res := b.Search("开业登记", catalog.Filter{}, 0, 10); res.Total != 1 || res.Hits[0].ID != changed.ID {
			t.Errorf("the new name: %+v", res)
		}
		if res := b.Search("设立登记", catalog.Filter{}, 0, 10); res.Total != 0 {
			t.Errorf("the old name is still found: %+v", res)
		}
		if res := b.Search("食品经营许可", catalog.Filter{}, 0, 10); res.Total != 1 || !res.Hits[0].Suspended {
			t.Errorf("the suspended item: %+v", res)
		}
		if res := b.Search("放鞭炮", catalog.Filter{}, 0, 10); res.Total != 1 || res.Hits[0].ID != items[2].ID {
			t.Errorf("the synonym: %+v", res)
		}
		// Resumed, and nothing else changed: still no guide decoded.
		if err := s.SetStatus(ctx, who, audit.Meta{}, items[1].ID, catalog.Published, "升级完成"); err != nil {
			t.Fatal(err)
		}
		b.Refresh(ctx)
		if res := b.Search("食品经营许可", catalog.Filter{}, 0, 10); res.Total != 1 || res.Hits[0].Suspended || catalog.Decoded(b) != 0 {
			t.Errorf("resumed: %+v, decoded %d", res, catalog.Decoded(b))
		}
	})
}

// Items published before entries were kept get theirs from migration
// 0013's backfill, which must write what publication writes; until then
// (an empty entry) the index reads the guide.
func TestSearchEntryBackfill(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(t, db)
		it := goodItem()
		it.Aliases = []string{"开店", "办执照"}
		who := editor("甲")
		if _, err := s.SaveDraft(ctx, who, audit.Meta{}, &it); err != nil {
			t.Fatal(err)
		}
		if err := review(ctx, s, it.ID, it.Version); err != nil {
			t.Fatal(err)
		}
		entry := func() map[string]any {
			var text string
			if err := db.Read().QueryRow(ctx, `SELECT search_entry FROM items WHERE id = ?`, it.ID).Scan(&text); err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if text != "" {
				if err := json.Unmarshal([]byte(text), &m); err != nil {
					t.Fatal(err)
				}
			}
			return m
		}
		written := entry()
		if written["name"] != it.Name || len(written) < 10 {
			t.Fatalf("entry written at publication: %v", written)
		}
		clear := func() {
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE items SET search_entry = ''`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		clear()
		sr, err := catalog.NewSearcher(ctx, s, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if res := sr.Search("办执照", catalog.Filter{Department: "scjgj"}, 0, 10); res.Total != 1 {
			t.Fatalf("from the guide: %+v", res)
		}
		sql, err := os.ReadFile(fmt.Sprintf("../store/migrations/%s/0013_item_search_entry.sql", db.Dialect))
		if err != nil {
			t.Fatal(err)
		}
		_, update, ok := strings.Cut(string(sql), "DEFAULT '';")
		if !ok {
			t.Fatal("no backfill in the migration")
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, update)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := entry(); !reflect.DeepEqual(got, written) {
			t.Fatalf("backfill wrote %v\npublication wrote %v", got, written)
		}
	})
}
