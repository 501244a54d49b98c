package complaint_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// An answered complaint goes on a board through board.Service with the
// complainant's name, mobile and identity numbers and house number gone
// from every text, within the supervisor's region only, and comes off it.
func TestBoardPublishesAnAnsweredComplaintWithoutPersonalData(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		boards := board.New(db, f.clk, f.svc.BoardSource())
		c, _, err := f.svc.Create(ctx, f.citizen, meta, complaint.Filing{CategoryID: f.cats["general"].ID, Title: "烧烤店噪音扰民",
			// The mobile number runs across the summary's 80th character.
			Description: "我是张三丰，身份证410411199003071234，住在开源小区3号楼2单元501室，楼下烧烤店每晚营业到凌晨两点，噪音很大，" +
				"多次沟通无果，电话13812345678，请有关部门尽快处理。另外，烧烤油烟直排，楼上住户的窗户都不敢开，夏天尤其严重，希望一并处理。",
			Address: "马庄街道建设路12号院3号楼2单元501室", RegionCode: kaiyuan, Name: "张三丰", Mobile: "13812345678"})
		if err != nil {
			t.Fatal(err)
		}
		// Still being handled: not yet a candidate, and refused.
		if cs, err := boards.Candidates(ctx, f.supervisor, "complaint", board.Filter{}); err != nil || len(cs) != 0 {
			t.Fatalf("candidates before the reply: %+v %v", cs, err)
		}
		d := board.Draft{Board: board.Praise, Source: "complaint", SourceID: c.ID, Title: "张三丰反映的噪音问题当天解决", Note: "诉求人张三丰（13812345678）来电致谢。"}
		if _, err := boards.Publish(ctx, f.supervisor, meta, d); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("publishing a complaint not answered: %v", err)
		}
		if c, err = f.svc.Sign(ctx, f.street, meta, c.ID, c.Version); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RecordContact(ctx, f.street, meta, c.ID, "电话联系张三丰，约定现场查看"); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(3 * time.Hour)
		if c, err = f.svc.Reply(ctx, f.street, meta, c.ID, c.Version, "经现场核查，已责令该烧烤店晚上十点后停止室外经营，并安装隔音设施。已回复张三丰（13812345678）。"); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Confirm(ctx, f.citizen, meta, c.ID, c.Version, complaint.Confirmation{Resolved: true, Satisfied: true, Comment: "谢谢，我家住501室"}); err != nil {
			t.Fatal(err)
		}

		cs, err := boards.Candidates(ctx, f.supervisor, "complaint", board.Filter{Query: "噪音", Late: "ontime"})
		if err != nil || len(cs) != 1 || cs[0].ID != c.ID || cs[0].Outcome != "按时答复，已解决" || cs[0].Department != "马庄街道便民服务中心" {
			t.Fatalf("candidates: %+v %v", cs, err)
		}
		if cs, err := boards.Candidates(ctx, f.supervisor, "complaint", board.Filter{Late: "late"}); err != nil || len(cs) != 0 {
			t.Fatalf("late candidates: %+v %v", cs, err)
		}
		// 南环路街道's supervisor neither lists nor publishes it.
		if cs, err := boards.Candidates(ctx, f.otherSup, "complaint", board.Filter{}); err != nil || len(cs) != 0 {
			t.Fatalf("another street's supervisor's candidates: %+v %v", cs, err)
		}
		if _, err := boards.Publish(ctx, f.otherSup, meta, d); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("publishing out of scope: %v", err)
		}
		if _, err := boards.Publish(ctx, f.street, meta, d); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("the unit publishes: %v", err)
		}

		e, err := boards.Publish(ctx, f.supervisor, meta, d)
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
		for _, leak := range []string{"张三", "138123", "410411199003071234", "12号院", "3号楼", "501", "烧烤店噪音扰民", "油烟直排"} {
			if strings.Contains(all, leak) {
				t.Errorf("%q is on the public entry: %s", leak, all)
			}
		}
		for _, want := range []string{"某某反映的噪音问题当天解决", "一般类", "马庄街道便民服务中心", "开源社区", "发生地点马庄街道反映渠道", "在答复时限内答复",
			"已解决，满意", "楼下烧烤店每晚营业到凌晨两点", "请有关部门尽快处理。……", "安装隔音设施"} {
			if !strings.Contains(all, want) {
				t.Errorf("%q is missing from the public entry: %s", want, all)
			}
		}
		if _, err := boards.Publish(ctx, f.supervisor, meta, d); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("publishing twice: %v", err)
		}
		if err := boards.Withdraw(ctx, f.otherSup, meta, e.ID, "不在范围"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("withdrawing out of scope: %v", err)
		}
		if err := boards.Withdraw(ctx, f.supervisor, meta, e.ID, "诉求人不同意公开"); err != nil {
			t.Fatal(err)
		}
		if _, err := boards.Get(ctx, e.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a withdrawn entry: %v", err)
		}
		if cs, err := boards.Candidates(ctx, f.supervisor, "complaint", board.Filter{}); err != nil || len(cs) != 1 || len(cs[0].On) != 0 {
			t.Errorf("after withdrawing: %+v %v", cs, err)
		}
	})
}
