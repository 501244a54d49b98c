package stats_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/stats"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

type fixture struct {
	db                       *store.DB
	svc                      *casework.Service
	clk                      *clock.Manual
	itemID                   int64
	citizen                  policy.Subject
	window, reviewer, head   policy.Subject
	otherHead, admin, street policy.Subject
	scjg, mzj                region.Department
}

func newFixture(t testing.TB, db *store.DB) fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 10, 12, 9, 0, 0, 0, clock.China))
	if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
		t.Fatal(err)
	}
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, clk)
	it := catalog.Item{BaseCode: "010100100001", Name: "个体工商户设立登记", Type: catalog.Licensing, Department: "scjgj",
		Basis: "《促进个体工商户发展条例》", Subjects: []string{"自然人"}, CaseKind: catalog.Promised,
		LegalLimit: catalog.TimeLimit{Value: 15, Unit: "工作日"}, PromiseLimit: catalog.TimeLimit{Value: 3, Unit: "工作日"},
		Depth: catalog.DepthFull, Conditions: "完全民事行为能力。", Steps: []catalog.Step{{Name: "申请", Description: "网上提交"}},
		Result: catalog.Result{Name: "营业执照", Type: "证照"}, ConsultPhone: "0375-8861002", ComplaintPhone: "12345",
		Materials: []catalog.Material{{Name: "身份证明", Necessity: "必需", Form: "电子", Copies: 1, Source: "政府部门核发", Standard: "真实"}},
		Form:      []catalog.FormSection{{Title: "经营者", Fields: []catalog.FormField{{Key: "name", Label: "姓名", Type: "text", Required: true}}}}}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return items.Load(ctx, tx, &it, "测试") }); err != nil {
		t.Fatal(err)
	}
	f := fixture{db: db, clk: clk, itemID: it.ID}
	f.scjg, _ = regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
	f.mzj, _ = regions.DepartmentBySlug(ctx, db.Read(), "mzj")
	n := 0
	account := func(kind string, d region.Department, roles ...policy.Role) policy.Subject {
		var id int64
		now := time.Now()
		n++
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			var dept any
			if d.ID != 0 {
				dept = d.ID
			}
			if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, kind, "测试", fmt.Sprintf("u%d", n), dept, now, now).Scan(&id); err != nil {
				return err
			}
			for _, r := range roles {
				if _, err := tx.Exec(ctx, `INSERT INTO staff_roles (account_id, role) VALUES (?, ?)`, id, r); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return policy.Subject{AccountID: id, Name: "测试", Kind: kind, DepartmentID: d.ID, DepartmentKind: string(d.Kind), RegionCode: d.RegionCode, Roles: roles}
	}
	f.citizen = account(policy.Person, region.Department{})
	f.window = account(policy.Staff, f.scjg, policy.Window)
	f.reviewer = account(policy.Staff, f.scjg, policy.Reviewer)
	f.head = account(policy.Staff, f.scjg, policy.Head)
	f.otherHead = account(policy.Staff, f.mzj, policy.Head, policy.Window, policy.Reviewer)
	f.admin = account(policy.Staff, f.scjg, policy.Admin)
	f.street = policy.Subject{Kind: policy.Staff, DepartmentID: 99, RegionCode: "410411001000", Roles: []policy.Role{policy.Supervisor}}
	f.svc = casework.New(db, items, clk, calendar.New(nil))
	f.svc.OnChanged(stats.Changed)
	return f
}

var pdf = filestore.Object{SHA256: strings.Repeat("ab", 32), Size: 1234, ContentType: filestore.TypePDF}

// tables reads case_stats, case_stats_units and case_stats_items,
// leaving out the rows that count nothing.
func tables(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{
		`SELECT 'item', month, item_id, department_id, region_code, channel, 0 AS online FROM case_stats`,
		`SELECT 'unit', month, 0, department_id, region_code, channel, 0 AS online FROM case_stats_units`,
		`SELECT 'items', month, item_id, 0, '', '', online FROM case_stats_items`,
	} {
		cols, table, _ := strings.Cut(q, " FROM ")
		rows, err := db.Read().Query(context.Background(), cols+`, submitted, accepted, finished, timed, on_time, late, measured,
			handling_days, promise_days, legal_days, one_visit, one_correction, withdrawn FROM `+table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var key [6]string
			var n [14]int64
			dest := []any{&key[0], &key[1], &key[2], &key[3], &key[4], &key[5], &n[13]}
			for i := range 13 {
				dest = append(dest, &n[i])
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			if n != [14]int64{} {
				out[strings.Join(key[:], "|")] = fmt.Sprint(n)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}

// TestIncrementalEqualsRecount takes cases through a varied journey —
// submitted online and at the counter, corrected twice, transferred,
// paused, finished on time and late, refused, withdrawn, fetched at the
// window — across two months, and checks that the counters kept step by
// step are the recount's, and what they say.
func TestIncrementalEqualsRecount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		must := func(c casework.Case, err error) casework.Case {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		apply := func() casework.Case {
			return must(f.svc.Apply(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"},
				[]casework.Attachment{{Position: 0, Object: pdf, Filename: "身份证.pdf"}}))
		}
		act := func(who policy.Subject, c casework.Case, a casework.Action, reason string) casework.Case {
			t.Helper()
			return must(f.svc.Act(ctx, who, c.ID, c.Version, a, reason))
		}
		finish := func(c casework.Case) casework.Case {
			t.Helper()
			c = act(f.reviewer, c, casework.Review, "材料齐全，建议准予")
			c = must(f.svc.Decide(ctx, f.head, c.ID, c.Version, true, "准予登记", ""))
			return must(f.svc.Complete(ctx, f.window, c.ID, c.Version, pdf, "营业执照.pdf"))
		}
		// October: on time, corrected twice, then finished a day after the
		// promised three working days (late).
		onTime := act(f.window, apply(), casework.Accept, "")
		onTime = finish(onTime)
		corrected := apply()
		for i, file := range []string{"cd", "ef"} {
			corrected = must(f.svc.AskCorrection(ctx, f.window, corrected.ID, corrected.Version, fmt.Sprint("第", i+1, "次补正"), []int{0}))
			f.clk.Advance(time.Minute)
			corrected = must(f.svc.Attach(ctx, f.citizen, corrected.ID, corrected.Version, 0,
				filestore.Object{SHA256: strings.Repeat(file, 32), Size: 10, ContentType: filestore.TypePDF}, "身份证.pdf", 0))
			corrected = act(f.citizen, corrected, casework.Resubmit, "")
		}
		corrected = act(f.window, corrected, casework.Accept, "")
		f.clk.Advance(6 * 24 * time.Hour) // Monday the 12th + 6 days: Sunday the 18th, four working days on, past the 15th
		corrected = finish(corrected)
		if corrected.FinishedOn.IsZero() || corrected.HandlingDays != 4 || corrected.PromiseDays != 3 || corrected.LegalDays != 15 {
			t.Fatalf("finishing recorded %+v", corrected)
		}
		refused := act(f.window, apply(), casework.Refuse, "不符合条件")
		withdrawn := act(f.citizen, apply(), casework.Withdraw, "不办了")
		_ = withdrawn
		// November: a counter intake, visited again and fetched at the
		// window; a case transferred to another department, paused and
		// resumed there; a draft that counts nothing.
		f.clk.Advance(20 * 24 * time.Hour)
		counter := must(f.svc.Intake(ctx, f.window, f.itemID, func(context.Context, *store.Tx) (int64, error) { return f.citizen.AccountID, nil },
			map[string]string{"name": "张三"}))
		counter = must(f.svc.Attach(ctx, f.window, counter.ID, counter.Version, 0, pdf, "身份证.pdf", 0))
		counter = act(f.window, counter, casework.Submit, "")
		counter = must(f.svc.RecordVisit(ctx, f.window, counter.ID, counter.Version, "补充原件"))
		counter = act(f.window, counter, casework.Accept, "")
		counter = finish(counter)
		counter = must(f.svc.Deliver(ctx, f.window, counter.ID, counter.Version, casework.DeliverWindow, ""))
		moved := act(f.window, apply(), casework.Accept, "")
		moved = must(f.svc.Transfer(ctx, f.head, moved.ID, moved.Version, f.mzj.ID, "属民政局职责"))
		moved = act(f.otherHead, moved, casework.Pause, "现场核查")
		moved = act(f.otherHead, moved, casework.Resume, "")
		must(f.svc.CreateDraft(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"}))

		kept := tables(t, db)
		if err := stats.Recount(ctx, db); err != nil {
			t.Fatal(err)
		}
		recounted := tables(t, db)
		if len(kept) < 4 || !maps.Equal(kept, recounted) {
			t.Fatalf("the counters kept step by step differ from the recount:\nkept      %v\nrecounted %v", kept, recounted)
		}

		s := stats.New(db, f.clk)
		sum, err := s.Summary(ctx, f.admin, stats.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		want := stats.Counts{Submitted: 6, Accepted: 4, Finished: 4, Timed: 3, OnTime: 2, Late: 1, Measured: 3,
			HandlingDays: int64(corrected.HandlingDays + onTime.HandlingDays + counter.HandlingDays), PromiseDays: 9, LegalDays: 45,
			OneVisit: 5, OneCorrection: 5, Withdrawn: 1, Online: 5}
		if sum.Counts != want {
			t.Fatalf("summary %+v\nwant    %+v", sum.Counts, want)
		}
		if sum.OnTimeRate != 2.0/3 || sum.OneVisitRate != 5.0/6 || sum.OnlineRate != 5.0/6 || sum.OneCorrectionRate != 5.0/6 {
			t.Fatalf("rates %+v", sum)
		}
		if refused.FinishedOn.IsZero() || refused.HandlingDays != 0 {
			t.Fatalf("refused %+v", refused)
		}

		// By month and by department; the department head sees their own.
		months, err := s.By(ctx, f.admin, stats.Filter{}, stats.ByMonth)
		if err != nil || len(months) != 2 || months[0].Key != "2026-10" || months[0].Submitted != 4 || months[1].Submitted != 2 {
			t.Fatalf("by month %+v %v", months, err)
		}
		depts, err := s.By(ctx, f.admin, stats.Filter{From: "2026-11", To: "2026-11"}, stats.ByDepartment)
		if err != nil || len(depts) != 2 {
			t.Fatalf("by department %+v %v", depts, err)
		}
		// By item: from case_stats_items district-wide, from case_stats
		// with a channel or a department; the same counts either way.
		if items, err := s.By(ctx, f.admin, stats.Filter{}, stats.ByItem); err != nil || len(items) != 1 || items[0].Counts != want {
			t.Fatalf("by item %+v %v", items, err)
		}
		if items, err := s.By(ctx, f.admin, stats.Filter{Channel: "window"}, stats.ByItem); err != nil || len(items) != 1 || items[0].Submitted != 1 || items[0].Online != 0 {
			t.Fatalf("by item at the window %+v %v", items, err)
		}
		if one, err := s.Summary(ctx, f.admin, stats.Filter{ItemID: f.itemID, DepartmentID: f.mzj.ID}); err != nil || one.Submitted != 1 {
			t.Fatalf("the item at the civil affairs bureau %+v %v", one.Counts, err)
		}
		own, err := s.Summary(ctx, f.otherHead, stats.Filter{})
		if err != nil || own.Submitted != 1 || own.Accepted != 1 {
			t.Fatalf("the other department's head sees %+v %v", own.Counts, err)
		}
		if _, err := s.Summary(ctx, f.otherHead, stats.Filter{DepartmentID: f.scjg.ID}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a head asking for another department: %v", err)
		}
		if _, err := s.Summary(ctx, f.citizen, stats.Filter{}); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a citizen: %v", err)
		}
		// The district's cases are the district centre's region, outside a
		// street supervisor's view.
		if sum, err := s.Summary(ctx, f.street, stats.Filter{}); err != nil || sum.Submitted != 0 {
			t.Fatalf("street supervisor %+v %v", sum.Counts, err)
		}
		for _, bad := range []stats.Filter{{From: "2026-13"}, {From: "2026-11", To: "2026-10"}, {Level: 4}, {Region: "41"}, {Channel: "fax"}} {
			if _, err := s.Summary(ctx, f.admin, bad); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("filter %+v: %v", bad, err)
			}
		}

		// The drill-down lists the cases behind a figure, in the same scope.
		from, to := stats.Filter{From: "2026-10", To: "2026-10"}.Span()
		late, err := f.svc.Behind(ctx, f.admin, casework.BehindFilter{Figure: "late", From: from, To: to}, 10)
		if err != nil || len(late.Rows) != 1 || late.Rows[0].ID != corrected.ID {
			t.Fatalf("late cases %+v %v", late, err)
		}
		all, err := f.svc.Behind(ctx, f.admin, casework.BehindFilter{Figure: "submitted"}, 3)
		if err != nil || len(all.Rows) != 3 || all.Next == "" {
			t.Fatalf("submitted, first page %+v %v", all, err)
		}
		seen := map[int64]bool{}
		for page := all; ; {
			for _, r := range page.Rows {
				seen[r.ID] = true
			}
			if page.Next == "" {
				break
			}
			if page, err = f.svc.Behind(ctx, f.admin, casework.BehindFilter{Figure: "submitted", After: page.Next}, 3); err != nil {
				t.Fatal(err)
			}
		}
		if n, _ := sum.Figure("submitted"); len(seen) != int(n) || n != 6 {
			t.Fatalf("paging saw %d cases, the figure is %d", len(seen), n)
		}
		mine, err := f.svc.Behind(ctx, f.otherHead, casework.BehindFilter{Figure: "submitted"}, 10)
		if err != nil || len(mine.Rows) != 1 || mine.Rows[0].ID != moved.ID {
			t.Fatalf("the other head's drill-down %+v %v", mine, err)
		}
		if _, err := f.svc.Behind(ctx, f.admin, casework.BehindFilter{Figure: "everything"}, 10); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("unknown figure: %v", err)
		}
		if visits, err := f.svc.Behind(ctx, f.admin, casework.BehindFilter{Figure: "visits", Channel: "window"}, 10); err != nil || len(visits.Rows) != 1 || visits.Rows[0].ID != counter.ID {
			t.Fatalf("visits %+v %v", visits, err)
		}
	})
}
