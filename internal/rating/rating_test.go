package rating_test

import (
	"context"
	"fmt"
	"strings"
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
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

type fixture struct {
	db                       *store.DB
	cases                    *casework.Service
	ratings                  *rating.Service
	clk                      *clock.Manual
	itemID                   int64
	citizen, other           policy.Subject
	window, reviewer, head   policy.Subject
	supervisor, foreignHead  policy.Subject
	foreignWindow, streetSup policy.Subject
}

var pdf = filestore.Object{SHA256: strings.Repeat("ab", 32), Size: 1234, ContentType: filestore.TypePDF}

func person(t testing.TB, db *store.DB, name string) policy.Subject {
	t.Helper()
	var id int64
	now := time.Now()
	if err := db.Tx(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `INSERT INTO accounts (kind, name, mobile_masked, created_at, updated_at) VALUES ('person', ?, '138****5678', ?, ?) RETURNING id`,
			name, now, now).Scan(&id)
	}); err != nil {
		t.Fatal(err)
	}
	return policy.Subject{AccountID: id, Kind: policy.Person, Name: name}
}

// newFixture: the demo district, one item of the market regulator's, a
// citizen, the regulator's staff and supervisors; Wednesday 25 November
// 2026, 9:00.
func newFixture(t testing.TB, db *store.DB, o rating.Options) fixture {
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
	if err := db.Tx(ctx, func(tx *store.Tx) error { return items.Load(ctx, tx, &it, "测试") }); err != nil {
		t.Fatal(err)
	}
	scjg, _ := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
	mzj, _ := regions.DepartmentBySlug(ctx, db.Read(), "mzj")
	streets, _ := regions.Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
	n := 0
	staff := func(d region.Department, roles ...policy.Role) policy.Subject {
		var id int64
		n++
		now := time.Now()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at)
				VALUES ('staff', ?, ?, ?, ?, ?) RETURNING id`, fmt.Sprintf("工作人员%d", n), fmt.Sprintf("s%d", n), d.ID, now, now).Scan(&id); err != nil {
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
		return policy.Subject{AccountID: id, Name: fmt.Sprintf("工作人员%d", n), Kind: policy.Staff, DepartmentID: d.ID, DepartmentKind: string(d.Kind),
			RegionCode: d.RegionCode, Roles: roles}
	}
	cal := calendar.New(nil)
	if o.Keys == nil {
		o.Keys = testKeys(t)
	}
	f := fixture{db: db, cases: casework.New(db, items, clk, cal), ratings: rating.New(db, items, clk, cal, o), clk: clk, itemID: it.ID,
		citizen: person(t, db, "张三"), other: person(t, db, "李四"),
		window: staff(scjg, policy.Window), reviewer: staff(scjg, policy.Reviewer), head: staff(scjg, policy.Head),
		supervisor: staff(scjg, policy.Supervisor), foreignHead: staff(mzj, policy.Head), foreignWindow: staff(mzj, policy.Window),
		streetSup: staff(streets[0], policy.Supervisor)}
	f.cases.OnFinished(f.ratings.InviteCase)
	return f
}

func testKeys(t testing.TB) *pii.Keys {
	t.Helper()
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.ParseKeys(enc, idx)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// completed takes a case of the citizen's from application to 办结.
func completed(t testing.TB, f fixture) casework.Case {
	t.Helper()
	ctx := context.Background()
	c, err := f.cases.Apply(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"},
		[]casework.Attachment{{Position: 0, Object: pdf, Filename: "身份证.pdf"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func(casework.Case) (casework.Case, error){
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Act(ctx, f.window, c.ID, c.Version, casework.Accept, "")
		},
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Act(ctx, f.reviewer, c.ID, c.Version, casework.Review, "材料齐全，建议准予")
		},
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Decide(ctx, f.head, c.ID, c.Version, true, "准予登记", "")
		},
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Complete(ctx, f.window, c.ID, c.Version, pdf, "营业执照.pdf")
		},
	} {
		if c, err = step(c); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func good() rating.Input {
	return rating.Input{Level: 5, Scores: map[string]rating.Level{"efficiency": 5, "guide": 4, "convenience": 5, "usability": 5}, Comment: "办得很快"}
}

func bad() rating.Input {
	return rating.Input{Level: 1, Scores: map[string]rating.Level{"efficiency": 1, "guide": 2, "convenience": 1, "usability": 2},
		Comment: "材料要求前后不一，我叫张三，电话 13812345678"}
}

var meta = audit.Meta{IP: "192.0.2.1"}

// A finished case invites its applicant, on their case page and in 我的办件,
// with a message; the rating is theirs alone, once; a 差评 opens a
// follow-up due in five working days and tells the unit.
func TestFinishedCaseInvitesItsApplicant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, rating.Options{})
		c := completed(t, f)
		inv, ok, err := f.ratings.ForCase(ctx, f.citizen, c.ID)
		if err != nil || !ok || inv.RatingID != 0 || inv.Subject.Title != "个体工商户设立登记" || inv.Subject.Scene != rating.Online {
			t.Fatalf("invitation on the case page: %+v %v %v", inv, ok, err)
		}
		if pending, err := f.ratings.Pending(ctx, f.citizen); err != nil || len(pending) != 1 || pending[0].ID != inv.ID {
			t.Fatalf("我的办件 prompts: %+v %v", pending, err)
		}
		if _, ok, _ := f.ratings.ForCase(ctx, f.other, c.ID); ok {
			t.Fatal("another person is invited to rate the case")
		}
		msgs, err := f.cases.Messages(ctx, f.citizen)
		if err != nil || len(msgs) < 2 || msgs[0].Title != "请评价本次服务" || msgs[0].CaseID != c.ID {
			t.Fatalf("messages: %+v %v", msgs, err)
		}
		// Someone else's rating, and bad input, change nothing.
		if _, err := f.ratings.Rate(ctx, f.other, meta, inv.ID, good()); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another person rates: %v", err)
		}
		for _, in := range []rating.Input{
			{Level: 6, Scores: good().Scores},
			{Level: 4, Scores: map[string]rating.Level{"efficiency": 5}},
			{Level: 4, Scores: map[string]rating.Level{"efficiency": 5, "guide": 4, "convenience": 5, "usability": 5, "attitude": 3}},
			{Level: 2, Scores: good().Scores},
			{Level: 4, Scores: good().Scores, Comment: strings.Repeat("长", 501)},
		} {
			if _, err := f.ratings.Rate(ctx, f.citizen, meta, inv.ID, in); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "请") {
				t.Errorf("%+v: %v", in, err)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM ratings`); n != 0 {
			t.Fatalf("%d ratings after refusals", n)
		}
		r, err := f.ratings.Rate(ctx, f.citizen, meta, inv.ID, bad())
		if err != nil || r.FollowUpID == 0 {
			t.Fatalf("差评: %+v %v", r, err)
		}
		if _, err := f.ratings.Rate(ctx, f.citizen, meta, inv.ID, good()); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("second rating: %v", err)
		}
		if pending, _ := f.ratings.Pending(ctx, f.citizen); len(pending) != 0 {
			t.Fatalf("still prompted after rating: %+v", pending)
		}
		// The comment is sealed at rest.
		var sealed string
		db.Read().QueryRow(ctx, `SELECT comment_sealed FROM ratings WHERE id = ?`, r.ID).Scan(&sealed)
		if !pii.IsSealed(sealed) || strings.Contains(sealed, "材料") {
			t.Fatalf("comment stored as %q", sealed)
		}
		fu, err := f.ratings.FollowUp(ctx, f.reviewer, r.FollowUpID)
		if err != nil || fu.State != rating.AwaitCallback || fu.DueOn.String() != "2026-12-02" || fu.Rating.Comment != bad().Comment ||
			fu.Rating.RaterMasked != "张*" {
			t.Fatalf("follow-up: %+v %v", fu, err)
		}
		if _, err := f.ratings.FollowUp(ctx, f.foreignHead, r.FollowUpID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another department sees the follow-up: %v", err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM messages WHERE title = '收到差评，请回访整改' AND account_id IN (?, ?)`, f.reviewer.AccountID, f.head.AccountID); n != 2 {
			t.Fatalf("%d 差评 messages to the unit", n)
		}
	})
}

func count(t testing.TB, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// One reminder, by message and SMS, when no rating came in three days; none
// for a rated invitation; never a second.
func TestReminderAfterThreeDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		workers := river.NewWorkers()
		river.AddWorker(workers, &casework.SMSWorker{Send: func(context.Context, int64, string) error { return nil }})
		q, err := jobs.New(db, workers, jobs.Options{Workers: 1, PollInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, db, rating.Options{Queue: q, PublicURL: "https://zwfw.example.gov.cn"}) // the queue is not started: jobs stay to be counted
		unrated, rated := completed(t, f), completed(t, f)
		inv, _, _ := f.ratings.ForCase(ctx, f.citizen, rated.ID)
		if _, err := f.ratings.Rate(ctx, f.citizen, meta, inv.ID, good()); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(71 * time.Hour)
		if n, err := f.ratings.CheckReminders(ctx); err != nil || n != 0 {
			t.Fatalf("after 71 hours: %d reminders, %v", n, err)
		}
		f.clk.Advance(2 * time.Hour)
		if n, err := f.ratings.CheckReminders(ctx); err != nil || n != 1 {
			t.Fatalf("after 73 hours: %d reminders, %v", n, err)
		}
		if n, err := f.ratings.CheckReminders(ctx); err != nil || n != 0 {
			t.Fatalf("again: %d reminders, %v", n, err)
		}
		reminded, _, _ := f.ratings.ForCase(ctx, f.citizen, unrated.ID)
		var text string
		if err := db.Read().QueryRow(ctx, `SELECT args FROM river_job WHERE kind = 'case_sms' ORDER BY id DESC LIMIT 1`).Scan(&text); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, fmt.Sprintf("https://zwfw.example.gov.cn/me/ratings/%d?via=message", reminded.ID)) {
			t.Fatalf("reminder SMS: %s", text)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM messages WHERE title = '请评价本次服务（提醒）'`); n != 1 {
			t.Fatalf("%d reminder messages", n)
		}
	})
}

// A 差评's follow-up: called back by a named member of the unit, rectified
// (late, here), shown publicly without personal data; warnings before and
// after the limit, once each; the rates and the call-back rate.
func TestBadRatingFollowUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, rating.Options{RectifyDays: 3})
		c := completed(t, f)
		inv, _, _ := f.ratings.ForCase(ctx, f.citizen, c.ID)
		r, err := f.ratings.Rate(ctx, f.citizen, meta, inv.ID, bad())
		if err != nil {
			t.Fatal(err)
		}
		id := r.FollowUpID
		// Wednesday 25th + 3 working days: Monday 30 November.
		if fu, _ := f.ratings.FollowUp(ctx, f.head, id); fu.DueOn.String() != "2026-11-30" {
			t.Fatalf("due %s", fu.DueOn)
		}
		// Out of order, by the wrong people, or without a note: nothing changes.
		if err := f.ratings.Rectify(ctx, f.head, meta, id, "已整改"); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("rectify before the call-back: %v", err)
		}
		if err := f.ratings.CallBack(ctx, f.window, meta, id, true, "已回访"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a window clerk calls back: %v", err)
		}
		if err := f.ratings.CallBack(ctx, f.foreignHead, meta, id, true, "已回访"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another unit calls back: %v", err)
		}
		if err := f.ratings.CallBack(ctx, f.reviewer, meta, id, true, "  "); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a call-back without a note: %v", err)
		}
		rates, err := f.ratings.FollowUpRatesOf(ctx, f.supervisor, calendar.Date{}, calendar.Date{})
		if err != nil || rates.Bad != 1 || rates.CalledBack != 0 || rates.CallbackRate() != "0.0%" {
			t.Fatalf("rates before the call-back: %+v %v", rates, err)
		}
		// Friday 27th, one working day before the limit: the unit is warned, once.
		f.clk.Advance(2 * 24 * time.Hour)
		if n, err := f.ratings.CheckRectifications(ctx); err != nil || n != 2 {
			t.Fatalf("warnings on the 27th: %d %v", n, err)
		}
		if n, _ := f.ratings.CheckRectifications(ctx); n != 0 {
			t.Fatalf("warned twice: %d", n)
		}
		if err := f.ratings.CallBack(ctx, f.reviewer, meta, id, true, "群众反映窗口告知材料不一致，已致歉并说明。"); err != nil {
			t.Fatal(err)
		}
		// Tuesday 1 December: past the limit, the supervisors hear.
		f.clk.Advance(4 * 24 * time.Hour)
		if n, err := f.ratings.CheckRectifications(ctx); err != nil || n != 2 {
			t.Fatalf("warnings after the limit: %d %v", n, err) // the district's supervisor and the street's: both in the district
		}
		if err := f.ratings.Rectify(ctx, f.head, meta, id, "联系人 13812345678"); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a rectification with a mobile number: %v", err)
		}
		if err := f.ratings.Rectify(ctx, f.head, meta, id, "统一窗口和网上办事指南的材料清单，组织窗口人员培训。"); err != nil {
			t.Fatal(err)
		}
		fu, err := f.ratings.FollowUp(ctx, f.supervisor, id)
		if err != nil || fu.State != rating.Rectified || fu.OnTime() || fu.CalledByName != f.reviewer.Name || !fu.CallReached {
			t.Fatalf("after rectifying: %+v %v", fu, err)
		}
		rates, _ = f.ratings.FollowUpRatesOf(ctx, f.supervisor, calendar.Date{}, calendar.Date{})
		if rates.CallbackRate() != "100.0%" || rates.Due != 1 || rates.OnTime != 0 || rates.OnTimeRate() != "0.0%" {
			t.Fatalf("rates after: %+v", rates)
		}
		pub, _, err := f.ratings.Rectifications(ctx, 0, 20)
		if err != nil || len(pub) != 1 || pub[0].Title != "个体工商户设立登记" || pub[0].OnTime {
			t.Fatalf("public rectifications: %+v %v", pub, err)
		}
		if s := fmt.Sprintf("%+v", pub[0]); strings.Contains(s, "张") || strings.Contains(s, c.Number) || strings.Contains(s, "1381234") {
			t.Fatalf("public row holds personal data: %s", s)
		}
		// Steps are audited.
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action IN ('rating', 'rating_callback', 'rating_rectify')`); n != 3 {
			t.Fatalf("%d audit entries", n)
		}
	})
}

// An appeal is filed by the unit's head and decided by a supervisor of the
// region with reasons: upheld, the rating leaves every rate; refused, the
// follow-up goes on where it was.
func TestAppealDecidedBySupervisor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, rating.Options{})
		rate := func(in rating.Input) rating.Rating {
			c := completed(t, f)
			inv, _, _ := f.ratings.ForCase(ctx, f.citizen, c.ID)
			r, err := f.ratings.Rate(ctx, f.citizen, meta, inv.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		malicious, mistaken := rate(bad()), rate(bad())
		rate(good())
		byDept, err := f.ratings.Rates(ctx, f.supervisor, rating.RateFilter{})
		if err != nil || len(byDept) != 1 || byDept[0].Total != 3 || byDept[0].Bad() != 2 || byDept[0].GoodRate() != "33.3%" {
			t.Fatalf("rates: %+v %v", byDept, err)
		}
		if err := f.ratings.Appeal(ctx, f.reviewer, meta, malicious.FollowUpID, "评价人与办件无关"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a reviewer appeals: %v", err)
		}
		for _, id := range []int64{malicious.FollowUpID, mistaken.FollowUpID} {
			if err := f.ratings.Appeal(ctx, f.head, meta, id, "评价内容与本办件无关，系误评"); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.ratings.DecideAppeal(ctx, f.head, meta, malicious.FollowUpID, true, "同意"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("the head decides their own appeal: %v", err)
		}
		if err := f.ratings.DecideAppeal(ctx, f.supervisor, meta, malicious.FollowUpID, true, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a decision without reasons: %v", err)
		}
		if err := f.ratings.DecideAppeal(ctx, f.supervisor, meta, malicious.FollowUpID, true, "经核查，评价人反映的问题不属于本办件。"); err != nil {
			t.Fatal(err)
		}
		if err := f.ratings.DecideAppeal(ctx, f.supervisor, meta, mistaken.FollowUpID, false, "评价属实，应予整改。"); err != nil {
			t.Fatal(err)
		}
		if fu, _ := f.ratings.FollowUp(ctx, f.head, mistaken.FollowUpID); fu.State != rating.AwaitCallback || fu.DecisionReason == "" {
			t.Fatalf("refused appeal: %+v", fu)
		}
		if fu, _ := f.ratings.FollowUp(ctx, f.head, malicious.FollowUpID); fu.State != rating.Excluded || !fu.Rating.Excluded {
			t.Fatalf("upheld appeal: %+v", fu)
		}
		byDept, _ = f.ratings.Rates(ctx, f.supervisor, rating.RateFilter{})
		if byDept[0].Total != 2 || byDept[0].Bad() != 1 || byDept[0].GoodRate() != "50.0%" || byDept[0].SatisfiedRate() != "50.0%" {
			t.Fatalf("rates after the appeal: %+v", byDept)
		}
		// The period is in Beijing days: the ratings were made on the 25th.
		day := calendar.Date{Y: 2026, M: 11, D: 25}
		if on, err := f.ratings.Rates(ctx, f.supervisor, rating.RateFilter{From: day, To: day}); err != nil || len(on) != 1 || on[0].Total != 2 {
			t.Fatalf("rates on the 25th: %+v %v", on, err)
		}
		if after, err := f.ratings.Rates(ctx, f.supervisor, rating.RateFilter{From: day.AddDays(1)}); err != nil || len(after) != 0 {
			t.Fatalf("rates from the 26th: %+v %v", after, err)
		}
		byItem, err := f.ratings.Rates(ctx, f.head, rating.RateFilter{By: "item"})
		if err != nil || len(byItem) != 1 || byItem[0].Name != "个体工商户设立登记" || byItem[0].Total != 2 {
			t.Fatalf("rates by item: %+v %v", byItem, err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'rating_appeal_decide'`); n != 2 {
			t.Fatalf("%d decisions audited", n)
		}
		// Another unit's head sees nothing of these rates.
		if other, err := f.ratings.Rates(ctx, f.foreignHead, rating.RateFilter{}); err != nil || len(other) != 0 {
			t.Fatalf("another unit's rates: %+v %v", other, err)
		}
		if _, err := f.ratings.Rates(ctx, f.window, rating.RateFilter{}); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a window clerk reads the rates: %v", err)
		}
	})
}

// zwfw keys rotate seals the comments again under the new key; a second
// pass finds nothing to do.
func TestResealComments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		enc, idx, _ := pii.GenerateKeys()
		old, _ := pii.ParseKeys(enc, idx)
		f := newFixture(t, db, rating.Options{Keys: old})
		c := completed(t, f)
		inv, _, _ := f.ratings.ForCase(ctx, f.citizen, c.ID)
		r, err := f.ratings.Rate(ctx, f.citizen, meta, inv.ID, bad())
		if err != nil {
			t.Fatal(err)
		}
		newKey, _ := pii.GenerateEncryptionKey()
		both, err := pii.ParseKeys(newKey+","+enc, idx)
		if err != nil {
			t.Fatal(err)
		}
		cal := calendar.New(nil)
		rotated := rating.New(db, catalog.NewStore(db, region.NewStore(db), f.clk), f.clk, cal, rating.Options{Keys: both})
		if n, err := rotated.ResealComments(ctx, 1, "测试"); err != nil || n != 1 {
			t.Fatalf("reseal: %d %v", n, err)
		}
		if n, err := rotated.ResealComments(ctx, 1, "测试"); err != nil || n != 0 {
			t.Fatalf("second pass: %d %v", n, err)
		}
		current, _ := pii.ParseKeys(newKey, idx)
		fresh := rating.New(db, catalog.NewStore(db, region.NewStore(db), f.clk), f.clk, cal, rating.Options{Keys: current})
		if fu, err := fresh.FollowUp(ctx, f.head, r.FollowUpID); err != nil || fu.Rating.Comment != bad().Comment {
			t.Fatalf("the comment under the new key alone: %q %v", fu.Rating.Comment, err)
		}
	})
}

// The counter tablet offers its clerk's latest visit for 30 minutes, once;
// another window's tablet neither sees nor rates it; only a window clerk
// pairs a tablet, and pairing again ends the old link.
func TestTabletRatesTheClerksRecentVisit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, rating.Options{})
		if _, err := f.ratings.PairTablet(ctx, f.reviewer, meta); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a reviewer pairs a tablet: %v", err)
		}
		token, err := f.ratings.PairTablet(ctx, f.window, meta)
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.ratings.PairTablet(ctx, f.foreignWindow, meta)
		if err != nil {
			t.Fatal(err)
		}
		c := completed(t, f)
		if _, err := f.cases.RecordVisit(ctx, f.window, c.ID, c.Version, "领取营业执照"); err != nil {
			t.Fatal(err)
		}
		page, err := f.ratings.TabletPage(ctx, token)
		if err != nil || page.Visit.ID == 0 || page.Visit.Title != "个体工商户设立登记" || page.Visit.PersonID != f.citizen.AccountID || page.Visit.Scene != rating.Onsite {
			t.Fatalf("the tablet: %+v %v", page, err)
		}
		if p, _ := f.ratings.TabletPage(ctx, other); p.Visit.ID != 0 {
			t.Fatal("another window's tablet offers the visit")
		}
		onsite := rating.Input{Level: 4, Scores: map[string]rating.Level{"efficiency": 4, "skill": 5, "attitude": 4}}
		if _, err := f.ratings.RateVisit(ctx, meta, other, page.Visit.ID, onsite); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("another window's tablet rates the visit: %v", err)
		}
		if _, err := f.ratings.RateVisit(ctx, meta, token, page.Visit.ID, good()); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("online dimensions for a visit: %v", err)
		}
		f.clk.Advance(31 * time.Minute)
		if p, _ := f.ratings.TabletPage(ctx, token); p.Visit.ID != 0 {
			t.Fatal("the tablet offers a visit of 31 minutes ago")
		}
		if _, err := f.ratings.RateVisit(ctx, meta, token, page.Visit.ID, onsite); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a visit of 31 minutes ago rated: %v", err)
		}
		f.clk.Advance(-31 * time.Minute)
		r, err := f.ratings.RateVisit(ctx, meta, token, page.Visit.ID, onsite)
		if err != nil || r.Channel != rating.ByTablet || r.RaterID != f.citizen.AccountID {
			t.Fatalf("the tablet's rating: %+v %v", r, err)
		}
		if _, err := f.ratings.RateVisit(ctx, meta, token, page.Visit.ID, onsite); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("the visit rated twice: %v", err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'rating' AND actor LIKE '窗口评价器%'`); n != 1 {
			t.Fatalf("%d audit entries name the tablet", n)
		}
		if _, err := f.ratings.PairTablet(ctx, f.window, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ratings.TabletPage(ctx, token); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("the old link after pairing again: %v", err)
		}
	})
}
