package bundle_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/bundle"
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
	db                     *store.DB
	svc                    *bundle.Service
	cases                  *casework.Service
	clk                    *clock.Manual
	cert, hukou, insurance catalog.Item // 出生医学证明 (即办件) → 出生登记; 医保参保
	parent, other          policy.Subject
	hospital, police, ybj  policy.Subject // each department's head (and window, reviewer)
	manager                policy.Subject
	birth                  bundle.Bundle
}

func item(name, dept, result string, kind catalog.CaseKind, mats []string, fields ...catalog.FormField) catalog.Item {
	it := catalog.Item{BaseCode: fmt.Sprintf("0701%08d", len(name)*7+len(dept)), Name: name, Type: catalog.PublicService, Department: dept,
		Basis: "《中华人民共和国母婴保健法》", Subjects: []string{"自然人"}, CaseKind: kind,
		LegalLimit: catalog.TimeLimit{Value: 10, Unit: "工作日"}, PromiseLimit: catalog.TimeLimit{Value: 3, Unit: "工作日"},
		Depth: catalog.DepthFull, Conditions: "新生儿父母。", Steps: []catalog.Step{{Name: "申请", Description: "网上提交"}},
		Result: catalog.Result{Name: result, Type: "证照"}, ConsultPhone: "0375-8861002", ComplaintPhone: "12345",
		Form: []catalog.FormSection{{Title: "申请人", Fields: append([]catalog.FormField{{Key: "applicant_name", Label: "姓名", Type: "text", Required: true}}, fields...)}}}
	if kind == catalog.Immediate {
		it.PromiseLimit = catalog.TimeLimit{Value: 1, Unit: "工作日"}
	}
	for _, m := range mats {
		it.Materials = append(it.Materials, catalog.Material{Name: m, Necessity: "必需", Form: "电子", Copies: 1, Source: "申请人自备", Standard: "真实"})
	}
	return it
}

func newFixture(t *testing.T, db *store.DB) fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
		t.Fatal(err)
	}
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, clk)
	f := fixture{db: db, clk: clk,
		cert: item("出生医学证明签发", "wjw", "出生医学证明", catalog.Immediate, []string{"住院分娩记录", "父母居民身份证"},
			catalog.FormField{Key: "child_name", Label: "新生儿姓名", Type: "text", Required: true}),
		hukou: item("出生登记", "gafj", "居民户口簿（出生登记页）", catalog.Promised, []string{"出生医学证明", "父母居民身份证", "居民户口簿"},
			catalog.FormField{Key: "child_name", Label: "新生儿姓名", Type: "text", Required: true}),
		insurance: item("城乡居民基本医疗保险参保登记", "ybj", "参保登记信息", catalog.Promised, []string{"居民户口簿"},
			catalog.FormField{Key: "insured_name", Label: "参保人姓名", Type: "text", Required: true}),
	}
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		for _, it := range []*catalog.Item{&f.cert, &f.hukou, &f.insurance} {
			if err := items.Load(ctx, tx, it, "测试"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cal := calendar.New(nil)
	f.cases = casework.New(db, items, clk, cal)
	f.cases.OnChanged(stats.Changed)
	f.svc = bundle.New(db, items, regions, f.cases, clk)
	f.parent, f.other = person(t, db, "王芳"), person(t, db, "李四")
	f.hospital = staff(t, db, regions, "wjw")
	f.police = staff(t, db, regions, "gafj")
	f.ybj = staff(t, db, regions, "ybj")
	f.manager = policy.Subject{AccountID: staffAccount(t, db, f.hospital.DepartmentID, "catalog"), Kind: policy.Staff, Name: "事项管理员",
		DepartmentID: f.hospital.DepartmentID, Roles: []policy.Role{policy.CatalogManager}}
	f.birth = bundle.Bundle{Name: "出生一件事", Theme: "生育收养", Summary: "新生儿出生后的证、户、医保一次办。",
		Items:        []int64{f.cert.ID, f.hukou.ID, f.insurance.ID},
		Fields:       []bundle.Field{{ItemID: f.insurance.ID, ItemKey: "insured_name", From: "child_name"}},
		Dependencies: []bundle.Dependency{{ItemID: f.hukou.ID, Requires: f.cert.ID, Material: "出生医学证明"}}}
	if err := f.svc.Save(ctx, f.manager, audit.Meta{}, &f.birth); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPublished(ctx, f.manager, audit.Meta{}, f.birth.ID, true); err != nil {
		t.Fatal(err)
	}
	return f
}

func person(t *testing.T, db *store.DB, name string) policy.Subject {
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

func staffAccount(t *testing.T, db *store.DB, dept int64, roles ...policy.Role) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	now := time.Now()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at)
			VALUES ('staff', '工作人员', ?, ?, ?, ?) RETURNING id`, fmt.Sprintf("s%d.%s", dept, roles[0]), dept, now, now).Scan(&id); err != nil {
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
	return id
}

// staff is a department's one member who takes every step.
func staff(t *testing.T, db *store.DB, regions *region.Store, slug string) policy.Subject {
	t.Helper()
	d, err := regions.DepartmentBySlug(context.Background(), db.Read(), slug)
	if err != nil {
		t.Fatal(err)
	}
	roles := []policy.Role{policy.Window, policy.Reviewer, policy.Head}
	return policy.Subject{AccountID: staffAccount(t, db, d.ID, roles...), Kind: policy.Staff, Name: "工作人员", DepartmentID: d.ID,
		DepartmentKind: string(d.Kind), RegionCode: d.RegionCode, Roles: roles}
}

func file(n byte) casework.Attachment {
	return casework.Attachment{Object: filestore.Object{SHA256: strings.Repeat(fmt.Sprintf("%02x", n), 32), Size: 1000 + int64(n), ContentType: filestore.TypePDF},
		Filename: fmt.Sprintf("材料%d.pdf", n)}
}

// apply applies for the birth bundle with every material.
func (f fixture) apply(t *testing.T, who policy.Subject) bundle.Application {
	t.Helper()
	g, err := f.svc.Guide(context.Background(), f.birth.ID)
	if err != nil {
		t.Fatal(err)
	}
	files := map[int]casework.Attachment{}
	for i := range g.Materials {
		files[i] = file(byte(i + 1))
	}
	a, err := f.svc.Apply(context.Background(), who, f.birth.ID, map[string]string{"applicant_name": "王芳", "child_name": "王小宝"}, files)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func count(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGuide(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		g, err := f.svc.Guide(context.Background(), f.birth.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Fields asked once: the name and the child's name (the insurance's
		// insured_name is mapped to it).
		var keys []string
		for _, s := range g.Form {
			for _, fl := range s.Fields {
				keys = append(keys, fl.Key)
			}
		}
		if strings.Join(keys, ",") != "applicant_name,child_name" {
			t.Errorf("combined form: %v", keys)
		}
		// Materials merged by name; the certificate is the first item's result.
		var names []string
		for _, m := range g.Materials {
			names = append(names, m.Name+"("+strings.Join(m.ItemNames, "/")+")")
		}
		if want := "住院分娩记录(出生医学证明签发),父母居民身份证(出生医学证明签发/出生登记),居民户口簿(出生登记/城乡居民基本医疗保险参保登记)"; strings.Join(names, ",") != want {
			t.Errorf("materials:\n got %s\nwant %s", strings.Join(names, ","), want)
		}
		if g.Parts[1].Requires != 0 || g.Parts[1].Filled != "出生医学证明" || g.Longest != 4 {
			t.Errorf("parts %+v, longest %d", g.Parts[1], g.Longest)
		}
	})
}

func TestValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		for _, tc := range []struct {
			name string
			b    bundle.Bundle
			want string
		}{
			{"unknown item", bundle.Bundle{Name: "甲", Items: []int64{f.cert.ID, 999999}}, "没有编号为 999999 的事项"},
			{"cycle", bundle.Bundle{Name: "乙", Items: []int64{f.cert.ID, f.hukou.ID}, Dependencies: []bundle.Dependency{
				{ItemID: f.hukou.ID, Requires: f.cert.ID, Material: "出生医学证明"}, {ItemID: f.cert.ID, Requires: f.hukou.ID, Material: "住院分娩记录"}}},
				"前置关系形成循环"},
			{"no such material", bundle.Bundle{Name: "丙", Items: []int64{f.cert.ID, f.hukou.ID}, Dependencies: []bundle.Dependency{
				{ItemID: f.hukou.ID, Requires: f.cert.ID, Material: "结婚证"}}}, "没有名为「结婚证」的材料"},
			{"order", bundle.Bundle{Name: "丁", Items: []int64{f.hukou.ID, f.cert.ID}, Dependencies: []bundle.Dependency{
				{ItemID: f.hukou.ID, Requires: f.cert.ID, Material: "出生医学证明"}}}, "应排在依赖它的事项"},
			{"field", bundle.Bundle{Name: "戊", Items: []int64{f.cert.ID, f.insurance.ID}, Fields: []bundle.Field{
				{ItemID: f.insurance.ID, ItemKey: "insured_name", From: "nobody"}}}, "不在其他事项的申请表中"},
			{"one item", bundle.Bundle{Name: "己", Items: []int64{f.cert.ID}}, "至少包含两个事项"},
		} {
			b := tc.b
			err := f.svc.Save(ctx, f.manager, audit.Meta{}, &b)
			if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			}
		}
		// An unpublished item cannot be in a published bundle.
		draft := item("新生儿预防接种证办理", "wjw", "预防接种证", catalog.Promised, []string{"出生医学证明"})
		if _, err := catalog.NewStore(db, region.NewStore(db), f.clk).SaveDraft(ctx, policy.Subject{Kind: policy.Staff, Name: "甲", Roles: []policy.Role{policy.Admin}}, audit.Meta{}, &draft); err != nil {
			t.Fatal(err)
		}
		b := bundle.Bundle{Name: "接种一件事", Items: []int64{f.cert.ID, draft.ID}}
		if err := f.svc.Save(ctx, f.manager, audit.Meta{}, &b); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetPublished(ctx, f.manager, audit.Meta{}, b.ID, true); err == nil || !strings.Contains(err.Error(), "未发布") {
			t.Errorf("publish with a draft item: %v", err)
		}
		// Only catalog managers and administrators build bundles.
		if err := f.svc.Save(ctx, f.police, audit.Meta{}, &bundle.Bundle{Name: "庚", Items: []int64{f.cert.ID, f.hukou.ID}}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("a clerk saved a bundle: %v", err)
		}
		var audited int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('bundle_create', 'bundle_publish')`).Scan(&audited); err != nil || audited != 3 {
			t.Errorf("audit entries %d, %v", audited, err)
		}
	})
}

func TestApplyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		a := f.apply(t, f.parent)
		if len(a.Parts) != 3 || a.Outcome != bundle.Open {
			t.Fatalf("application %+v", a)
		}
		if a.Parts[0].Status != casework.Submitted || a.Parts[1].Status != casework.Waiting || a.Parts[2].Status != casework.Submitted {
			t.Errorf("statuses %s %s %s", a.Parts[0].Status, a.Parts[1].Status, a.Parts[2].Status)
		}
		numbers := map[string]bool{}
		for _, p := range a.Parts {
			numbers[p.Number] = true
		}
		if len(numbers) != 3 {
			t.Errorf("numbers %v", numbers)
		}
		// The shared 居民户口簿 is one file, referenced by both cases.
		var refs, distinct int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT case_id) FROM case_materials WHERE name = '居民户口簿'`).Scan(&refs, &distinct); err != nil {
			t.Fatal(err)
		}
		hukou, _ := f.cases.MaterialsOf(ctx, f.parent, a.Parts[1].CaseID)
		ins, _ := f.cases.MaterialsOf(ctx, f.parent, a.Parts[2].CaseID)
		if refs != 2 || distinct != 2 || len(ins) != 1 || hukou[len(hukou)-1].SHA256 != ins[0].SHA256 {
			t.Errorf("shared material: %d rows in %d cases", refs, distinct)
		}
		// The mapped field: the child's name filled the insured's.
		c, _, err := f.cases.Get(ctx, f.parent, a.Parts[2].CaseID)
		if err != nil || c.Form["insured_name"] != "王小宝" {
			t.Errorf("insured_name %q, %v", c.Form["insured_name"], err)
		}
		// Each part has its own chain; the waiting one is not counted yet.
		var submitted int
		if err := db.Read().QueryRow(ctx, `SELECT COALESCE(SUM(submitted), 0) FROM case_stats`).Scan(&submitted); err != nil || submitted != 2 {
			t.Errorf("submitted in the statistics: %d, %v", submitted, err)
		}
		assertRecount(t, db)
		if _, broken, err := casework.VerifyChains(ctx, db, nil); err != nil || len(broken) > 0 {
			t.Errorf("chains: %v %v", broken, err)
		}
		mine, err := f.svc.Mine(ctx, f.parent)
		if err != nil || len(mine) != 1 || mine[0].ID != a.ID {
			t.Errorf("mine %+v, %v", mine, err)
		}
	})
}

func TestApplyAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.apply(t, f.other)
		before := map[string]int{}
		tables := []string{"cases", "case_events", "case_materials", "bundle_cases", "bundle_parts", "case_waits", "messages"}
		for _, table := range tables {
			before[table] = count(t, db, table)
		}
		stats := statsTables(t, db)
		// The last part's item is suspended behind the catalog's caches:
		// every part passes the checks, and the last one's insert, which
		// checks the item in its statement, fails inside the transaction
		// after the first two parts were written.
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE items SET status = 'suspended' WHERE id = ?`, f.insurance.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		g, err := f.svc.Guide(ctx, f.birth.ID)
		if err != nil {
			t.Fatal(err)
		}
		files := map[int]casework.Attachment{}
		for i := range g.Materials {
			files[i] = file(byte(20 + i))
		}
		_, err = f.svc.Apply(ctx, f.parent, f.birth.ID, map[string]string{"applicant_name": "王芳", "child_name": "王小宝"}, files)
		if apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("applied with a suspended item: %v", err)
		}
		for _, table := range tables {
			if n := count(t, db, table); n != before[table] {
				t.Errorf("%s: %d rows after a refused application, %d before", table, n, before[table])
			}
		}
		if after := statsTables(t, db); fmt.Sprint(after) != fmt.Sprint(stats) {
			t.Errorf("statistics changed by a refused application")
		}
		// A form problem names the combined field, and writes nothing.
		_, err = f.svc.Apply(ctx, f.parent, f.birth.ID, map[string]string{"applicant_name": "王芳"}, files)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Fields["child_name"] == "" {
			t.Errorf("missing child's name: %v", err)
		}
	})
}

// statsTables reads the statistics' counters.
func statsTables(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.Read().Query(context.Background(), `SELECT month, item_id, department_id, region_code, channel, submitted, accepted, finished,
		timed, on_time, late, measured, handling_days, promise_days, legal_days, one_visit, one_correction, withdrawn FROM case_stats
		WHERE submitted <> 0 OR accepted <> 0 OR finished <> 0 OR withdrawn <> 0 OR one_visit <> 0 ORDER BY month, item_id, department_id, region_code, channel`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k [5]string
		var n [13]int64
		dest := []any{&k[0], &k[1], &k[2], &k[3], &k[4]}
		for i := range n {
			dest = append(dest, &n[i])
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(k, n))
	}
	return out
}

// assertRecount checks that the counters kept step by step are those a
// recount makes from the cases, the waiting and closed parts included.
func assertRecount(t *testing.T, db *store.DB) {
	t.Helper()
	kept := statsTables(t, db)
	if err := stats.Recount(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if recounted := statsTables(t, db); fmt.Sprint(kept) != fmt.Sprint(recounted) {
		t.Errorf("counters kept:\n%v\nrecounted:\n%v", kept, recounted)
	}
}

// settle completes an 即办件 with its result.
func (f fixture) settle(t *testing.T, who policy.Subject, id int64) casework.Case {
	t.Helper()
	c, _, err := f.cases.Get(context.Background(), who, id)
	if err != nil {
		t.Fatal(err)
	}
	result := filestore.Object{SHA256: strings.Repeat("ce", 32), Size: 4321, ContentType: filestore.TypePDF}
	if c, err = f.cases.Settle(context.Background(), who, id, c.Version, "符合条件，当场签发", result, "SCAN_0012.pdf"); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDependantStartsOnCompletion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		a := f.apply(t, f.parent)
		// Staff of the police do not see the waiting part: not in their
		// queues, not by its id.
		if _, _, err := f.cases.Get(ctx, f.police, a.Parts[1].CaseID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("police saw a waiting part: %v", err)
		}
		page, err := f.cases.Queue(ctx, f.police, casework.AllQueues, casework.QueueFilter{}, 50)
		if err != nil || page.Total != 0 {
			t.Errorf("police queue: %d, %v", page.Total, err)
		}
		// Neither can the applicant change it.
		if _, err := f.cases.Attach(ctx, f.parent, a.Parts[1].CaseID, 1, 0, file(9).Object, "x.pdf", 0); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("attached to a waiting part: %v", err)
		}
		cert := f.settle(t, f.hospital, a.Parts[0].CaseID)
		c, events, err := f.cases.Get(ctx, f.police, a.Parts[1].CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != casework.Submitted {
			t.Fatalf("dependant is %s", c.Status)
		}
		last := events[len(events)-1]
		if last.Action != casework.Release || last.ActorID != 0 || events[len(events)-2].Action != casework.Upload {
			t.Errorf("record ends with %+v", events[len(events)-2:])
		}
		mats, err := f.cases.MaterialsOf(ctx, f.police, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got casework.Material
		for _, m := range mats {
			if m.Name == "出生医学证明" {
				got = m
			}
		}
		if got.SHA256 != cert.ResultSHA256 || got.ReusedFrom != cert.ID || got.Filename != "出生医学证明.pdf" || got.Size != 4321 {
			t.Errorf("certificate material %+v", got)
		}
		page, err = f.cases.Queue(ctx, f.police, casework.Submitted, casework.QueueFilter{}, 50)
		if err != nil || page.Total != 1 {
			t.Errorf("police queue after the certificate: %d, %v", page.Total, err)
		}
		assertRecount(t, db)
		if _, broken, err := casework.VerifyChains(ctx, db, nil); err != nil || len(broken) > 0 {
			t.Errorf("chains: %v %v", broken, err)
		}
		// The other parts complete: the bundle completes, due the latest.
		for _, p := range []struct {
			who policy.Subject
			id  int64
		}{{f.police, a.Parts[1].CaseID}, {f.ybj, a.Parts[2].CaseID}} {
			f.handle(t, p.who, p.id)
			f.clk.Advance(24 * time.Hour)
		}
		a, err = f.svc.Application(ctx, f.parent, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != bundle.Completed {
			t.Errorf("outcome %s", a.Outcome)
		}
		latest := a.Parts[0].DueOn
		for _, p := range a.Parts {
			if !p.HasResult {
				t.Errorf("%s has no result", p.ItemName)
			}
			if p.DueOn.After(latest) {
				latest = p.DueOn
			}
		}
		if a.DueOn != latest || a.DueOn != a.Parts[2].DueOn {
			t.Errorf("bundle due %s, parts %v", a.DueOn, a.Parts)
		}
		assertRecount(t, db)
	})
}

// handle takes a promised case from submission to completion.
func (f fixture) handle(t *testing.T, who policy.Subject, id int64) {
	t.Helper()
	ctx := context.Background()
	c, _, err := f.cases.Get(ctx, who, id)
	if err != nil {
		t.Fatal(err)
	}
	steps := []func(casework.Case) (casework.Case, error){
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Act(ctx, who, c.ID, c.Version, casework.Accept, "")
		},
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Act(ctx, who, c.ID, c.Version, casework.Review, "材料齐全")
		},
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Decide(ctx, who, c.ID, c.Version, true, "准予", "")
		},
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Complete(ctx, who, c.ID, c.Version, filestore.Object{SHA256: strings.Repeat("d1", 32), Size: 99, ContentType: filestore.TypePDF}, "结果.pdf")
		},
	}
	for _, step := range steps {
		if c, err = step(c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRefusalClosesDependants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		a := f.apply(t, f.parent)
		c, _, err := f.cases.Get(ctx, f.hospital, a.Parts[0].CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.cases.Act(ctx, f.hospital, c.ID, c.Version, casework.Refuse, "非本院分娩，不予签发"); err != nil {
			t.Fatal(err)
		}
		c, events, err := f.cases.Get(ctx, f.parent, a.Parts[1].CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != casework.Closed || !strings.Contains(events[len(events)-1].Reason, "前置事项「出生医学证明签发」不予受理") {
			t.Errorf("dependant %s: %+v", c.Status, events[len(events)-1])
		}
		f.handle(t, f.ybj, a.Parts[2].CaseID)
		if a, err = f.svc.Application(ctx, f.parent, a.ID); err != nil || a.Outcome != bundle.Ended {
			t.Errorf("outcome %s, %v", a.Outcome, err)
		}
		assertRecount(t, db)
		if _, broken, err := casework.VerifyChains(ctx, db, nil); err != nil || len(broken) > 0 {
			t.Errorf("chains: %v %v", broken, err)
		}
	})
}

func TestAuthorization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		a := f.apply(t, f.parent)
		// Another person, and staff, do not see the application.
		for _, who := range []policy.Subject{f.other, f.hospital, {Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}} {
			if _, err := f.svc.Application(ctx, who, a.ID); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("%s saw the application: %v", who.Name, err)
			}
		}
		if mine, _ := f.svc.Mine(ctx, f.other); len(mine) != 0 {
			t.Errorf("another person lists %d applications", len(mine))
		}
		// A department sees its own part, as its case, and the others' states only.
		if _, _, err := f.cases.Get(ctx, f.hospital, a.Parts[2].CaseID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("the hospital saw the insurance part: %v", err)
		}
		c, _, err := f.cases.Get(ctx, f.hospital, a.Parts[0].CaseID)
		if err != nil {
			t.Fatal(err)
		}
		bc, ok, err := f.svc.PartOf(ctx, f.hospital, c)
		if err != nil || !ok || bc.BundleName != "出生一件事" || len(bc.Others) != 2 || bc.Others[0].Number != "" || bc.Others[0].CaseID != 0 {
			t.Errorf("context %+v %v %v", bc, ok, err)
		}
		other, _, _ := f.cases.Get(ctx, f.ybj, a.Parts[2].CaseID)
		if _, _, err := f.svc.PartOf(ctx, f.hospital, other); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("the hospital read the context of another's part: %v", err)
		}
	})
}

func TestExchangeFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		data, err := f.svc.Export(ctx, f.manager, audit.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `"format": "zwfw-bundles"`) || !strings.Contains(string(data), f.cert.ImplCode) || strings.Contains(string(data), fmt.Sprintf(`"item": %d`, f.cert.ID)) {
			t.Fatalf("export:\n%s", data)
		}
		// The same file again: the bundle is replaced in place, by name.
		if n, err := f.svc.Import(ctx, f.manager, audit.Meta{}, data); err != nil || n != 1 {
			t.Fatalf("import: %d %v", n, err)
		}
		// A second bundle, and a broken one: nothing is imported.
		broken := strings.Replace(string(data), `"bundles": [`, `"bundles": [{"name": "接种一件事", "published": false, "items": ["`+f.cert.ImplCode+`", "NO-SUCH-CODE"]},`, 1)
		if _, err := f.svc.Import(ctx, f.manager, audit.Meta{}, []byte(broken)); apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "没有实施编码为“NO-SUCH-CODE”的事项") {
			t.Fatalf("broken import: %v", err)
		}
		if n := count(t, db, "bundles"); n != 1 {
			t.Errorf("%d bundles after a refused import", n)
		}
		fixed := strings.Replace(broken, "NO-SUCH-CODE", f.insurance.ImplCode, 1)
		if n, err := f.svc.Import(ctx, f.manager, audit.Meta{}, []byte(fixed)); err != nil || n != 2 {
			t.Fatalf("import: %d %v", n, err)
		}
		list, err := f.svc.List(ctx, f.manager)
		if err != nil || len(list) != 2 || list[0].Name != "出生一件事" || list[0].Status != bundle.Published || list[1].Status != bundle.Draft ||
			len(list[0].Dependencies) != 1 || len(list[0].Fields) != 1 {
			t.Errorf("bundles after import %+v, %v", list, err)
		}
		if _, err := f.svc.Import(ctx, f.hospital, audit.Meta{}, data); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("a clerk imported bundles: %v", err)
		}
	})
}
