package casework_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// supervisorOf opens a supervisor's account at the department slug names.
func supervisorOf(t *testing.T, db *store.DB, slug string) policy.Subject {
	t.Helper()
	ctx := context.Background()
	d, err := region.NewStore(db).DepartmentBySlug(ctx, db.Read(), slug)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	now := time.Now()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at)
			VALUES ('staff', '督查员', ?, ?, ?, ?) RETURNING id`, "sup."+slug, d.ID, now, now).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO staff_roles (account_id, role) VALUES (?, 'supervisor')`, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return policy.Subject{AccountID: id, Kind: policy.Staff, Name: "督查员", DepartmentID: d.ID, DepartmentKind: string(d.Kind),
		RegionCode: d.RegionCode, Roles: []policy.Role{policy.Supervisor}}
}

// finishedCase takes a case from application to completion, with personal
// data in its answers and in the head's reasons.
func finishedCase(t *testing.T, f fixture) casework.Case {
	t.Helper()
	ctx := context.Background()
	c := draftWithMaterial(t, f, f.citizen)
	var err error
	for _, st := range []struct {
		who    policy.Subject
		action casework.Action
	}{{f.citizen, casework.Submit}, {f.window, casework.Accept}} {
		if c, err = f.svc.Act(ctx, st.who, c.ID, c.Version, st.action, ""); err != nil {
			t.Fatal(err)
		}
	}
	c = reviewed(t, f, c)
	if c, err = f.svc.Decide(ctx, f.head, c.ID, c.Version, true, "申请人张三（手机13812345678，身份证410411199003071234）材料齐全，经营场所建设路12号院3号楼真实，准予登记", ""); err != nil {
		t.Fatal(err)
	}
	licence := filestore.Object{SHA256: strings.Repeat("cd", 32), Size: 99, ContentType: filestore.TypePDF}
	if c, err = f.svc.Complete(ctx, f.window, c.ID, c.Version, licence, "营业执照.pdf"); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBoardPublishesAFinishedCaseWithoutPersonalData(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		boards := board.New(db, f.clk, f.svc.BoardSource())
		sup, streetSup := supervisorOf(t, db, "xzfwzx"), supervisorOf(t, db, "bmfw-410411001000")
		c := finishedCase(t, f)
		meta := audit.Meta{IP: "10.0.0.9"}
		rows := func() int {
			var n int
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM board_entries`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// The district's supervisor sees the case among the candidates; a
		// street's does not (it was handled by a district bureau).
		cs, err := boards.Candidates(ctx, sup, "case", board.Filter{Query: "个体工商户"})
		if err != nil || len(cs) != 1 || cs[0].ID != c.ID || cs[0].Outcome != "按时办结" || cs[0].Department != "平顶山市湛河区市场监督管理局" {
			t.Fatalf("candidates: %+v %v", cs, err)
		}
		// By its number as the queues' search takes it (search.go).
		for _, q := range []string{c.Number, c.Number[6:], c.Number[6:14]} {
			if cs, err := boards.Candidates(ctx, sup, "case", board.Filter{Query: q}); err != nil || len(cs) != 1 || cs[0].ID != c.ID {
				t.Fatalf("candidates %q: %+v %v", q, cs, err)
			}
		}
		if cs, err := boards.Candidates(ctx, sup, "case", board.Filter{Query: "工商户%"}); err != nil || len(cs) != 0 {
			t.Fatalf("candidates 工商户%%: %+v %v", cs, err)
		}
		if _, err := boards.Candidates(ctx, sup, "case", board.Filter{Query: c.Number[6:13]}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("candidates by seven digits: %v", err)
		}
		if cs, err := boards.Candidates(ctx, streetSup, "case", board.Filter{}); err != nil || len(cs) != 0 {
			t.Fatalf("a street's supervisor's candidates: %+v %v", cs, err)
		}
		if _, err := boards.Candidates(ctx, f.window, "case", board.Filter{}); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a window clerk lists candidates: %v", err)
		}

		// Refusals store nothing: no title, no board, the wrong scope, a
		// running case.
		d := board.Draft{Board: board.Praise, Source: "case", SourceID: c.ID, Title: "张三的执照当天办好", Note: "张三（13812345678）来电致谢。"}
		for name, bad := range map[string]struct {
			who  policy.Subject
			d    board.Draft
			code apperr.Code
		}{
			"no title":       {sup, board.Draft{Board: board.Praise, Source: "case", SourceID: c.ID}, apperr.Invalid},
			"no board":       {sup, board.Draft{Source: "case", SourceID: c.ID, Title: "好"}, apperr.Invalid},
			"unknown source": {sup, board.Draft{Board: board.Praise, Source: "tax", SourceID: c.ID, Title: "好"}, apperr.NotFound},
			"out of scope":   {streetSup, d, apperr.NotFound},
			"a window clerk": {f.window, d, apperr.Forbidden},
			"a running case": {sup, board.Draft{Board: board.Praise, Source: "case", SourceID: draftWithMaterial(t, f, f.citizen).ID, Title: "好"}, apperr.NotFound},
		} {
			if _, err := boards.Publish(ctx, bad.who, meta, bad.d); apperr.CodeOf(err) != bad.code {
				t.Errorf("%s: %v, want %s", name, err, bad.code)
			}
		}
		if n := rows(); n != 0 {
			t.Fatalf("refused publications stored %d entries", n)
		}

		preview, err := boards.Preview(ctx, sup, d)
		if err != nil {
			t.Fatal(err)
		}
		e, err := boards.Publish(ctx, sup, meta, d)
		if err != nil {
			t.Fatal(err)
		}
		if preview.Title != e.Title || preview.Text != e.Text || len(preview.Facts) != len(e.Facts) {
			t.Errorf("the preview %+v differs from the entry %+v", preview, e)
		}
		public, err := boards.Get(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		all := public.Title + public.Note + public.Subject + public.Department + public.Region + public.Text
		for _, fact := range public.Facts {
			all += fact.Label + fact.Value
		}
		for _, leak := range []string{"张三", "13812345678", "410411199003071234", "12号院", "3号楼"} {
			if strings.Contains(all, leak) {
				t.Errorf("%q is on the public entry: %s", leak, all)
			}
		}
		for _, want := range []string{"某某的执照当天办好", "个体工商户设立登记", "市场监督管理局", "按时办结", "建设路", "准予登记"} {
			if !strings.Contains(all, want) {
				t.Errorf("%q is missing from the public entry: %s", want, all)
			}
		}
		if _, err := boards.Publish(ctx, sup, meta, d); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("publishing twice: %v", err)
		}
		// The snapshot is fixed: renaming the applicant changes nothing.
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE accounts SET name = '张三三' WHERE id = ?`, f.citizen.AccountID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if again, err := boards.Get(ctx, e.ID); err != nil || again.Title != public.Title || again.Text != public.Text {
			t.Errorf("after an edit of the record: %+v %v", again, err)
		}
		page, err := boards.List(ctx, board.Praise, "")
		if err != nil || len(page.Entries) != 1 || page.Entries[0].ID != e.ID {
			t.Fatalf("the praise board: %+v %v", page, err)
		}
		if page, err := boards.List(ctx, board.Exposure, ""); err != nil || len(page.Entries) != 0 {
			t.Fatalf("the exposure board: %+v %v", page, err)
		}
		if cs, _ := boards.Candidates(ctx, sup, "case", board.Filter{}); len(cs) != 1 || len(cs[0].On) != 1 || cs[0].On[0] != board.Praise {
			t.Errorf("the candidate is not marked as published: %+v", cs)
		}

		// Withdrawing needs a reason and the scope.
		if err := boards.Withdraw(ctx, sup, meta, e.ID, " "); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("withdrawing without a reason: %v", err)
		}
		if err := boards.Withdraw(ctx, streetSup, meta, e.ID, "不在范围"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("withdrawing out of scope: %v", err)
		}
		if err := boards.Withdraw(ctx, sup, meta, e.ID, "申请人不同意公开"); err != nil {
			t.Fatal(err)
		}
		if _, err := boards.Get(ctx, e.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a withdrawn entry: %v", err)
		}
		if err := boards.Withdraw(ctx, sup, meta, e.ID, "再撤"); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("withdrawing twice: %v", err)
		}
		managed, err := boards.Managed(ctx, sup, 10)
		if err != nil || len(managed) != 1 || !managed[0].Withdrawn || managed[0].Reason != "申请人不同意公开" {
			t.Fatalf("managed: %+v %v", managed, err)
		}
		// It may be published again, and both steps are in the audit log.
		if _, err := boards.Publish(ctx, sup, meta, d); err != nil {
			t.Fatalf("publishing again: %v", err)
		}
		log := audit.NewLog(db)
		admin := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
		for action, want := range map[string]int{"board_publish": 2, "board_withdraw": 1} {
			es, err := log.Search(ctx, admin, audit.Filter{Action: action})
			if err != nil || len(es) != want || es[0].IP != "10.0.0.9" || !strings.HasPrefix(es[0].Object, "board:") {
				t.Errorf("audit %s: %+v %v", action, es, err)
			}
		}
		if es, err := log.Search(ctx, sup, audit.Filter{Action: "board_withdraw"}); err != nil || len(es) != 1 {
			t.Errorf("the supervisor's own entries in their audit log: %+v %v", es, err)
		}
	})
}
