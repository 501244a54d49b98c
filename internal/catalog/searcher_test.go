package catalog_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Two instances on one database each keep their own index; a publication
// on one reaches the other's search within a poll.
func TestInstancesConvergeAfterPublish(t *testing.T) {
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
		if err := s.Publish(ctx, who, audit.Meta{}, it.ID, it.Version); err != nil {
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
