package webhook_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/webhook"
)

// A rating of a finished case reaches a subscriber through rating's
// OnRated hook, with its level and never the rater's comment.
func TestRatingIsDelivered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, webhook.Options{})
		startQueue(t, f)
		r := newReceiver(t, f.clk)
		subscribe(t, f, r, webhook.RatingCreated)
		ratings := rating.New(db, catalog.NewStore(db, region.NewStore(db), f.clk), f.clk, calendar.New(nil), rating.Options{Keys: f.keys})
		ratings.OnRated(f.hooks.RatingCreated)
		f.cases.OnFinished(ratings.InviteCase)
		c := journey(t, f)
		inv, ok, err := ratings.ForCase(ctx, f.citizen, c.ID)
		if err != nil || !ok {
			t.Fatalf("invitation: %v %v", ok, err)
		}
		scores := map[string]rating.Level{}
		for _, d := range rating.Dimensions(inv.Subject.Scene) {
			scores[d.Key] = 2
		}
		if _, err := ratings.Rate(ctx, f.citizen, audit.Meta{}, inv.ID, rating.Input{Level: 2, Scores: scores, Comment: "窗口态度冷淡，张三很不满意",
			Channel: rating.ByWeb}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the rating", func() bool { return len(r.types()) == 1 })
		r.mu.Lock()
		got, body := r.got[0].Rating, string(r.bodies[0])
		r.mu.Unlock()
		if got == nil || got.Of != rating.OfCase || got.Number != c.Number || got.Level != 2 || !got.Bad || got.LevelName != "不满意" ||
			got.Department == "" || got.Title != "个体工商户设立登记" {
			t.Fatalf("payload %+v", got)
		}
		if strings.Contains(body, "态度冷淡") || strings.Contains(body, "张三") {
			t.Fatalf("the body carries the comment or the rater: %s", body)
		}
	})
}
