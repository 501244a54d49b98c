package complaint_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

var meta = audit.Meta{IP: "127.0.0.1", Client: "test"}

const (
	district = "410411000000"
	mazhuang = "410411001000" // 马庄街道
	kaiyuan  = "410411001002" // 开源社区, in 马庄街道
	nanhuan  = "410411002001" // 南环社区, in 南环路街道
)

type fixture struct {
	db                   *store.DB
	svc                  *complaint.Service
	clk                  *clock.Manual
	cats                 map[string]complaint.Category
	citizen, other       policy.Subject
	admin, dispatcher    policy.Subject
	cgj, cgjHead, zjj    policy.Subject // 城管局 reviewer and head, 住建局 reviewer
	street               policy.Subject // 马庄街道便民服务中心 reviewer
	window               policy.Subject
	supervisor, otherSup policy.Subject // the district's, 南环路街道's
	depts                map[string]region.Department
	closed               []string // complaints OnClosed saw
	verifiedCodes        map[string]string
	files                *staging.Store
	hotline              chan hotlinePost // what the 12345 system was told
}

// hotlinePost is one status update the 12345 system received.
type hotlinePost struct {
	auth string
	body complaint.HotlineStatus
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

func staff(t testing.TB, db *store.DB, d region.Department, name string, roles ...policy.Role) policy.Subject {
	t.Helper()
	ctx := context.Background()
	var id int64
	now := time.Now()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at)
			VALUES ('staff', ?, ?, ?, ?, ?) RETURNING id`, name, fmt.Sprintf("u%d.%s.%s", d.ID, roles[0], name), d.ID, now, now).Scan(&id); err != nil {
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
	return policy.Subject{AccountID: id, Name: name, Kind: policy.Staff, DepartmentID: d.ID, DepartmentKind: string(d.Kind), RegionCode: d.RegionCode, Roles: roles}
}

// newFixture: the demo district, the default categories, rules sending
// 一般类 in 马庄街道 to its convenience centre, in the rest of the district
// to 城管局, and 水电气热 in 开源社区 to 住建局. The clock stands on
// Monday 2026-11-23 10:00, Beijing time.
func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 23, 10, 0, 0, 0, clock.China))
	if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
		t.Fatal(err)
	}
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.ParseKeys(enc, idx)
	if err != nil {
		t.Fatal(err)
	}
	regions := region.NewStore(db)
	f := &fixture{db: db, clk: clk, depts: map[string]region.Department{}, verifiedCodes: map[string]string{}}
	for _, slug := range []string{"cgj", "zjj", "zwfwj", "xzfwzx", "bmfw-410411001000", "bmfw-410411002000"} {
		if f.depts[slug], err = regions.DepartmentBySlug(ctx, db.Read(), slug); err != nil {
			t.Fatal(err)
		}
	}
	local, err := filestore.NewLocal(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	f.files = staging.New(db, local)
	// The 12345 system's status address: it records what it is told.
	f.hotline = make(chan hotlinePost, 20)
	hotline := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p hotlinePost
		if err := json.NewDecoder(r.Body).Decode(&p.body); err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		p.auth = r.Header.Get("Authorization")
		f.hotline <- p
	}))
	t.Cleanup(hotline.Close)
	f.svc = complaint.New(db, complaint.Options{Clock: clk, Calendar: calendar.New(nil), Regions: regions, Keys: keys, Files: f.files,
		Hotline: complaint.HotlineSystem{URL: hotline.URL + "/status", Token: "hotline-token"},
		VerifyCode: func(_ context.Context, mobile, code string) error {
			if f.verifiedCodes[mobile] != code {
				return apperr.New(apperr.Invalid, "验证码不正确。")
			}
			return nil
		},
		OnClosed: func(ctx context.Context, tx *store.Tx, c complaint.Complaint) error {
			var st string
			if err := tx.QueryRow(ctx, `SELECT status FROM complaints WHERE id = ?`, c.ID).Scan(&st); err != nil {
				return err
			}
			f.closed = append(f.closed, c.Number)
			return nil
		}})
	f.admin = policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}
	if err := f.svc.SeedDefaults(ctx, f.admin, meta); err != nil {
		t.Fatal(err)
	}
	cats, err := f.svc.Categories(ctx, false)
	if err != nil || len(cats) != 4 {
		t.Fatalf("categories: %v %v", cats, err)
	}
	f.cats = map[string]complaint.Category{}
	for _, c := range cats {
		f.cats[c.Code] = c
	}
	for _, r := range []struct {
		cat, region, dept string
	}{{"general", district, "cgj"}, {"general", mazhuang, "bmfw-410411001000"}, {"utilities", kaiyuan, "zjj"}, {"emergency", district, "cgj"}} {
		if err := f.svc.SaveRoute(ctx, f.admin, meta, f.cats[r.cat].ID, r.region, f.depts[r.dept].ID); err != nil {
			t.Fatal(err)
		}
	}
	f.citizen, f.other = person(t, db, "张三"), person(t, db, "李四")
	f.dispatcher = staff(t, db, f.depts["zwfwj"], "派单员小周", policy.Dispatcher)
	f.cgj = staff(t, db, f.depts["cgj"], "城管审批", policy.Reviewer)
	f.cgjHead = staff(t, db, f.depts["cgj"], "城管科长", policy.Head)
	f.zjj = staff(t, db, f.depts["zjj"], "住建审批", policy.Reviewer)
	f.street = staff(t, db, f.depts["bmfw-410411001000"], "马庄中心", policy.Reviewer, policy.Window)
	f.window = staff(t, db, f.depts["xzfwzx"], "窗口王芳", policy.Window)
	f.supervisor = staff(t, db, f.depts["zwfwj"], "督查刘敏", policy.Supervisor)
	f.otherSup = staff(t, db, f.depts["bmfw-410411002000"], "南环督查", policy.Supervisor)
	return f
}

func (f *fixture) file(t testing.TB, who policy.Subject, cat, regionCode string) complaint.Complaint {
	t.Helper()
	n := complaint.Filing{CategoryID: f.cats[cat].ID, Title: "路灯不亮", Description: "小区门口的路灯坏了一个多星期，晚上很黑。",
		Address: "建设路 18 号", RegionCode: regionCode, Mobile: "13912345678"}
	if who.Kind == policy.Staff {
		n.Channel, n.Name = complaint.Phone, "王大爷"
	}
	c, created, err := f.svc.Create(context.Background(), who, meta, n)
	if err != nil || !created {
		t.Fatalf("create: %v (created %v)", err, created)
	}
	return c
}

func (f *fixture) messages(t testing.TB, who policy.Subject) int {
	t.Helper()
	var n int
	if err := f.db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM messages WHERE account_id = ?`, who.AccountID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func code(err error) apperr.Code { return apperr.CodeOf(err) }

func TestRoutingAndPersonalData(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		// The most specific rule wins: 开源社区 lies in 马庄街道, whose rule
		// sends 一般类 to its centre; 南环社区 has only the district's.
		c := f.file(t, f.citizen, "general", kaiyuan)
		if c.Status != complaint.Dispatched || c.DepartmentID != f.depts["bmfw-410411001000"].ID {
			t.Fatalf("routed to %d (%s), want 马庄街道便民服务中心", c.DepartmentID, c.Status)
		}
		if !strings.HasPrefix(c.Number, "TS20261123") {
			t.Errorf("number %s", c.Number)
		}
		d := f.file(t, f.citizen, "general", nanhuan)
		if d.DepartmentID != f.depts["cgj"].ID {
			t.Errorf("南环社区 routed to %d, want 城管局", d.DepartmentID)
		}
		// No rule for 复杂类: it waits for the dispatcher.
		p := f.file(t, f.citizen, "complex", nanhuan)
		if p.Status != complaint.Pending || p.DepartmentID != 0 {
			t.Errorf("complex: %s %d", p.Status, p.DepartmentID)
		}
		// 一般类 is dispatched within 7 working hours: Monday 10:00 → Tuesday
		// 10:00; answered within 7 working days: Wednesday 2 December 17:30.
		if want := time.Date(2026, 11, 24, 10, 0, 0, 0, clock.China); !c.DispatchDue.Equal(want) {
			t.Errorf("dispatch due %s, want %s", c.DispatchDue, want)
		}
		if want := time.Date(2026, 12, 2, 17, 30, 0, 0, clock.China); !c.FeedbackDue.Equal(want) {
			t.Errorf("feedback due %s, want %s", c.FeedbackDue, want)
		}
		// The mobile number is sealed at rest.
		var raw string
		if err := db.Read().QueryRow(ctx, `SELECT name_sealed || mobile_sealed || name_masked || mobile_masked FROM complaints WHERE id = ?`, c.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(raw, "13912345678") || strings.Contains(raw, "张三") {
			t.Errorf("personal data in clear: %s", raw)
		}
		// The owner unit and the person see it; a supervisor sees it masked.
		own, err := f.svc.Get(ctx, f.street, c.ID)
		if err != nil || own.Mobile != "13912345678" || own.Name != "张三" || !own.Revealed {
			t.Errorf("owner unit: %q %q %v", own.Mobile, own.Name, err)
		}
		mine, err := f.svc.Get(ctx, f.citizen, c.ID)
		if err != nil || mine.Mobile != "13912345678" {
			t.Errorf("person: %q %v", mine.Mobile, err)
		}
		sup, err := f.svc.Get(ctx, f.supervisor, c.ID)
		if err != nil || sup.Mobile == "13912345678" || !strings.Contains(sup.Mobile, "*") || sup.Revealed {
			t.Errorf("supervisor: %q %v", sup.Mobile, err)
		}
		// Others are told it does not exist.
		for name, who := range map[string]policy.Subject{"other person": f.other, "other unit": f.cgj, "other street's supervisor": f.otherSup} {
			if _, err := f.svc.Get(ctx, who, c.ID); code(err) != apperr.NotFound {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}
		// Lists are scoped the same way.
		lists := map[string]struct {
			who  policy.Subject
			want int
		}{"person": {f.citizen, 3}, "other": {f.other, 0}, "street": {f.street, 1}, "cgj": {f.cgj, 1},
			"dispatcher": {f.dispatcher, 3}, "district supervisor": {f.supervisor, 3}, "南环 supervisor": {f.otherSup, 2}}
		for name, l := range lists {
			got, err := f.svc.List(ctx, l.who, complaint.Filter{})
			if err != nil || len(got) != l.want {
				t.Errorf("%s lists %d, want %d (%v)", name, len(got), l.want, err)
			}
		}
		pending, _ := f.svc.List(ctx, f.dispatcher, complaint.Filter{Status: []complaint.Status{complaint.Pending}})
		if len(pending) != 1 || pending[0].ID != p.ID {
			t.Errorf("pending: %v", pending)
		}
		// The public view holds no personal data.
		pub, err := f.svc.PublicView(ctx, c.Number)
		if err != nil || pub.Department == "" || pub.CategoryCode != "general" || len(pub.Progress) != 2 {
			t.Fatalf("public: %+v %v", pub, err)
		}
		// The unit learnt of it; the person too.
		if f.messages(t, f.street) != 1 || f.messages(t, f.citizen) != 3 {
			t.Errorf("messages: street %d, citizen %d", f.messages(t, f.street), f.messages(t, f.citizen))
		}
	})
}

func TestFilingIsCheckedAtTheEdge(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		good := complaint.Filing{CategoryID: f.cats["general"].ID, Title: "噪声扰民", Description: "工地夜间施工到凌晨两点。", RegionCode: kaiyuan, Mobile: "13912345678"}
		bad := map[string]func(n *complaint.Filing){
			"category":    func(n *complaint.Filing) { n.CategoryID = 0 },
			"title":       func(n *complaint.Filing) { n.Title = "" },
			"description": func(n *complaint.Filing) { n.Description = "吵" },
			"region":      func(n *complaint.Filing) { n.RegionCode = "999999999999" },
			"mobile":      func(n *complaint.Filing) { n.Mobile = "12345" },
			"location":    func(n *complaint.Filing) { lat := 95.0; n.Lat, n.Lng = &lat, &lat },
			"case_number": func(n *complaint.Filing) { n.CaseNumber = "41041120261123000001" },
		}
		for field, change := range bad {
			n := good
			change(&n)
			_, _, err := f.svc.Create(ctx, f.citizen, meta, n)
			var e *apperr.Error
			if !errors.As(err, &e) || e.Code != apperr.Invalid || e.Fields[field] == "" {
				t.Errorf("%s: %v", field, err)
			}
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM complaints`).Scan(&n); err != nil || n != 0 {
			t.Errorf("refused filings left %d complaints", n)
		}
		// Anonymous: the SMS code is checked.
		anon := good
		anon.Code = "000000"
		if _, _, err := f.svc.Create(ctx, policy.Subject{Kind: policy.Anonymous}, meta, anon); code(err) != apperr.Invalid {
			t.Errorf("wrong code: %v", err)
		}
		f.verifiedCodes["13912345678"] = "123456"
		anon.Code = "123456"
		c, _, err := f.svc.Create(ctx, policy.Subject{Kind: policy.Anonymous}, meta, anon)
		if err != nil || c.Channel != complaint.WebAnonymous || c.AccountID != 0 {
			t.Fatalf("anonymous: %+v %v", c, err)
		}
		// A window clerk takes one in; a person acting for an enterprise
		// and a catalog manager may not file.
		w := good
		w.Channel, w.Name = complaint.Window, "王大爷"
		if c, _, err := f.svc.Create(ctx, f.window, meta, w); err != nil || c.Channel != complaint.Window || c.TakenBy != f.window.AccountID {
			t.Errorf("window: %+v %v", c, err)
		}
		acting := f.citizen
		acting.ActingFor = 5
		if _, _, err := f.svc.Create(ctx, acting, meta, good); err == nil {
			t.Error("acting for an enterprise: filed")
		}
		// The hotline: once per 工单.
		h := good
		h.Channel, h.ExternalID, h.Mobile = complaint.Hotline, "GD-2026-0001", ""
		if _, _, err := f.svc.Create(ctx, f.window, meta, h); code(err) != apperr.Forbidden {
			t.Errorf("window pushing a 工单: %v", err)
		}
		first, created, err := f.svc.Create(ctx, f.dispatcher, meta, h)
		if err != nil || !created {
			t.Fatal(err)
		}
		again, created, err := f.svc.Create(ctx, f.dispatcher, meta, h)
		if err != nil || created || again.ID != first.ID {
			t.Errorf("second push: %d %v %v", again.ID, created, err)
		}
	})
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		c := f.file(t, f.citizen, "general", nanhuan) // → 城管局
		// The unit sends it back before signing: counted, back to the
		// dispatcher, the person not told.
		before := f.messages(t, f.citizen)
		if _, err := f.svc.Bounce(ctx, f.cgj, meta, c.ID, c.Version, "短"); code(err) != apperr.Invalid {
			t.Errorf("short reason: %v", err)
		}
		c, err := f.svc.Bounce(ctx, f.cgj, meta, c.ID, c.Version, "路灯属供电公司管理，不属本局职责")
		if err != nil || c.Status != complaint.Pending || c.Bounces != 1 || c.DepartmentID != 0 {
			t.Fatalf("bounce: %+v %v", c, err)
		}
		if f.messages(t, f.citizen) != before || f.messages(t, f.dispatcher) != 1 {
			t.Errorf("bounce messages: citizen %d→%d, dispatcher %d", before, f.messages(t, f.citizen), f.messages(t, f.dispatcher))
		}
		// Only the dispatcher dispatches; back to the unit that bounced it
		// only with a reason.
		if _, err := f.svc.Dispatch(ctx, f.cgj, meta, c.ID, c.Version, f.depts["zjj"].ID, ""); err == nil {
			t.Error("a unit dispatched")
		}
		if _, err := f.svc.Dispatch(ctx, f.dispatcher, meta, c.ID, c.Version, f.depts["cgj"].ID, ""); code(err) != apperr.Invalid {
			t.Errorf("back to the bouncer without a note: %v", err)
		}
		if c, err = f.svc.Dispatch(ctx, f.dispatcher, meta, c.ID, c.Version, f.depts["zjj"].ID, "请住建局牵头"); err != nil || c.Status != complaint.Dispatched {
			t.Fatalf("dispatch: %v", err)
		}
		// A stale version is refused.
		if _, err := f.svc.Sign(ctx, f.zjj, meta, c.ID, c.Version-1); code(err) != apperr.Conflict {
			t.Errorf("stale sign: %v", err)
		}
		if c, err = f.svc.Sign(ctx, f.zjj, meta, c.ID, c.Version); err != nil || c.Status != complaint.Handling {
			t.Fatalf("sign: %v", err)
		}
		// Signed: the unit owns it and cannot bounce it.
		if _, err := f.svc.Bounce(ctx, f.zjj, meta, c.ID, c.Version, "还是不归我们管的事情"); code(err) != apperr.Conflict {
			t.Errorf("bounce after signing: %v", err)
		}
		// Joint handling: 城管局 helps and records progress, no more.
		if _, err := f.svc.InviteHelper(ctx, f.zjj, meta, c.ID, f.depts["cgj"].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RecordProgress(ctx, f.cgj, meta, c.ID, "已协调供电公司到场", true); err != nil {
			t.Errorf("helper progress: %v", err)
		}
		if _, err := f.svc.Get(ctx, f.cgj, c.ID); err != nil {
			t.Errorf("helper view: %v", err)
		}
		if _, err := f.svc.RecordContact(ctx, f.cgj, meta, c.ID, "电话联系"); code(err) != apperr.Forbidden {
			t.Errorf("helper contact: %v", err)
		}
		// A reply needs a contact first.
		c, _ = getC(t, f, f.zjj, c.ID)
		if _, err := f.svc.Reply(ctx, f.zjj, meta, c.ID, c.Version, "已更换路灯灯泡，恢复照明。"); code(err) != apperr.Invalid {
			t.Errorf("reply without contact: %v", err)
		}
		if _, err := f.svc.RecordContact(ctx, f.zjj, meta, c.ID, "电话联系诉求人，约定今天下午现场查看"); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Reply(ctx, f.zjj, meta, c.ID, c.Version, "已更换路灯灯泡，恢复照明。"); err != nil || c.Status != complaint.Replied {
			t.Fatalf("reply: %v", err)
		}
		// The person: not resolved → back to the unit, a new feedback limit.
		if _, err := f.svc.Confirm(ctx, f.other, meta, c.ID, c.Version, complaint.Confirmation{Resolved: true}); code(err) != apperr.NotFound {
			t.Errorf("someone else confirms: %v", err)
		}
		f.clk.Advance(2 * time.Hour)
		if c, err = f.svc.Confirm(ctx, f.citizen, meta, c.ID, c.Version, complaint.Confirmation{Resolved: false, Comment: "还有一个路灯没修"}); err != nil || c.Status != complaint.Handling || c.Reopens != 1 {
			t.Fatalf("not resolved: %+v %v", c, err)
		}
		// A new round: another contact before the reply.
		if _, err := f.svc.Reply(ctx, f.zjj, meta, c.ID, c.Version, "另一个路灯也已修好，请查看。"); code(err) != apperr.Invalid {
			t.Errorf("second reply without a new contact: %v", err)
		}
		f.svc.RecordContact(ctx, f.zjj, meta, c.ID, "再次电话联系")
		if c, err = f.svc.Reply(ctx, f.zjj, meta, c.ID, c.Version, "另一个路灯也已修好，请查看。"); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Confirm(ctx, f.citizen, meta, c.ID, c.Version, complaint.Confirmation{Resolved: true, Satisfied: true}); err != nil || c.Status != complaint.Closed {
			t.Fatalf("resolved: %v", err)
		}
		if len(f.closed) != 1 || f.closed[0] != c.Number {
			t.Errorf("OnClosed saw %v", f.closed)
		}
		// Reopen within 7 days, not after.
		f.clk.Advance(6 * 24 * time.Hour)
		if !f.svc.CanReopen(c) {
			t.Error("CanReopen within 7 days")
		}
		if c, err = f.svc.Reopen(ctx, f.citizen, meta, c.ID, c.Version, "路灯又不亮了，请再来看看"); err != nil || c.Status != complaint.Handling || c.Reopens != 2 {
			t.Fatalf("reopen: %v", err)
		}
		f.svc.RecordContact(ctx, f.zjj, meta, c.ID, "第三次联系")
		c, _ = f.svc.Reply(ctx, f.zjj, meta, c.ID, c.Version, "线路老化已整体更换。")
		c, _ = f.svc.Confirm(ctx, f.citizen, meta, c.ID, c.Version, complaint.Confirmation{Resolved: true, Satisfied: true})
		f.clk.Advance(8 * 24 * time.Hour)
		if _, err := f.svc.Reopen(ctx, f.citizen, meta, c.ID, c.Version, "路灯又不亮了，请再来看看"); code(err) != apperr.Conflict {
			t.Errorf("reopen after 8 days: %v", err)
		}
		// The person sees the public log only; staff see the bounce.
		mine, _ := f.svc.Get(ctx, f.citizen, c.ID)
		staffView, _ := f.svc.Get(ctx, f.supervisor, c.ID)
		for _, e := range mine.Events {
			if e.Action == complaint.Bounce || !e.Public {
				t.Errorf("person sees %s", e.Action)
			}
		}
		if len(staffView.Events) <= len(mine.Events) {
			t.Errorf("staff see %d entries, person %d", len(staffView.Events), len(mine.Events))
		}
	})
}

func getC(t *testing.T, f *fixture, who policy.Subject, id int64) (complaint.Complaint, error) {
	t.Helper()
	d, err := f.svc.Get(context.Background(), who, id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Complaint, nil
}

func TestSupervision(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		c := f.file(t, f.citizen, "general", nanhuan)
		if _, err := f.svc.Urge(ctx, f.cgj, meta, c.ID, "请尽快"); err == nil {
			t.Error("a unit urged")
		}
		if _, err := f.svc.Urge(ctx, f.supervisor, meta, c.ID, "请今天内签收"); err != nil {
			t.Fatal(err)
		}
		if f.messages(t, f.cgjHead) != 2 {
			t.Errorf("head messages %d, want 2 (new, urge)", f.messages(t, f.cgjHead))
		}
		c, err := f.svc.Escalate(ctx, f.supervisor, meta, c.ID, "群众反映强烈")
		if err != nil || !c.Escalated || c.Urges != 1 {
			t.Fatalf("escalate: %+v %v", c, err)
		}
		if _, err := f.svc.Escalate(ctx, f.supervisor, meta, c.ID, "再次提级"); code(err) != apperr.Conflict {
			t.Errorf("twice: %v", err)
		}
	})
}

func TestCategoriesAndRoutes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		bad := complaint.Category{Code: "x", Name: "测试", Dispatch: complaint.Limit{Value: 0, Unit: complaint.Hours}, Feedback: complaint.Limit{Value: 1, Unit: complaint.Hours}}
		if _, err := f.svc.SaveCategory(ctx, f.admin, meta, bad); code(err) != apperr.Invalid {
			t.Errorf("zero limit: %v", err)
		}
		good := complaint.Category{Code: "heating", Name: "供暖", Dispatch: complaint.Limit{Value: 2, Unit: complaint.WorkingHours}, Feedback: complaint.Limit{Value: 3, Unit: complaint.WorkingDays}, Active: true}
		if _, err := f.svc.SaveCategory(ctx, f.dispatcher, meta, good); code(err) != apperr.Forbidden {
			t.Errorf("dispatcher edits: %v", err)
		}
		saved, err := f.svc.SaveCategory(ctx, f.admin, meta, good)
		if err != nil {
			t.Fatal(err)
		}
		good.Name = "紧急类"
		if _, err := f.svc.SaveCategory(ctx, f.admin, meta, good); code(err) != apperr.Conflict {
			t.Errorf("duplicate name: %v", err)
		}
		if err := f.svc.SaveRoute(ctx, f.admin, meta, saved.ID, "410411999999", f.depts["zjj"].ID); code(err) != apperr.Invalid {
			t.Errorf("unknown region: %v", err)
		}
		routes, _ := f.svc.Routes(ctx)
		n := len(routes)
		if err := f.svc.SaveRoute(ctx, f.admin, meta, saved.ID, district, f.depts["zjj"].ID); err != nil {
			t.Fatal(err)
		}
		// Setting it again replaces it.
		if err := f.svc.SaveRoute(ctx, f.admin, meta, saved.ID, district, f.depts["cgj"].ID); err != nil {
			t.Fatal(err)
		}
		routes, _ = f.svc.Routes(ctx)
		if len(routes) != n+1 {
			t.Fatalf("routes %d, want %d", len(routes), n+1)
		}
		var last complaint.Route
		for _, r := range routes {
			if r.CategoryID == saved.ID {
				last = r
			}
		}
		if last.DepartmentID != f.depts["cgj"].ID {
			t.Errorf("route replaced: %+v", last)
		}
		if err := f.svc.RemoveRoute(ctx, f.admin, meta, last.ID); err != nil {
			t.Fatal(err)
		}
		var entries int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE object LIKE 'complaint_%'`).Scan(&entries)
		if entries < 4+4+3+1 {
			t.Errorf("audit entries %d", entries)
		}
	})
}

// A complaint taken by phone has no account to confirm it: the dispatcher
// records the answer the person gave on the telephone (回访).
func TestCallbackRecordsThePersonsAnswer(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		phone := f.file(t, f.window, "general", nanhuan)
		web := f.file(t, f.citizen, "general", nanhuan)
		for _, c := range []*complaint.Complaint{&phone, &web} {
			*c, _ = f.svc.Sign(ctx, f.cgj, meta, c.ID, c.Version)
			f.svc.RecordContact(ctx, f.cgj, meta, c.ID, "电话联系")
			var err error
			if *c, err = f.svc.Reply(ctx, f.cgj, meta, c.ID, c.Version, "已处理完毕，请查看。"); err != nil {
				t.Fatal(err)
			}
		}
		yes := complaint.Confirmation{Resolved: true, Satisfied: true}
		if _, err := f.svc.ConfirmFor(ctx, f.cgj, meta, phone.ID, phone.Version, yes); err == nil {
			t.Error("the unit recorded its own call-back")
		}
		if _, err := f.svc.ConfirmFor(ctx, f.dispatcher, meta, web.ID, web.Version, yes); code(err) != apperr.Conflict {
			t.Errorf("call-back for a person with an account: %v", err)
		}
		c, err := f.svc.ConfirmFor(ctx, f.dispatcher, meta, phone.ID, phone.Version, yes)
		if err != nil || c.Status != complaint.Closed || c.Resolved == nil || !*c.Resolved {
			t.Fatalf("call-back: %+v %v", c, err)
		}
	})
}

// A person without an account confirms with an SMS code to the number
// they gave: a wrong number or code changes nothing; a signed-in person's
// complaint is confirmed only by them, signed in.
func TestConfirmWithCode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		phone := f.file(t, f.window, "general", nanhuan) // mobile 13912345678
		web := f.file(t, f.citizen, "general", nanhuan)
		yes := complaint.Confirmation{Resolved: true, Satisfied: true}
		if _, err := f.svc.ConfirmWithCode(ctx, meta, phone.Number, "13912345678", "123456", yes); code(err) != apperr.Conflict {
			t.Errorf("before the reply: %v", err)
		}
		for _, c := range []*complaint.Complaint{&phone, &web} {
			*c, _ = f.svc.Sign(ctx, f.cgj, meta, c.ID, c.Version)
			f.svc.RecordContact(ctx, f.cgj, meta, c.ID, "电话联系")
			*c, _ = f.svc.Reply(ctx, f.cgj, meta, c.ID, c.Version, "已处理完毕，请查看。")
		}
		f.verifiedCodes["13912345678"] = "123456"
		if _, err := f.svc.ConfirmWithCode(ctx, meta, phone.Number, "13800000000", "123456", yes); code(err) != apperr.Invalid {
			t.Errorf("another number: %v", err)
		}
		if _, err := f.svc.ConfirmWithCode(ctx, meta, phone.Number, "13912345678", "000000", yes); code(err) != apperr.Invalid {
			t.Errorf("a wrong code: %v", err)
		}
		if _, err := f.svc.ConfirmWithCode(ctx, meta, web.Number, "13912345678", "123456", yes); code(err) != apperr.Conflict {
			t.Errorf("a signed-in person's complaint: %v", err)
		}
		if d, _ := f.svc.Get(ctx, f.cgj, phone.ID); d.Status != complaint.Replied {
			t.Fatalf("refusals changed it: %s", d.Status)
		}
		c, err := f.svc.ConfirmWithCode(ctx, meta, phone.Number, "13912345678", "123456", yes)
		if err != nil || c.Status != complaint.Closed || len(f.closed) != 1 {
			t.Fatalf("confirmed: %+v %v", c, err)
		}
	})
}
