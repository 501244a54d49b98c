package casework_test

import (
	"context"
	"errors"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// variant publishes a copy of the fixture's item, changed by change.
func variant(t testing.TB, f fixture, db *store.DB, code string, change func(*catalog.Item)) int64 {
	t.Helper()
	ctx := context.Background()
	it := f.item
	it.ID, it.Version, it.BaseCode, it.ImplCode = 0, 0, code, ""
	change(&it)
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		return f.items.Load(ctx, tx, &it, "测试")
	}); err != nil {
		t.Fatal(err)
	}
	return it.ID
}

func submitted(t *testing.T, f fixture, itemID int64) casework.Case {
	t.Helper()
	c, err := f.svc.Apply(context.Background(), f.citizen, itemID, map[string]string{"name": "张三"},
		[]casework.Attachment{{Position: 0, Object: pdf, Filename: "身份证.pdf"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// An item shapes its workflow: which steps it has and who takes each.
func TestItemWorkflowDecidesWhoActs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		// No 预审; only the head decides; the window clerk completes.
		id := variant(t, f, db, "010100100002", func(it *catalog.Item) {
			it.Workflow = []catalog.WorkStep{
				{Step: catalog.StepAccept, Roles: []policy.Role{policy.Window}},
				{Step: catalog.StepReview, Roles: []policy.Role{policy.Reviewer}, Share: 50},
				{Step: catalog.StepDecide, Roles: []policy.Role{policy.Head}, Share: 40},
				{Step: catalog.StepComplete, Roles: []policy.Role{policy.Window}, Share: 10},
			}
		})
		c := submitted(t, f, id)
		it, err := f.items.Version(ctx, id, c.ItemVersion)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.svc.Available(ctx, f.window, c, it); len(got) != 3 || got[0] != casework.Accept {
			t.Fatalf("window may: %v (no 预审 in this workflow)", got)
		}
		if _, err := f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Precheck, ""); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("precheck where the item has none: %v", err)
		}
		if _, err := f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Accept, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("reviewer accepts where only the window may: %v", err)
		}
		if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); err != nil {
			t.Fatal(err)
		}
		// Each timed step has its own date, its share of the limit: 审查 50%
		// of 3 days (accepted Wednesday 2026-11-25) rounds up to 2, Friday
		// the 27th; 审查+决定 90% to 3, Monday the 30th, like the whole limit.
		dues := func() string {
			var out []string
			for _, d := range f.svc.StepDues(c, it) {
				cur := ""
				if d.Current {
					cur = "*"
				}
				out = append(out, d.Step+":"+d.Due.String()+cur)
			}
			return strings.Join(out, " ")
		}
		if got := dues(); got != "审查:2026-11-27* 决定:2026-11-30 办结:2026-11-30" || c.DueOn.String() != "2026-11-30" {
			t.Fatalf("step dues: %s (case due %s)", got, c.DueOn)
		}
		// The reviewer reviews; that does not decide, and the reviewer may not.
		if _, err := f.svc.Decide(ctx, f.head, c.ID, c.Version, true, "准予", ""); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("the head decides before the review: %v", err)
		}
		if got := f.svc.Available(ctx, f.head, c, it); slices.Contains(got, casework.Decide) {
			t.Fatalf("decision offered before the review: %v", got)
		}
		if _, err := f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Review, "材料齐全"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("the window clerk reviews: %v", err)
		}
		if c, err = f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Review, "材料齐全，建议准予"); err != nil || c.Status != casework.Reviewed || c.Decision != "" {
			t.Fatalf("review: %+v %v", c, err)
		}
		if got := dues(); got != "审查:2026-11-27 决定:2026-11-30* 办结:2026-11-30" {
			t.Fatalf("step dues after review: %s", got)
		}
		if got := f.svc.Available(ctx, f.reviewer, c, it); slices.Contains(got, casework.Decide) {
			t.Fatalf("decision offered to the reviewer: %v", got)
		}
		if _, err := f.svc.Decide(ctx, f.reviewer, c.ID, c.Version, true, "准予", ""); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("reviewer decides after reviewing: %v", err)
		}
		if c, err = f.svc.Decide(ctx, f.head, c.ID, c.Version, true, "准予登记", "《条例》第八条"); err != nil || c.Decision != casework.Approved {
			t.Fatalf("head decides: %+v %v", c, err)
		}
		// An invalid workflow is refused when the item is saved.
		bad := f.item
		bad.ID, bad.Version, bad.BaseCode, bad.ImplCode = 0, 0, "010100100003", ""
		bad.Workflow = []catalog.WorkStep{{Step: catalog.StepDecide, Roles: []policy.Role{policy.Head}, Share: 30}, {Step: catalog.StepAccept, Roles: []policy.Role{"mayor"}}}
		_, err = f.items.SaveDraft(ctx, catalogAdmin, audit.Meta{}, &bad)
		for _, want := range []string{"顺序不对", "角色 \"mayor\" 无效", "缺少“审查”环节", "缺少“办结”环节", "占比之和应为100%"} {
			if !strings.Contains(apperr.MessageOf(err), want) {
				t.Errorf("bad workflow: %v lacks %q", err, want)
			}
		}
	})
}

// A denial ends the case without a result; a transfer hands the case to
// another department, whose staff then act and the first's no longer can.
func TestDenialAndTransfer(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		c := submitted(t, f, f.itemID)
		var err error
		if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Decide(ctx, f.head, c.ID, reviewed(t, f, c).Version, false, "经营场所不符合规定", ""); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Complete(ctx, f.window, c.ID, c.Version, filestore.Object{}, ""); err != nil || c.Status != casework.Completed {
			t.Fatalf("completing a denial: %+v %v", c, err)
		}
		docs, _ := casework.Documents(ctx, db.Read(), c.ID)
		if last := docs[len(docs)-1]; last.Title != "不予行政许可决定书" || !strings.Contains(last.Body, "本机关决定：不予个体工商户设立登记") || !strings.Contains(last.Body, "经营场所不符合规定") {
			t.Fatalf("denial: %+v", last)
		}

		regions := region.NewStore(db)
		mzj, _ := regions.DepartmentBySlug(ctx, db.Read(), "mzj")
		c = submitted(t, f, f.itemID)
		// Giving a case away is the head's decision (policy.Approve).
		head := f.reviewer
		head.Roles = []policy.Role{policy.Head}
		for _, who := range []policy.Subject{f.window, f.reviewer} {
			if _, err := f.svc.Transfer(ctx, who, c.ID, c.Version, mzj.ID, "属民政局职责"); !apperr.Is(err, apperr.Forbidden) {
				t.Fatalf("a %s transfers: %v", who.Roles[0], err)
			}
		}
		it, _ := f.items.Version(ctx, c.ItemID, c.ItemVersion)
		if slices.Contains(f.svc.Available(ctx, f.reviewer, c, it), casework.Transfer) || !slices.Contains(f.svc.Available(ctx, head, c, it), casework.Transfer) {
			t.Fatal("the transfer is offered to the reviewer, or not to the head")
		}
		if _, err := f.svc.Transfer(ctx, head, c.ID, c.Version, mzj.ID, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("transfer without a reason: %v", err)
		}
		if _, err := f.svc.Transfer(ctx, head, c.ID, c.Version, head.DepartmentID, "重复"); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("transfer to itself: %v", err)
		}
		if c, err = f.svc.Transfer(ctx, head, c.ID, c.Version, mzj.ID, "属民政局职责"); err != nil || c.DepartmentID != mzj.ID || c.Transfers != 1 || c.Status != casework.Submitted {
			t.Fatalf("transfer: %+v %v", c, err)
		}
		// The first department no longer sees it: to them it is not there.
		if _, err := f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("the first department still acts: %v", err)
		}
		if c, err = f.svc.Act(ctx, f.foreignWin, c.ID, c.Version, casework.Accept, ""); err != nil {
			t.Fatalf("the receiving department accepts: %v", err)
		}
		_, events, _ := f.svc.Get(ctx, f.citizen, c.ID)
		if e := events[len(events)-2]; e.Action != casework.Transfer || !strings.Contains(e.Reason, "移交至") || !strings.Contains(e.Reason, "属民政局职责") {
			t.Fatalf("transfer event %+v", e)
		}
	})
}

// Delivery issues the 送达回证; fetching the result at the window is a visit.
// 即办件 are settled at one sitting; a 承诺件 cannot be.
func TestDeliveryAndSettlement(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		licence := filestore.Object{SHA256: strings.Repeat("cd", 32), Size: 99, ContentType: filestore.TypePDF}
		c := submitted(t, f, f.itemID)
		if _, err := f.svc.Settle(ctx, f.window, c.ID, c.Version, "准予", licence, "执照.pdf"); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("settling a 承诺件: %v", err)
		}
		id := variant(t, f, db, "010100100004", func(it *catalog.Item) {
			it.Name, it.CaseKind, it.PromiseLimit = "即办证明", catalog.Immediate, catalog.TimeLimit{Value: 1, Unit: "工作日"}
		})
		c = submitted(t, f, id)
		// Settling decides: by default the head's step, not the window's.
		it, _ := f.items.Version(ctx, c.ItemID, c.ItemVersion)
		if _, err := f.svc.Settle(ctx, f.window, c.ID, c.Version, "符合条件，当场办结", licence, "证明.pdf"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("the window clerk settles where the head decides: %v", err)
		}
		if slices.Contains(f.svc.Available(ctx, f.window, c, it), casework.Settle) || !slices.Contains(f.svc.Available(ctx, f.head, c, it), casework.Settle) {
			t.Fatalf("settling offered: window %v, head %v", f.svc.Available(ctx, f.window, c, it), f.svc.Available(ctx, f.head, c, it))
		}
		if _, err := f.svc.Settle(ctx, f.head, c.ID, c.Version, "准予", filestore.Object{}, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("settling without a result: %v", err)
		}
		c, err := f.svc.Settle(ctx, f.head, c.ID, c.Version, "符合条件，当场办结", licence, "证明.pdf")
		if err != nil || c.Status != casework.Completed || c.Decision != casework.Approved || c.ResultName != "证明.pdf" {
			t.Fatalf("settle: %+v %v", c, err)
		}
		if _, err := f.svc.Deliver(ctx, f.window, c.ID, c.Version, casework.DeliverExpress, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("express without a waybill: %v", err)
		}
		if c, err = f.svc.Deliver(ctx, f.window, c.ID, c.Version, casework.DeliverWindow, ""); err != nil || c.Status != casework.Delivered || c.Delivery != casework.DeliverWindow {
			t.Fatalf("deliver: %+v %v", c, err)
		}
		_, events, _ := f.svc.Get(ctx, f.citizen, c.ID)
		var actions []string
		for _, e := range events {
			actions = append(actions, string(e.Action))
		}
		if got := strings.Join(actions, " "); got != "create upload submit accept decide complete visit deliver" {
			t.Fatalf("record: %s", got)
		}
		docs, _ := casework.Documents(ctx, db.Read(), c.ID)
		var titles []string
		for _, d := range docs {
			titles = append(titles, d.Title)
		}
		if got := strings.Join(titles, " "); got != "受理通知书 准予行政许可决定书 送达回证" {
			t.Fatalf("documents: %s", got)
		}
		if !strings.Contains(docs[2].Body, "证明.pdf") || !strings.Contains(docs[2].Body, "窗口领取") {
			t.Fatalf("送达回证: %s", docs[2].Body)
		}
		var visits int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM case_visits WHERE case_id = ?`, c.ID).Scan(&visits)
		if visits != 1 {
			t.Fatalf("%d visits recorded, want the one to fetch the result", visits)
		}
	})
}

// Work queues are sorted by urgency and filtered by deadline, channel and
// number or item name.
func TestQueueFilters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		accept := func() casework.Case {
			c := submitted(t, f, f.itemID)
			c, err := f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, "")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		a := accept() // Wednesday 11-25, three working days: due Monday 11-30
		f.clk.Set(time.Date(2026, 11, 27, 9, 0, 0, 0, clock.China))
		b := accept() // Friday 11-27: due Wednesday 12-02
		f.clk.Set(time.Date(2026, 12, 2, 9, 0, 0, 0, clock.China))
		numbers := func(qf casework.QueueFilter) string {
			t.Helper()
			list, err := rows(f.svc.Queue(ctx, f.reviewer, casework.Reviewing, qf, 50))
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range list {
				out = append(out, e.Number+":"+e.Deadline.String())
			}
			return strings.Join(out, " ")
		}
		for qf, want := range map[casework.QueueFilter]string{
			{}:                               a.Number + ":超期 " + b.Number + ":预警",
			{Due: "late"}:                    a.Number + ":超期",
			{Due: "soon"}:                    b.Number + ":预警",
			{Query: b.Number[6:]}:            b.Number + ":预警",
			{Query: "个体工商户"}:                 a.Number + ":超期 " + b.Number + ":预警",
			{Query: "50%_"}:                  "",
			{Channel: "window"}:              "",
			{Channel: "online", Due: "late"}: a.Number + ":超期",
		} {
			if got := numbers(qf); got != want {
				t.Errorf("%+v: %q, want %q", qf, got, want)
			}
		}
		if _, err := rows(f.svc.Queue(ctx, f.reviewer, casework.Reviewing, casework.QueueFilter{Due: "tomorrow"}, 50)); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("unknown filter: %v", err)
		}
	})
}

// A licence a department here issued to the applicant is offered for a
// material of that name in a later application (免提交), and only to them:
// matched and shown by the item's result name (审批结果名称), whatever the
// clerk's scanner called the file.
func TestIssuedResultIsReusable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		licence := filestore.Object{SHA256: strings.Repeat("ef", 32), Size: 321, ContentType: filestore.TypePDF}
		c := submitted(t, f, f.itemID)
		c, _ = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, "")
		c, _ = f.svc.Decide(ctx, f.head, c.ID, reviewed(t, f, c).Version, true, "准予", "")
		if _, err := f.svc.Complete(ctx, f.window, c.ID, c.Version, licence, "SCAN_0012.pdf"); err != nil {
			t.Fatal(err)
		}
		// A later item asks for the licence.
		id := variant(t, f, db, "010100100005", func(it *catalog.Item) {
			it.Name = "食品经营许可"
			it.Materials = append(it.Materials, catalog.Material{Name: "营业执照副本", Necessity: "必需", Form: "电子", Copies: 1, Source: "政府部门核发", Standard: "有效期内"})
		})
		draft, err := f.svc.CreateDraft(ctx, f.citizen, id, map[string]string{"name": "张三"})
		if err != nil {
			t.Fatal(err)
		}
		offers, err := f.svc.Reusable(ctx, f.citizen, draft.ID, "营业执照副本")
		if err != nil || len(offers) != 1 || offers[0].Position != casework.ResultPosition || offers[0].CaseID != c.ID || offers[0].SHA256 != licence.SHA256 || offers[0].Filename != "营业执照.pdf" {
			t.Fatalf("offers: %+v %v", offers, err)
		}
		// Nor is it offered for a material named otherwise.
		if none, err := f.svc.Reusable(ctx, f.citizen, draft.ID, "经营场所证明"); err != nil || len(none) != 0 {
			t.Fatalf("the licence is offered for another material: %+v %v", none, err)
		}
		if others, _ := f.svc.Reusable(ctx, f.other, draft.ID, "营业执照副本"); len(others) != 0 {
			t.Fatalf("another person is offered the licence: %+v", others)
		}
		m, err := f.svc.MaterialOf(ctx, f.citizen, c.ID, casework.ResultPosition)
		if err != nil || m.SHA256 != licence.SHA256 || m.Filename != "营业执照.pdf" {
			t.Fatalf("the result as a material: %+v %v", m, err)
		}
		if _, err := f.svc.Attach(ctx, f.other, draft.ID, draft.Version, 1, licence, "x.pdf", c.ID); err == nil {
			t.Fatal("another person attached the licence")
		}
		if draft, err = f.svc.Attach(ctx, f.citizen, draft.ID, draft.Version, 1, licence, m.Filename, c.ID); err != nil {
			t.Fatal(err)
		}
		mats, _ := casework.Materials(ctx, db.Read(), draft.ID)
		if len(mats) != 1 || mats[0].ReusedFrom != c.ID || mats[0].Name != "营业执照副本" {
			t.Fatalf("materials %+v", mats)
		}
	})
}

// A mail the server refused for good (5xx) is cancelled, not retried for
// days; anything else is retried.
func TestMailWorkerCancelsHopelessMail(t *testing.T) {
	t.Parallel()
	refused := &textproto.Error{Code: 550, Msg: "mailbox unavailable"}
	for _, tc := range []struct {
		err    error
		cancel bool
	}{{nil, false}, {refused, true}, {errors.New("connection refused"), false}} {
		w := &casework.MailWorker{Send: func(context.Context, int64, string, string) error { return tc.err }}
		err := w.Work(context.Background(), &river.Job[casework.MailArgs]{Args: casework.MailArgs{AccountID: 1, Subject: "s", Body: "b"}})
		var cancel *river.JobCancelError
		if errors.As(err, &cancel) != tc.cancel || (tc.err == nil) != (err == nil) {
			t.Errorf("send error %v: work returned %v, want cancelled %v", tc.err, err, tc.cancel)
		}
	}
}
