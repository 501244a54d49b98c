package casework_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// lastEvent is the newest entry of a case's record.
func lastEvent(t *testing.T, f fixture, id int64) (casework.Event, int) {
	t.Helper()
	_, events, err := f.svc.Get(context.Background(), f.citizen, id)
	if err != nil {
		t.Fatal(err)
	}
	return events[len(events)-1], len(events)
}

// An online draft is the applicant's alone: no staff member reads it,
// lists it, edits it, hands in its files or submits it — supervisors and
// administrators included — and to them it is not there.
func TestAnOnlineDraftIsTheApplicantsAlone(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		c := draftWithMaterial(t, f, f.citizen)
		supervisor := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: 1, RegionCode: "410411000000", Roles: []policy.Role{policy.Supervisor}}
		admin := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: f.window.DepartmentID, RegionCode: f.window.RegionCode, Roles: []policy.Role{policy.Admin}}
		for _, who := range []policy.Subject{f.window, f.reviewer, supervisor, admin} {
			if _, _, err := f.svc.Get(ctx, who, c.ID); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("%s reads the draft: %v", who.Roles[0], err)
			}
			if _, err := f.svc.MaterialOf(ctx, who, c.ID, 0); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("%s reads the draft's material: %v", who.Roles[0], err)
			}
		}
		if _, err := f.svc.SaveDraft(ctx, f.window, c.ID, c.Version, map[string]string{"name": "王五"}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a clerk edits the answers: %v", err)
		}
		if _, err := f.svc.Attach(ctx, f.window, c.ID, c.Version, 0, pdf, "换掉.pdf", 0); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a clerk replaces the material: %v", err)
		}
		if _, err := f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Submit, ""); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a clerk submits in the applicant's name: %v", err)
		}
		if _, err := rows(f.svc.Queue(ctx, f.window, casework.Draft, casework.QueueFilter{}, 10)); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a queue of drafts: %v", err)
		}
		if counts, err := f.svc.QueueCounts(ctx, f.window); err != nil || counts[casework.Draft].N != 0 {
			t.Errorf("drafts counted: %v %v", counts, err)
		}
		got, events, _ := f.svc.Get(ctx, f.citizen, c.ID)
		if got.Version != c.Version || got.Form["name"] != "张三" || got.Status != casework.Draft || len(events) != 2 {
			t.Fatalf("a refused request changed the draft: %+v, %d events", got, len(events))
		}
		// Submitted, it is the department's to see; its answers and files
		// stay the applicant's, during 补正 too.
		c, _ = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, "")
		c, _ = f.svc.AskCorrection(ctx, f.window, c.ID, c.Version, "身份证明不清晰", []int{0})
		if _, _, err := f.svc.Get(ctx, f.window, c.ID); err != nil {
			t.Fatalf("the department reads the submitted case: %v", err)
		}
		if _, err := f.svc.Attach(ctx, f.window, c.ID, c.Version, 0, pdf, "换掉.pdf", 0); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a clerk replaces an online applicant's file during 补正: %v", err)
		}
		if _, err := f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, pdf, "清晰.pdf", 0); err != nil {
			t.Errorf("the applicant replaces it: %v", err)
		}
	})
}

// At the counter the clerk types the form and scans the papers of a case
// their department took in; every change of answers is on the record by
// field name, never by value; a file the applicant handed in themselves
// is theirs.
func TestCounterCaseEditing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		c, err := f.svc.Intake(ctx, f.window, f.itemID, known(f.citizen), nil)
		if err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.SaveDraft(ctx, f.window, c.ID, c.Version, map[string]string{"name": "张三丰"}); err != nil {
			t.Fatal(err)
		}
		e, n := lastEvent(t, f, c.ID)
		if e.Action != casework.EditForm || e.Action.Name() != "修改申请信息" || e.Reason != "修改：姓名" || e.ActorRole != "窗口人员" || strings.Contains(e.Reason, "张三丰") {
			t.Fatalf("form change event %+v", e)
		}
		// The same answers again: nothing to record, nothing changes.
		same, err := f.svc.SaveDraft(ctx, f.window, c.ID, c.Version, map[string]string{"name": "张三丰"})
		if _, m := lastEvent(t, f, c.ID); err != nil || same.Version != c.Version || m != n {
			t.Fatalf("saving unchanged answers: version %d→%d, %d→%d events, %v", c.Version, same.Version, n, m, err)
		}
		// Another department does not see it; a reviewer sees it but does not type it.
		if _, err := f.svc.SaveDraft(ctx, f.foreignWin, c.ID, c.Version, map[string]string{"name": "x"}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another department edits: %v", err)
		}
		if _, err := f.svc.SaveDraft(ctx, f.reviewer, c.ID, c.Version, map[string]string{"name": "x"}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a reviewer edits: %v", err)
		}
		// The clerk scans and may rescan their own scan.
		if c, err = f.svc.Attach(ctx, f.window, c.ID, c.Version, 0, pdf, "扫描件.pdf", 0); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Attach(ctx, f.window, c.ID, c.Version, 0, pdf, "重新扫描.pdf", 0); err != nil {
			t.Fatalf("rescanning: %v", err)
		}
		// The applicant hands in their own file online; the clerk cannot replace it.
		if c, err = f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, pdf, "本人上传.pdf", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Attach(ctx, f.window, c.ID, c.Version, 0, pdf, "覆盖.pdf", 0); !apperr.Is(err, apperr.Forbidden) || !strings.Contains(apperr.MessageOf(err), "申请人本人") {
			t.Fatalf("the clerk replaces the applicant's file: %v", err)
		}
		// Even a second visit does not put a draft before the supervisors.
		if c, err = f.svc.RecordVisit(ctx, f.window, c.ID, c.Version, "补交原件"); err != nil {
			t.Fatal(err)
		}
		supervisor := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: 1, RegionCode: "410411000000", Roles: []policy.Role{policy.Supervisor}}
		if list, err := rows(f.svc.MultiVisits(ctx, supervisor, casework.SupervisionFilter{}, 10)); err != nil || len(list) != 0 {
			t.Fatalf("a draft on the 最多跑一次 list: %+v %v", list, err)
		}
		if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Submit, ""); err != nil {
			t.Fatalf("the clerk submits the counter case: %v", err)
		}
		if list, _ := rows(f.svc.MultiVisits(ctx, supervisor, casework.SupervisionFilter{}, 10)); len(list) != 1 {
			t.Fatalf("the submitted case is not on the 最多跑一次 list: %+v", list)
		}
		if c, err = f.svc.AskCorrection(ctx, f.window, c.ID, c.Version, "请重新提交", []int{0}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Attach(ctx, f.window, c.ID, c.Version, 0, pdf, "覆盖.pdf", 0); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("the clerk replaces the applicant's file during 补正: %v", err)
		}
		mats, _ := casework.Materials(ctx, db.Read(), c.ID)
		if len(mats) != 1 || mats[0].Filename != "本人上传.pdf" {
			t.Fatalf("materials %+v", mats)
		}
		// The applicant's own changes are on the record as theirs.
		d, _ := f.svc.CreateDraft(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"})
		if _, err := f.svc.SaveDraft(ctx, f.citizen, d.ID, d.Version, map[string]string{"name": "张三"}); err != nil {
			t.Fatal(err)
		}
		if e, n := lastEvent(t, f, d.ID); n != 1 || e.Action != casework.Create {
			t.Fatalf("unchanged answers recorded: %+v", e)
		}
		if _, err := f.svc.SaveDraft(ctx, f.citizen, d.ID, d.Version, map[string]string{"name": "张三", "extra": "x"}); err != nil {
			t.Fatal(err)
		}
		if e, _ := lastEvent(t, f, d.ID); e.Action != casework.EditForm || e.ActorRole != "申请人" || e.Reason != "修改：extra" {
			t.Fatalf("the applicant's change %+v", e)
		}
	})
}

// A request without a usable version is told so, not that someone else
// changed the case, and changes nothing.
func TestMissingVersionIsInvalid(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		c := draftWithMaterial(t, f, f.citizen)
		checks := map[string]error{}
		_, checks["save"] = f.svc.SaveDraft(ctx, f.citizen, c.ID, 0, map[string]string{"name": "李四"})
		_, checks["attach"] = f.svc.Attach(ctx, f.citizen, c.ID, 0, 0, pdf, "x.pdf", 0)
		_, checks["submit"] = f.svc.Act(ctx, f.citizen, c.ID, 0, casework.Submit, "")
		k, _ := f.svc.Intake(ctx, f.window, f.itemID, known(f.citizen), nil)
		_, checks["visit"] = f.svc.RecordVisit(ctx, f.window, k.ID, -1, "补交原件")
		for name, err := range checks {
			if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "版本号") {
				t.Errorf("%s without a version: %v", name, err)
			}
		}
		if got, _, _ := f.svc.Get(ctx, f.citizen, c.ID); got.Version != c.Version {
			t.Fatal("a request without a version changed the case")
		}
	})
}

// Queues are case reads: only those who handle cases have them.
func TestQueuesGoThroughPolicy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		submitted(t, f, f.itemID)
		dept, region := f.window.DepartmentID, f.window.RegionCode
		manager := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: dept, RegionCode: region, Roles: []policy.Role{policy.CatalogManager}}
		admin := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: dept, RegionCode: region, Roles: []policy.Role{policy.Admin}}
		for _, who := range []policy.Subject{manager, admin} {
			if _, err := rows(f.svc.Queue(ctx, who, casework.Submitted, casework.QueueFilter{}, 10)); !apperr.Is(err, apperr.Forbidden) {
				t.Errorf("%s lists the queue: %v", who.Roles[0], err)
			}
			if _, err := f.svc.QueueCounts(ctx, who); !apperr.Is(err, apperr.Forbidden) {
				t.Errorf("%s counts the queues: %v", who.Roles[0], err)
			}
			if casework.HasQueues(who) {
				t.Errorf("%s has queues", who.Roles[0])
			}
		}
		if list, err := rows(f.svc.Queue(ctx, f.reviewer, casework.Submitted, casework.QueueFilter{}, 10)); err != nil || len(list) != 1 {
			t.Fatalf("the reviewer's queue: %v %v", list, err)
		}
		if counts, err := f.svc.QueueCounts(ctx, f.window); err != nil || counts[casework.Submitted].N != 1 || !casework.HasQueues(f.window) {
			t.Fatalf("the clerk's counts: %v %v", counts, err)
		}
	})
}

// A counter intake that fails leaves nothing behind: not the case, not
// the account it opened for the applicant, not the audit entry.
func TestFailedIntakeLeavesNoAccount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		enc, idx, err := pii.GenerateKeys()
		if err != nil {
			t.Fatal(err)
		}
		keys, err := pii.ParseKeys(enc, idx)
		if err != nil {
			t.Fatal(err)
		}
		ids := identity.New(db, identity.Options{Keys: keys, Clock: f.clk})
		count := func() string {
			var accounts, audits, cases int
			db.Read().QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM accounts), (SELECT COUNT(*) FROM audit_log), (SELECT COUNT(*) FROM cases)`).Scan(&accounts, &audits, &cases)
			return fmt.Sprint(accounts, audits, cases)
		}
		newcomer, err := ids.CounterApplicant(f.window.AccountID, "王五", "11010519491231002X", "13700001111", identity.Meta{IP: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		// Another department's item: refused.
		other := variant(t, f, db, "010100100009", func(it *catalog.Item) { it.Department = "mzj" })
		before := count()
		if _, err := f.svc.Intake(ctx, f.window, other, newcomer, nil); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("intake of another department's item: %v", err)
		}
		// The item suspended while the clerk typed: refused once the account
		// was already opened in the transaction.
		suspendAfter := func(ctx context.Context, tx *store.Tx) (int64, error) {
			id, err := newcomer(ctx, tx)
			if err != nil {
				return id, err
			}
			_, err = tx.Exec(ctx, `UPDATE items SET status = 'suspended', status_reason = '系统升级' WHERE id = ?`, f.itemID)
			return id, err
		}
		if _, err := f.svc.Intake(ctx, f.window, f.itemID, suspendAfter, nil); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("intake of an item suspended meanwhile: %v", err)
		}
		if after := count(); after != before {
			t.Fatalf("accounts, audit entries, cases: %s before, %s after a failed intake", before, after)
		}
		// Taken in, the account and its audit entry are there with the case;
		// the next time, the applicant is found by their identity number.
		first, err := f.svc.Intake(ctx, f.window, f.itemID, newcomer, nil)
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.svc.Intake(ctx, f.window, f.itemID, newcomer, nil)
		if err != nil || again.ApplicantID != first.ApplicantID || first.ApplicantID == 0 {
			t.Fatalf("the returning applicant: %d, first %d, %v", again.ApplicantID, first.ApplicantID, err)
		}
		var opened int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'person_at_counter'`).Scan(&opened)
		if opened != 1 {
			t.Fatalf("%d audit entries for the new account", opened)
		}
	})
}
