package rating_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// rated finishes a case of the citizen's and rates it with in.
func rated(t *testing.T, f fixture, in rating.Input) rating.Rating {
	t.Helper()
	ctx := context.Background()
	c := completed(t, f)
	inv, ok, err := f.ratings.ForCase(ctx, f.citizen, c.ID)
	if err != nil || !ok {
		t.Fatalf("invitation: %v %v", ok, err)
	}
	r, err := f.ratings.Rate(ctx, f.citizen, meta, inv.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A rating with a comment goes on a board through board.Service — a 好评
// on the 表扬台, a 差评 once called back, with its rectification, on the
// 曝光台 — with the rater's name, numbers and house number gone from
// every text, within the supervisor's region only, and comes off it.
func TestBoardPublishesRatingsWithoutTheRater(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, rating.Options{})
		boards := board.New(db, f.clk, f.ratings.BoardSource())
		personal := "我是张三，身份证410411199003071234，住建设路12号院3号楼，电话13812345678。"
		in := good()
		in.Comment = personal + "窗口工作人员耐心细致，一次办好。"
		praised := rated(t, f, in)
		in = bad()
		in.Comment = personal + "材料要求前后不一，跑了三趟。"
		exposed := rated(t, f, in)
		plain := good()
		plain.Comment = ""
		rated(t, f, plain) // no comment: nothing to publish

		// The 差评 is not a candidate until the unit has called back.
		cs, err := boards.Candidates(ctx, f.supervisor, "rating", board.Filter{})
		if err != nil || len(cs) != 1 || cs[0].ID != praised.ID || cs[0].Outcome != "非常满意" || cs[0].Subject != "个体工商户设立登记" {
			t.Fatalf("candidates: %+v %v", cs, err)
		}
		expose := board.Draft{Board: board.Exposure, Source: "rating", SourceID: exposed.ID, Title: "材料要求前后不一，已整改"}
		if _, err := boards.Publish(ctx, f.supervisor, meta, expose); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("publishing a 差评 before its call-back: %v", err)
		}
		if err := f.ratings.CallBack(ctx, f.reviewer, meta, exposed.FollowUpID, true, "已电话联系张三，致歉并说明材料要求"); err != nil {
			t.Fatal(err)
		}
		if err := f.ratings.Rectify(ctx, f.reviewer, meta, exposed.FollowUpID, "统一了窗口和网上的材料清单，对窗口人员开展培训。"); err != nil {
			t.Fatal(err)
		}
		if cs, err := boards.Candidates(ctx, f.supervisor, "rating", board.Filter{Late: "ontime"}); err != nil || len(cs) != 1 || cs[0].ID != exposed.ID ||
			cs[0].Outcome != "非常不满意，按期整改" {
			t.Fatalf("candidates rectified in time: %+v %v", cs, err)
		}
		// A street's supervisor neither lists nor publishes them.
		if cs, err := boards.Candidates(ctx, f.streetSup, "rating", board.Filter{}); err != nil || len(cs) != 0 {
			t.Fatalf("a street's supervisor's candidates: %+v %v", cs, err)
		}
		praise := board.Draft{Board: board.Praise, Source: "rating", SourceID: praised.ID, Title: "张三点赞：一次办好"}
		if _, err := boards.Publish(ctx, f.streetSup, meta, praise); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("publishing out of scope: %v", err)
		}

		for _, tc := range []struct {
			d          board.Draft
			want       []string
			notWanting string
		}{
			{praise, []string{"某某点赞", "个体工商户设立登记", "市场监督管理局", "非常满意", "窗口工作人员耐心细致", "建设路"}, "整改"},
			{expose, []string{"非常不满意", "材料要求前后不一", "在整改期限内", "统一了窗口和网上的材料清单"}, ""},
		} {
			e, err := boards.Publish(ctx, f.supervisor, meta, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			public, err := boards.Get(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			all := public.Title + public.Note + public.Subject + public.Department + public.Region + public.Text
			for _, fact := range public.Facts {
				all += fact.Label + fact.Value
			}
			for _, leak := range []string{"张三", "13812345678", "410411199003071234", "12号院", "3号楼", "138****5678"} {
				if strings.Contains(all, leak) {
					t.Errorf("%q is on the public entry: %s", leak, all)
				}
			}
			for _, want := range tc.want {
				if !strings.Contains(all, want) {
					t.Errorf("%q is missing from the public entry: %s", want, all)
				}
			}
			if tc.notWanting != "" && strings.Contains(all, tc.notWanting) {
				t.Errorf("%q is on the entry of a 好评: %s", tc.notWanting, all)
			}
			if err := boards.Withdraw(ctx, f.streetSup, meta, e.ID, "不在范围"); !apperr.Is(err, apperr.Forbidden) {
				t.Errorf("withdrawing out of scope: %v", err)
			}
			if err := boards.Withdraw(ctx, f.supervisor, meta, e.ID, "评价人不同意公开"); err != nil {
				t.Fatal(err)
			}
			if _, err := boards.Get(ctx, e.ID); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("a withdrawn entry: %v", err)
			}
		}
	})
}
