package casework_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// catalogAdmin changes the tests' items through the catalog's own methods.
var catalogAdmin = policy.Subject{Kind: policy.Staff, Name: "测试", Roles: []policy.Role{policy.Admin}}

type fixture struct {
	svc                          *casework.Service
	items                        *catalog.Store
	item                         catalog.Item // the published item of itemID
	clk                          *clock.Manual
	cal                          *calendar.Calendar
	itemID                       int64
	citizen, other               policy.Subject
	window, reviewer, foreignWin policy.Subject
	head                         policy.Subject
}

func person(t testing.TB, db *store.DB, name string) policy.Subject {
	t.Helper()
	var id int64
	now := time.Now()
	if err := db.Tx(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', ?, ?, ?) RETURNING id`,
			name, now, now).Scan(&id)
	}); err != nil {
		t.Fatal(err)
	}
	return policy.Subject{AccountID: id, Kind: policy.Person, Name: name}
}

func newFixture(t testing.TB, db *store.DB) fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
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
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		return items.Load(ctx, tx, &it, "测试")
	}); err != nil {
		t.Fatal(err)
	}
	scjg, _ := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
	mzj, _ := regions.DepartmentBySlug(ctx, db.Read(), "mzj")
	staff := func(d region.Department, roles ...policy.Role) policy.Subject {
		var id int64
		now := time.Now()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at)
				VALUES ('staff', ?, ?, ?, ?, ?) RETURNING id`, "工作人员", fmt.Sprintf("s%d.%s", d.ID, roles[0]), d.ID, now, now).Scan(&id); err != nil {
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
		return policy.Subject{AccountID: id, Name: "工作人员", Kind: policy.Staff, DepartmentID: d.ID, DepartmentKind: string(d.Kind), RegionCode: d.RegionCode, Roles: roles}
	}
	cal := calendar.New(nil)
	return fixture{svc: casework.New(db, items, clk, cal), items: items, item: it, clk: clk, cal: cal, itemID: it.ID, citizen: person(t, db, "张三"), other: person(t, db, "李四"),
		window: staff(scjg, policy.Window), reviewer: staff(scjg, policy.Reviewer), foreignWin: staff(mzj, policy.Window),
		head: staff(scjg, policy.Head)}
}

// reviewed has the reviewer give their opinion (审查) on an accepted case,
// which then waits for the head's decision.
func reviewed(t testing.TB, f fixture, c casework.Case) casework.Case {
	t.Helper()
	c, err := f.svc.Act(context.Background(), f.reviewer, c.ID, c.Version, casework.Review, "经审查，材料齐全，建议准予")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// known is the applicant at the counter who already has an account.
func known(p policy.Subject) casework.Applicant {
	return func(context.Context, *store.Tx) (int64, error) { return p.AccountID, nil }
}

var pdf = filestore.Object{SHA256: strings.Repeat("ab", 32), Size: 1234, ContentType: filestore.TypePDF}

// draftWithMaterial starts a case and hands in its required material.
func draftWithMaterial(t *testing.T, f fixture, who policy.Subject) casework.Case {
	t.Helper()
	ctx := context.Background()
	c, err := f.svc.CreateDraft(ctx, who, f.itemID, map[string]string{"name": "张三"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = f.svc.Attach(ctx, who, c.ID, c.Version, 0, pdf, "身份证.pdf", 0); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCaseFromApplicationToCompletion(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		c, err := f.svc.CreateDraft(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, ""); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "身份证明") {
			t.Fatalf("submit without the required material: %v", err)
		}
		if c, err = f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, pdf, "身份证.pdf", 0); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.Number, "41041120261125") || len(c.Number) != 20 || c.Status != casework.Draft {
			t.Fatalf("case %+v", c)
		}
		steps := []struct {
			who    policy.Subject
			action casework.Action
			reason string
			to     casework.Status
		}{
			{f.citizen, casework.Submit, "", casework.Submitted},
			{f.window, casework.AskCorrect, "缺少经营场所证明", casework.Correction},
			{f.citizen, casework.Resubmit, "", casework.Submitted},
			{f.window, casework.Accept, "", casework.Reviewing},
			{f.reviewer, casework.Pause, "现场核查", casework.Paused},
			{f.reviewer, casework.Resume, "", casework.Reviewing},
			{f.reviewer, casework.Review, "材料齐全，建议准予", casework.Reviewed},
			{f.head, casework.Decide, "准予登记", casework.Decided},
		}
		clearer := filestore.Object{SHA256: strings.Repeat("ef", 32), Size: 2000, ContentType: filestore.TypePDF}
		for _, st := range steps {
			switch st.action {
			case casework.Decide:
				c, err = f.svc.Decide(ctx, st.who, c.ID, c.Version, true, st.reason, "")
			case casework.AskCorrect:
				c, err = f.svc.AskCorrection(ctx, st.who, c.ID, c.Version, st.reason, []int{0})
			case casework.Resubmit:
				// The correction answers the notice: a new file for what it names.
				if c, err = f.svc.Attach(ctx, st.who, c.ID, c.Version, 0, clearer, "身份证（清晰）.pdf", 0); err != nil {
					t.Fatal(err)
				}
				c, err = f.svc.Act(ctx, st.who, c.ID, c.Version, st.action, st.reason)
			default:
				c, err = f.svc.Act(ctx, st.who, c.ID, c.Version, st.action, st.reason)
			}
			if err != nil {
				t.Fatalf("%s: %v", st.action, err)
			}
			if c.Status != st.to {
				t.Fatalf("%s: status %s, want %s", st.action, c.Status, st.to)
			}
		}
		if _, err := f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Complete, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("completing without a result: %v", err)
		}
		licence := filestore.Object{SHA256: strings.Repeat("cd", 32), Size: 99, ContentType: filestore.TypePDF}
		if c, err = f.svc.Complete(ctx, f.window, c.ID, c.Version, licence, "营业执照.pdf"); err != nil || c.Status != casework.Completed || c.ResultName != "营业执照.pdf" {
			t.Fatalf("complete: %+v %v", c, err)
		}
		steps = append(steps, struct {
			who    policy.Subject
			action casework.Action
			reason string
			to     casework.Status
		}{f.window, casework.Complete, "", casework.Completed})
		got, events, err := f.svc.Get(ctx, f.citizen, c.ID)
		if err != nil || got.Corrections != 1 || len(events) != len(steps)+3 {
			t.Fatalf("record: %+v, %d events, %v", got, len(events), err)
		}
		if events[3].ActorRole != "窗口人员" || events[3].Reason != "缺少经营场所证明" || events[0].Action != casework.Create || events[1].Action != casework.Upload {
			t.Fatalf("events %+v", events[:4])
		}
		// Another citizen does not see it; another department cannot act on it.
		if _, _, err := f.svc.Get(ctx, f.other, c.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another citizen: %v", err)
		}
		docs, err := casework.Documents(ctx, db.Read(), c.ID)
		if err != nil || len(docs) != 3 {
			t.Fatalf("documents: %d, %v", len(docs), err)
		}
		if docs[0].Title != "补正材料通知书" || docs[0].Number != "区市场监管局补字〔2026〕1号" || !strings.Contains(docs[0].Body, "缺少经营场所证明") {
			t.Errorf("correction notice %+v", docs[0])
		}
		if docs[1].Title != "受理通知书" || !strings.Contains(docs[1].Body, "2026年11月30日前") || !strings.Contains(docs[1].Body, c.Number) {
			t.Errorf("acceptance notice %+v", docs[1])
		}
		if docs[2].Title != "准予行政许可决定书" || !strings.Contains(docs[2].Body, "本机关决定：准予个体工商户设立登记") || !strings.Contains(docs[2].Body, "促进个体工商户发展条例") {
			t.Errorf("decision %+v", docs[2])
		}
		if _, err := f.svc.DocumentOf(ctx, f.other, c.ID, docs[0].ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another citizen reads a notice: %v", err)
		}
		if n, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys()); err != nil || n != 1 || len(broken) != 0 {
			t.Fatalf("chains: %d %v %v", n, broken, err)
		}
	})
}

func TestRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		c := draftWithMaterial(t, f, f.citizen)
		c, _ = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, "")
		cases := []struct {
			name   string
			who    policy.Subject
			action casework.Action
			ver    int
			reason string
			code   apperr.Code
		}{
			{"citizen accepts", f.citizen, casework.Accept, c.Version, "", apperr.NotFound},
			{"other department", f.foreignWin, casework.Accept, c.Version, "", apperr.NotFound},
			{"no version", f.window, casework.Accept, 0, "", apperr.Invalid},
			{"pausing before acceptance", f.reviewer, casework.Pause, c.Version, "现场核查", apperr.Conflict},
			{"deciding without the decision form", f.reviewer, casework.Decide, c.Version, "准予", apperr.Invalid},
			{"refusal without reason", f.window, casework.Refuse, c.Version, "", apperr.Invalid},
			{"stale version", f.window, casework.Accept, c.Version - 1, "", apperr.Conflict},
			{"staff submits for the applicant", f.window, casework.Resubmit, c.Version, "", apperr.Forbidden},
			{"someone else withdraws", f.other, casework.Withdraw, c.Version, "", apperr.NotFound},
		}
		for _, tc := range cases {
			if _, err := f.svc.Act(ctx, tc.who, c.ID, tc.ver, tc.action, tc.reason); !apperr.Is(err, tc.code) {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		got, events, _ := f.svc.Get(ctx, f.citizen, c.ID)
		if got.Status != casework.Submitted || got.Version != c.Version || len(events) != 3 {
			t.Fatalf("a refused action changed the case: %+v, %d events", got, len(events))
		}
	})
}

// Two staff act on the same case at once: one succeeds, the other is told
// the case changed, and nothing is applied twice.
func TestConcurrentActionsApplyOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		c := draftWithMaterial(t, f, f.citizen)
		c, _ = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, "")
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				action, reason := casework.Accept, ""
				if i%2 == 1 {
					action, reason = casework.Refuse, "材料不符合要求"
				}
				_, errs[i] = f.svc.Act(ctx, f.window, c.ID, c.Version, action, reason)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !apperr.Is(err, apperr.Conflict):
				t.Errorf("unexpected error: %v", err)
			}
		}
		_, events, _ := f.svc.Get(ctx, f.citizen, c.ID)
		if ok != 1 || len(events) != 4 {
			t.Fatalf("%d actions succeeded, %d events; want exactly one", ok, len(events))
		}
	})
}

func TestVerifyChainsFindsATamperedCase(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		var target casework.Case
		for i := range 3 {
			c := draftWithMaterial(t, f, f.citizen)
			c, _ = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, "")
			c, _ = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Refuse, "不符合条件")
			if i == 1 {
				target = c
			}
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE case_events SET reason = 'x' WHERE case_id = ?`, target.ID)
			return err
		}); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("an event was edited: %v", err)
		}
		storetest.DisableAppendOnly(t, db, "case_events")
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE case_events SET reason = '符合条件' WHERE case_id = ? AND action = 'refuse'`, target.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		n, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys())
		if err != nil || n != 3 || len(broken) != 1 || broken[0].Number != target.Number || broken[0].Seq != 4 {
			t.Fatalf("verify: %d cases, broken %+v, %v", n, broken, err)
		}
	})
}

// The deadline runs in working days from the day after acceptance, and a
// pause pushes it by the working days paused.
func TestDeadlineInWorkingDays(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db) // clock: Wednesday 2026-11-25, 09:00; promised limit 3 working days
		c := draftWithMaterial(t, f, f.citizen)
		c, _ = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, "")
		if _, ok := f.svc.DeadlineOf(c, f.item, nil); ok {
			t.Fatal("a deadline before acceptance")
		}
		c, err := f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, "")
		if err != nil {
			t.Fatal(err)
		}
		if c.AcceptedOn.String() != "2026-11-25" || c.DueOn.String() != "2026-11-30" {
			t.Fatalf("accepted %s due %s, want 2026-11-25 and Monday 2026-11-30", c.AcceptedOn, c.DueOn)
		}
		f.clk.Advance(24 * time.Hour) // Thursday 26th
		if c, err = f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Pause, "现场核查"); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(5 * 24 * time.Hour) // Tuesday 1 December: the 27th, the 30th and the 1st were paused
		if c, err = f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Resume, ""); err != nil {
			t.Fatal(err)
		}
		if c.DueOn.String() != "2026-12-03" {
			t.Fatalf("due after the pause: %s, want 2026-12-03", c.DueOn)
		}
		f.clk.Advance(24 * time.Hour) // Wednesday 2nd
		d, ok := f.svc.DeadlineOf(c, f.item, nil)
		if !ok || d.Left != 1 || d.Status != calendar.Warning {
			t.Fatalf("deadline %+v", d)
		}
		f.clk.Advance(2 * 24 * time.Hour) // Friday 4th
		if d, _ := f.svc.DeadlineOf(c, f.item, nil); d.Status != calendar.Overdue || d.Left != -1 {
			t.Fatalf("late: %+v", d)
		}
		got, _, _ := f.svc.Get(ctx, f.citizen, c.ID)
		if got.DueOn != c.DueOn || !got.PausedOn.IsZero() {
			t.Fatalf("stored: due %s paused %s", got.DueOn, got.PausedOn)
		}
		// The supervisor's late list has it; a clerk may not read the list.
		supervisor := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: 1, RegionCode: "410411000000", Roles: []policy.Role{policy.Supervisor}}
		late, err := rows(f.svc.Late(ctx, supervisor, casework.LateFilter{}, 10))
		if err != nil || len(late) != 1 || late[0].Deadline.Status != calendar.Overdue {
			t.Fatalf("late list %+v %v", late, err)
		}
		if _, err := rows(f.svc.Late(ctx, f.window, casework.LateFilter{}, 10)); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a clerk reads the late list: %v", err)
		}
	})
}

func TestMaterialsAndReuse(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		first := draftWithMaterial(t, f, f.citizen)
		if _, err := f.svc.Attach(ctx, f.other, first.ID, first.Version, 0, pdf, "x.pdf", 0); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("someone else attaches: %v", err)
		}
		if _, err := f.svc.Attach(ctx, f.citizen, first.ID, first.Version, 5, pdf, "x.pdf", 0); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("unknown material: %v", err)
		}
		first, _ = f.svc.Act(ctx, f.citizen, first.ID, first.Version, casework.Submit, "")
		if _, err := f.svc.Attach(ctx, f.citizen, first.ID, first.Version, 0, pdf, "x.pdf", 0); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("attaching after submission: %v", err)
		}
		// A second application offers the file already handed in (免提交).
		second, _ := f.svc.CreateDraft(ctx, f.citizen, f.itemID, nil)
		reusable, err := f.svc.Reusable(ctx, f.citizen, second.ID, "身份证明")
		if err != nil || len(reusable) != 1 || reusable[0].CaseID != first.ID {
			t.Fatalf("reusable: %+v %v", reusable, err)
		}
		obj := filestore.Object{SHA256: reusable[0].SHA256, Size: reusable[0].Size, ContentType: reusable[0].ContentType}
		if _, err := f.svc.Attach(ctx, f.other, second.ID, second.Version, 0, obj, "x", first.ID); err == nil {
			t.Fatal("another person reused the file")
		}
		second, err = f.svc.Attach(ctx, f.citizen, second.ID, second.Version, 0, obj, reusable[0].Filename, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		mats, _ := casework.Materials(ctx, db.Read(), second.ID)
		if len(mats) != 1 || mats[0].ReusedFrom != first.ID {
			t.Fatalf("materials %+v", mats)
		}
		if _, err := f.svc.Act(ctx, f.citizen, second.ID, second.Version, casework.Submit, ""); err != nil {
			t.Fatalf("submit with a reused material: %v", err)
		}
		if _, err := f.svc.MaterialOf(ctx, f.other, second.ID, 0); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another person reads the material: %v", err)
		}
		if m, err := f.svc.MaterialOf(ctx, f.window, second.ID, 0); err != nil || m.Name != "身份证明" {
			t.Fatalf("the department reads the material: %+v %v", m, err)
		}
	})
}

// 一次性告知: a second correction request is refused unless materials
// changed since the first.
func TestSecondCorrectionOnlyForChangedMaterials(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		c := draftWithMaterial(t, f, f.citizen)
		c, _ = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, "")
		c, err := f.svc.AskCorrection(ctx, f.window, c.ID, c.Version, "身份证明不清晰", []int{0})
		if err != nil {
			t.Fatal(err)
		}
		it, _ := f.items.Version(ctx, c.ItemID, c.ItemVersion)
		req, ok, err := f.svc.Correction(ctx, f.citizen, c)
		if err != nil || !ok || len(req.Materials) != 1 || req.Materials[0] != 0 || req.Reason != "身份证明不清晰" || req.Due.String() != "2026-12-16" {
			t.Fatalf("correction request: %+v %v %v", req, ok, err)
		}
		// A resubmission that changes nothing the notice named is refused,
		// and so is handing in the same file again.
		f.clk.Advance(time.Hour)
		for _, again := range []bool{false, true} {
			if again {
				if c, err = f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, pdf, "身份证.pdf", 0); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Resubmit, ""); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "补正通知要求的材料还没有重新提交：「身份证明」") {
				t.Fatalf("resubmitting unchanged (same file again: %v): %v", again, err)
			}
		}
		clearer := filestore.Object{SHA256: strings.Repeat("ef", 32), Size: 2000, ContentType: filestore.TypePDF}
		if c, err = f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, clearer, "身份证（清晰）.pdf", 0); err != nil {
			t.Fatal(err)
		}
		if req, _, _ = f.svc.Correction(ctx, f.citizen, c); !req.Corrected(0, clearer.SHA256) || req.Corrected(0, pdf.SHA256) {
			t.Fatal("the request does not tell the new file from the old")
		}
		if c, err = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Resubmit, ""); err != nil || c.Status != casework.Submitted {
			t.Fatalf("resubmitting the corrected file: %+v %v", c, err)
		}
		if !slices.Contains(f.svc.Available(ctx, f.window, c, it), casework.AskCorrect) {
			t.Fatal("a correction about the new file is not offered")
		}
		// A case from before notices named materials (no request kept):
		// resubmitted unchanged, the clerk is neither offered nor allowed a
		// second correction — the page and the rule agree.
		e := draftWithMaterial(t, f, f.citizen)
		e, _ = f.svc.Act(ctx, f.citizen, e.ID, e.Version, casework.Submit, "")
		e, _ = f.svc.AskCorrection(ctx, f.window, e.ID, e.Version, "身份证明不清晰", []int{0})
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM case_corrections WHERE case_id = ?`, e.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Hour)
		if e, err = f.svc.Act(ctx, f.citizen, e.ID, e.Version, casework.Resubmit, ""); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Hour)
		if got := f.svc.Available(ctx, f.window, e, it); slices.Contains(got, casework.AskCorrect) || !slices.Contains(got, casework.Accept) {
			t.Fatalf("offered after an unchanged resubmission: %v", got)
		}
		if _, err := f.svc.AskCorrection(ctx, f.window, e.ID, e.Version, "另外还缺经营场所证明", []int{0}); !apperr.Is(err, apperr.Conflict) || !strings.Contains(apperr.MessageOf(err), "一次性告知") {
			t.Fatalf("second correction without changed materials: %v", err)
		}
		// Back to the applicant is not possible now, so the department accepts
		// or refuses; a new case shows that a replaced file may be questioned.
		d := draftWithMaterial(t, f, f.citizen)
		d, _ = f.svc.Act(ctx, f.citizen, d.ID, d.Version, casework.Submit, "")
		d, _ = f.svc.AskCorrection(ctx, f.window, d.ID, d.Version, "身份证明不清晰", []int{0})
		f.clk.Advance(time.Hour)
		if d, err = f.svc.Attach(ctx, f.citizen, d.ID, d.Version, 0, clearer, "身份证-清晰.pdf", 0); err != nil {
			t.Fatal(err)
		}
		d, _ = f.svc.Act(ctx, f.citizen, d.ID, d.Version, casework.Resubmit, "")
		f.clk.Advance(time.Hour)
		if d, err = f.svc.AskCorrection(ctx, f.window, d.ID, d.Version, "新提交的身份证明已过期", []int{0}); err != nil {
			t.Fatalf("correction about a replaced file: %v", err)
		}
		if d.Corrections != 2 {
			t.Fatalf("corrections counted %d, want 2", d.Corrections)
		}
		// Supervisors see every case asked more than once.
		admin := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
		if list, err := rows(f.svc.RepeatedCorrections(ctx, admin, casework.SupervisionFilter{}, 10)); err != nil || len(list) != 1 || list[0].Number != d.Number || list[0].Corrections != 2 || list[0].Department == "" {
			t.Fatalf("repeated corrections: %+v %v", list, err)
		}
		if _, err := rows(f.svc.RepeatedCorrections(ctx, f.window, casework.SupervisionFilter{}, 10)); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a window clerk reads the supervisors' list: %v", err)
		}
	})
}

// 窗口收件: the clerk opens the case for a walk-in applicant, scans the
// papers and submits; every visit is recorded, and a case that needed a
// second visit shows on the supervisor's 最多跑一次 list.
func TestCounterIntakeAndVisits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := f.svc.Intake(ctx, f.reviewer, f.itemID, known(f.citizen), nil); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a reviewer takes in a case: %v", err)
		}
		if _, err := f.svc.Intake(ctx, f.foreignWin, f.itemID, known(f.citizen), nil); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("another department's clerk: %v", err)
		}
		c, err := f.svc.Intake(ctx, f.window, f.itemID, known(f.citizen), map[string]string{"name": "张三"})
		if err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Attach(ctx, f.window, c.ID, c.Version, 0, pdf, "扫描件.pdf", 0); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Submit, ""); err != nil {
			t.Fatal(err)
		}
		supervisor := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: 1, RegionCode: "410411000000", Roles: []policy.Role{policy.Supervisor}}
		if list, _ := rows(f.svc.MultiVisits(ctx, supervisor, casework.SupervisionFilter{}, 10)); len(list) != 0 {
			t.Fatalf("one visit listed: %+v", list)
		}
		if _, err := f.svc.RecordVisit(ctx, f.window, c.ID, c.Version, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("visit without purpose: %v", err)
		}
		if c, err = f.svc.RecordVisit(ctx, f.window, c.ID, c.Version, "补交原件核验"); err != nil {
			t.Fatal(err)
		}
		list, err := rows(f.svc.MultiVisits(ctx, supervisor, casework.SupervisionFilter{}, 10))
		if err != nil || len(list) != 1 || list[0].Visits != 2 || list[0].Number != c.Number {
			t.Fatalf("multi-visit list %+v %v", list, err)
		}
		if _, err := rows(f.svc.MultiVisits(ctx, f.window, casework.SupervisionFilter{}, 10)); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a clerk reads the supervisors' list: %v", err)
		}
		_, events, _ := f.svc.Get(ctx, f.citizen, c.ID)
		var actions []string
		for _, e := range events {
			actions = append(actions, string(e.Action))
		}
		if strings.Join(actions, " ") != "create visit upload submit visit" {
			t.Fatalf("events %v", actions)
		}
	})
}

// A step the applicant must know of writes a message and enqueues its SMS
// in the step's transaction; the durable job then sends it.
func TestMessagesAndDurableSMS(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		sent := make(chan string, 10)
		workers := river.NewWorkers()
		river.AddWorker(workers, &casework.SMSWorker{Send: func(ctx context.Context, accountID int64, text string) error {
			if accountID != f.citizen.AccountID {
				t.Errorf("SMS to account %d", accountID)
			}
			sent <- text
			return nil
		}})
		q, err := jobs.New(db, workers, jobs.Options{Workers: 2, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.UseQueue(q)
		c := draftWithMaterial(t, f, f.citizen)
		c, _ = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, "")
		// A refused step tells nobody anything.
		if _, err := f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Refuse, ""); err == nil {
			t.Fatal("refusal without a reason went through")
		}
		if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); err != nil {
			t.Fatal(err)
		}
		// The job is in the database before the queue even runs.
		if counts, _ := q.Counts(ctx); counts["available"] != 1 {
			t.Fatalf("jobs waiting: %v", counts)
		}
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := q.Start(runCtx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())
		select {
		case text := <-sent:
			if !strings.Contains(text, "您的申请已受理") || !strings.Contains(text, c.Number) {
				t.Fatalf("SMS %q", text)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the SMS job did not run")
		}
		msgs, err := f.svc.Messages(ctx, f.citizen)
		if err != nil || len(msgs) != 1 || msgs[0].Title != "您的申请已受理" || msgs[0].Read {
			t.Fatalf("messages %+v %v", msgs, err)
		}
		if n, _ := f.svc.Unread(ctx, f.citizen.AccountID); n != 0 {
			t.Fatalf("still %d unread after reading", n)
		}
	})
}

// The archive holds the form, every material, notice and the result, the
// event log and a manifest of SHA-256 sums, and says whether it is complete.
func TestArchiveExport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		files, err := filestore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		put := func(content string) filestore.Object {
			obj, err := files.Put(ctx, strings.NewReader(content), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			return obj
		}
		c, _ := f.svc.CreateDraft(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"})
		c, _ = f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, put("%PDF-1.4 身份证明"), "身份证.pdf", 0)
		c, _ = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, "")
		c, _ = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, "")
		c, _ = f.svc.Decide(ctx, f.head, c.ID, reviewed(t, f, c).Version, true, "准予登记", "")
		c, err = f.svc.Complete(ctx, f.window, c.ID, c.Version, put("%PDF-1.4 营业执照"), "营业执照.pdf")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Archive(ctx, f.citizen, testMeta, c.ID, files, io.Discard); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("the applicant exports the archive: %v", err)
		}
		if _, err := f.svc.Archive(ctx, f.window, testMeta, c.ID, files, io.Discard); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a window clerk exports the archive: %v", err)
		}
		var buf bytes.Buffer
		m, err := f.svc.Archive(ctx, f.reviewer, testMeta, c.ID, files, &buf)
		if err != nil {
			t.Fatal(err)
		}
		// The export is audited at the clock's time, the refused ones not.
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Action: "export", Object: fmt.Sprintf("case:%d", c.ID)})
		if err != nil || len(entries) != 1 || !entries[0].At.Equal(f.clk.Now()) || entries[0].IP != testMeta.IP || entries[0].ActorID != f.reviewer.AccountID {
			t.Fatalf("export audit: %+v, %v; want one at %v", entries, err, f.clk.Now())
		}
		if !m.Complete || len(m.Missing) != 0 {
			t.Fatalf("archive incomplete: %v", m.Missing)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		sums := map[string]string{}
		for _, e := range m.Files {
			sums[e.Path] = e.SHA256
		}
		var names []string
		for _, zf := range zr.File {
			names = append(names, zf.Name)
			if zf.Name == "manifest.json" {
				continue
			}
			rc, _ := zf.Open()
			h := sha256.New()
			io.Copy(h, rc)
			rc.Close()
			if hex.EncodeToString(h.Sum(nil)) != sums[zf.Name] {
				t.Errorf("%s: manifest sum does not match", zf.Name)
			}
		}
		all := strings.Join(names, " ")
		for _, want := range []string{"form.json", "events.json", "materials/01-身份证.pdf", "受理通知书", "决定书", "result/营业执照.pdf", "manifest.json"} {
			if !strings.Contains(all, want) {
				t.Errorf("archive lacks %s: %s", want, all)
			}
		}
		supervisor := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: 1, RegionCode: "410411000000", Roles: []policy.Role{policy.Supervisor}}
		if list, err := rows(f.svc.IncompleteArchives(ctx, supervisor, casework.SupervisionFilter{}, 100)); err != nil || len(list) != 0 {
			t.Fatalf("complete archive listed: %+v %v", list, err)
		}
		// The self-evaluation's manifest lists it complete, with the hash
		// its chain ends on.
		manifest := func() []casework.ArchiveStatus {
			t.Helper()
			var all []casework.ArchiveStatus
			if err := f.svc.ArchiveManifest(ctx, supervisor, casework.SupervisionFilter{}, func(a casework.ArchiveStatus) error {
				all = append(all, a)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return all
		}
		var head string
		if err := db.Read().QueryRow(ctx, `SELECT hash FROM case_events WHERE case_id = ? ORDER BY seq DESC LIMIT 1`, c.ID).Scan(&head); err != nil {
			t.Fatal(err)
		}
		if all := manifest(); len(all) != 1 || all[0].ID != c.ID || !all[0].Complete || all[0].Head != head {
			t.Fatalf("manifest of one complete archive: %+v (head %s)", all, head)
		}
		// A decision notice lost behind the application's back shows up.
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM case_documents WHERE case_id = ? AND kind = 'decision'`, c.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		list, err := rows(f.svc.IncompleteArchives(ctx, supervisor, casework.SupervisionFilter{}, 100))
		if err != nil || len(list) != 1 || list[0].Missing[0] != "文书：决定书" {
			t.Fatalf("incomplete archives %+v %v", list, err)
		}
		if all := manifest(); len(all) != 1 || all[0].Complete || strings.Join(all[0].Missing, ",") != "文书：决定书" {
			t.Fatalf("manifest after the notice was lost: %+v", all)
		}
		// A case without its required material is flagged incomplete.
		d, _ := f.svc.Intake(ctx, f.window, f.itemID, known(f.citizen), nil)
		m, err = f.svc.Archive(ctx, f.reviewer, testMeta, d.ID, files, io.Discard)
		if err != nil || m.Complete || len(m.Missing) != 1 || m.Missing[0] != "材料：身份证明" {
			t.Fatalf("incomplete archive: %+v %v", m, err)
		}
	})
}

// The deadline check warns the department's reviewers once when one
// working day is left, and the region's supervisors once when it passed.
func TestDeadlineWarnings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db) // Wednesday 25 November; 3 working days → due Monday 30th
		var supervisor int64
		now := time.Now()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at)
				VALUES ('staff', '督查员', 'sup', 1, ?, ?) RETURNING id`, now, now).Scan(&supervisor); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO staff_roles (account_id, role) VALUES (?, 'supervisor')`, supervisor)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		c := draftWithMaterial(t, f, f.citizen)
		c, _ = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, "")
		c, _ = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, "")
		count := func(account int64, title string) int {
			var n int
			db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM messages WHERE account_id = ? AND title = ?`, account, title).Scan(&n)
			return n
		}
		if n, err := f.svc.CheckDeadlines(ctx); err != nil || n != 0 {
			t.Fatalf("nothing due yet: %d %v", n, err)
		}
		f.clk.Advance(2 * 24 * time.Hour) // Friday 27th: Monday is the next working day
		// The department's reviewer and head are warned.
		if n, err := f.svc.CheckDeadlines(ctx); err != nil || n != 2 || count(f.reviewer.AccountID, "办件即将到期") != 1 || count(f.head.AccountID, "办件即将到期") != 1 {
			t.Fatalf("warning: %d %v", n, err)
		}
		if n, _ := f.svc.CheckDeadlines(ctx); n != 0 {
			t.Fatalf("warned twice: %d", n)
		}
		f.clk.Advance(4 * 24 * time.Hour) // Tuesday 1 December: late
		if n, err := f.svc.CheckDeadlines(ctx); err != nil || n != 1 || count(supervisor, "办件已超期") != 1 {
			t.Fatalf("overdue: %d %v", n, err)
		}
		if n, _ := f.svc.CheckDeadlines(ctx); n != 0 {
			t.Fatalf("overdue told twice: %d", n)
		}
	})
}

// rows is a list's page's rows, for tests that look at one page.
func rows[T any](p casework.Page[T], err error) ([]T, error) { return p.Rows, err }
