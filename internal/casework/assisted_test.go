package casework_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// assistFixture is the cases' fixture with the identity service that
// opens the person's account and checks their consent codes, and workers
// of two community stations.
type assistFixture struct {
	fixture
	db                *store.DB
	ids               *identity.Service
	sms               *sms.Dev
	worker, neighbour policy.Subject // 帮办代办员 of 马庄社区 and of 开源社区
}

const (
	elderName   = "王秀兰"
	elderID     = "11010519491231002X"
	elderMobile = "13800001234"
)

func newAssistFixture(t *testing.T, db *store.DB) assistFixture {
	t.Helper()
	f := assistFixture{fixture: newFixture(t, db), db: db, sms: sms.NewDev(slog.New(slog.DiscardHandler), 50)}
	keys := testKeys(t)
	f.svc.UseKeys(keys)
	f.ids = identity.New(db, identity.Options{Keys: keys, SMS: f.sms, Clock: f.clk})
	f.svc.UseKnown(func(ctx context.Context, q store.Querier, account, enterprise int64) (casework.Known, error) {
		k, err := f.ids.Known(ctx, q, account, enterprise)
		return casework.Known(k), err
	})
	f.worker = staffAt(t, db, "bmfw-410411001001", "mazhuang.assist", policy.Assistant)
	f.neighbour = staffAt(t, db, "bmfw-410411001002", "kaiyuan.assist", policy.Assistant)
	return f
}

// staffAt opens a staff account in the department with slug.
func staffAt(t *testing.T, db *store.DB, slug, username string, roles ...policy.Role) policy.Subject {
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
			VALUES ('staff', ?, ?, ?, ?, ?) RETURNING id`, "社区干部"+username[:2], username, d.ID, now, now).Scan(&id); err != nil {
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
	return policy.Subject{AccountID: id, Name: "社区干部" + username[:2], Kind: policy.Staff, DepartmentID: d.ID,
		DepartmentKind: string(d.Kind), RegionCode: d.RegionCode, Roles: roles}
}

var codePattern = regexp.MustCompile(`验证码是(\d{6})`)

// sendCode has the worker text the elder a consent code and returns it.
func (f assistFixture) sendCode(t *testing.T, who policy.Subject, mobile string) string {
	t.Helper()
	if err := f.ids.SendAssistCode(context.Background(), who, identity.AssistPerson{Name: elderName, IDNumber: elderID, Mobile: mobile},
		f.item.Name, identity.Meta{}); err != nil {
		t.Fatal(err)
	}
	msg := f.sms.Recent()[0]
	m := codePattern.FindStringSubmatch(msg.Text)
	if msg.Mobile != mobile || m == nil {
		t.Fatalf("no code texted to %s: %+v", mobile, msg)
	}
	if !strings.Contains(msg.Text, who.Name) || !strings.Contains(msg.Text, f.item.Name) {
		t.Errorf("the code's message does not say who asks for what: %q", msg.Text)
	}
	return m[1]
}

// application is the elder's application by who with consent con.
func (f assistFixture) application(t *testing.T, who policy.Subject, con casework.Consent) casework.Assisted {
	t.Helper()
	p := identity.AssistPerson{Name: elderName, IDNumber: elderID, Mobile: elderMobile}
	var confirmedBy string
	if con.Method == casework.ConsentSMS {
		confirmedBy = con.Mobile
	}
	account, err := f.ids.AssistedApplicant(context.Background(), who, p, confirmedBy, identity.Meta{})
	if err != nil {
		account = func(context.Context, *store.Tx) (int64, error) { return 0, err }
	}
	return casework.Assisted{ItemID: f.itemID, Person: casework.Known{Name: p.Name, IDNumber: p.IDNumber, Mobile: p.Mobile},
		Account: account, Consent: con, Answers: map[string]string{"name": elderName},
		Files: []casework.Attachment{{Position: 0, Object: pdf, Filename: "身份证.pdf"}}}
}

func (f assistFixture) bySMS(code string) casework.Consent {
	return casework.Consent{Method: casework.ConsentSMS, Mobile: elderMobile, Confirm: func(ctx context.Context) error {
		return f.ids.VerifyCode(ctx, elderMobile, identity.PurposeAssist, code)
	}}
}

// written counts what an application writes: cases, consents, the
// person's account, and the audit entries of assisted applications.
func (f assistFixture) written(t *testing.T) string {
	t.Helper()
	var cases, consents, people, audits int
	if err := f.db.Read().QueryRow(context.Background(), `SELECT (SELECT COUNT(*) FROM cases), (SELECT COUNT(*) FROM case_consents),
		(SELECT COUNT(*) FROM accounts WHERE name = ?), (SELECT COUNT(*) FROM audit_log WHERE action = 'assisted_apply')`, elderName).
		Scan(&cases, &consents, &people, &audits); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("cases %d, consents %d, accounts %d, audit entries %d", cases, consents, people, audits)
}

const nothingWritten = "cases 0, consents 0, accounts 0, audit entries 0"

func TestAssistedApplicationWithSMSConsent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAssistFixture(t, db)
		ctx := context.Background()
		code := f.sendCode(t, f.worker, elderMobile)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		// A wrong code is no consent: refused, nothing written.
		if _, err := f.svc.ApplyAssisted(ctx, f.worker, f.application(t, f.worker, f.bySMS(wrong))); !apperr.Is(err, apperr.Invalid) ||
			!strings.Contains(apperr.MessageOf(err), "验证码不正确") {
			t.Fatalf("a wrong code: %v", err)
		}
		if got := f.written(t); got != nothingWritten {
			t.Fatalf("a wrong code wrote %s", got)
		}
		c, err := f.svc.ApplyAssisted(ctx, f.worker, f.application(t, f.worker, f.bySMS(code)))
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != casework.Submitted || c.Channel != "online" || c.AssistedBy != f.worker.AccountID || c.ApplicantID == 0 {
			t.Fatalf("the assisted case: %+v", c)
		}
		if got := f.written(t); got != "cases 1, consents 1, accounts 1, audit entries 1" {
			t.Errorf("the application wrote %s", got)
		}
		// The code is used up: it confirms one application.
		if _, err := f.svc.ApplyAssisted(ctx, f.worker, f.application(t, f.worker, f.bySMS(code))); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("the code confirmed a second application: %v", err)
		}
		elder := policy.Subject{AccountID: c.ApplicantID, Kind: policy.Person, Name: elderName}
		// The person owns the case: it is among their cases, with who
		// applied for them and how they consented.
		got, events, err := f.svc.Get(ctx, elder, c.ID)
		if err != nil {
			t.Fatalf("the person cannot see their assisted case: %v", err)
		}
		as, ok, err := f.svc.AssistanceOf(ctx, elder, got)
		if err != nil || !ok {
			t.Fatalf("assistance: %v %v", ok, err)
		}
		want := "帮办代办：马庄社区便民服务站 社区干部ma（mazhuang.assist） 代 王秀兰 申请，授权方式：短信确认 138****1234"
		if as.Text() != want {
			t.Errorf("the case says %q, want %q", as.Text(), want)
		}
		if len(events) != 3 || events[0].ActorRole != "帮办代办员" || !strings.Contains(events[0].Reason, "由 马庄社区便民服务站 社区干部ma 帮办代办") ||
			events[2].Action != casework.Submit {
			t.Errorf("the record: %+v", events)
		}
		mine, err := f.svc.Mine(ctx, elder, "", 10)
		if err != nil || len(mine.Rows) != 1 || mine.Rows[0].ID != c.ID {
			t.Errorf("the person's cases: %+v %v", mine.Rows, err)
		}
		// Nobody else's: another person, another community's worker.
		if _, _, err := f.svc.Get(ctx, f.other, c.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another person sees the case: %v", err)
		}
		if _, _, err := f.svc.Get(ctx, f.neighbour, c.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another worker sees the case: %v", err)
		}
		// The worker follows it up, in their list; the other's is empty.
		if _, _, err := f.svc.Get(ctx, f.worker, c.ID); err != nil {
			t.Errorf("the worker cannot follow the case up: %v", err)
		}
		if list, err := f.svc.AssistedCases(ctx, f.worker, "", 10); err != nil || len(list.Rows) != 1 || list.Rows[0].ID != c.ID ||
			list.Rows[0].Applicant != elderName {
			t.Errorf("the worker's list: %+v %v", list.Rows, err)
		}
		if list, err := f.svc.AssistedCases(ctx, f.neighbour, "", 10); err != nil || len(list.Rows) != 0 {
			t.Errorf("another worker's list: %+v %v", list.Rows, err)
		}
		if _, err := f.svc.AssistedCases(ctx, f.window, "", 10); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a clerk's list of assisted cases: %v", err)
		}
		// The worker takes no department step, and does not change what
		// was submitted.
		if _, err := f.svc.Act(ctx, f.worker, c.ID, c.Version, casework.Accept, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("the worker accepted the case: %v", err)
		}
		if _, err := f.svc.AskCorrection(ctx, f.worker, c.ID, c.Version, "不清晰", []int{0}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("the worker asked for corrections: %v", err)
		}
		if _, err := f.svc.Attach(ctx, f.worker, c.ID, c.Version, 0, pdf, "新.pdf", 0); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("the worker changed a material: %v", err)
		}
		// The department handles it as any online case, and the person
		// acts on it as on their own: hands in the corrections.
		c, err = f.svc.AskCorrection(ctx, f.window, c.ID, c.Version, "身份证明不清晰", []int{0})
		if err != nil {
			t.Fatal(err)
		}
		other := pdf
		other.SHA256 = strings.Repeat("cd", 32)
		if c, err = f.svc.Attach(ctx, elder, c.ID, c.Version, 0, other, "身份证（清晰）.pdf", 0); err != nil {
			t.Fatal(err)
		}
		if _, err = f.svc.Act(ctx, elder, c.ID, c.Version, casework.Resubmit, ""); err != nil {
			t.Errorf("the person cannot hand in corrections: %v", err)
		}
	})
}

func TestAssistedConsentCodeExpiresAndIsThrottled(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAssistFixture(t, db)
		ctx := context.Background()
		code := f.sendCode(t, f.worker, elderMobile)
		// One consent code a minute to a number; the person may still ask
		// for a sign-in code at once, to see the case.
		if err := f.ids.SendAssistCode(ctx, f.worker, identity.AssistPerson{Name: elderName, IDNumber: elderID, Mobile: elderMobile},
			f.item.Name, identity.Meta{}); !apperr.Is(err, apperr.TooMany) {
			t.Errorf("a second consent code within the minute: %v", err)
		}
		if err := f.ids.SendCode(ctx, elderMobile, identity.PurposeSignIn, identity.Meta{}); err != nil {
			t.Errorf("a sign-in code right after the consent code: %v", err)
		}
		f.clk.Advance(6 * time.Minute)
		if _, err := f.svc.ApplyAssisted(ctx, f.worker, f.application(t, f.worker, f.bySMS(code))); !apperr.Is(err, apperr.Invalid) ||
			!strings.Contains(apperr.MessageOf(err), "过期") {
			t.Fatalf("an expired code: %v", err)
		}
		if got := f.written(t); got != nothingWritten {
			t.Fatalf("an expired code wrote %s", got)
		}
		// A worker sends at most 20 codes an hour, whatever the numbers;
		// each try counts (two so far, one of them refused).
		for i := 2; i < 20; i++ {
			if err := f.ids.SendAssistCode(ctx, f.worker, identity.AssistPerson{Name: elderName, IDNumber: elderID, Mobile: fmt.Sprintf("139%08d", i)},
				f.item.Name, identity.Meta{}); err != nil {
				t.Fatalf("code %d: %v", i+1, err)
			}
		}
		err := f.ids.SendAssistCode(ctx, f.worker, identity.AssistPerson{Name: elderName, IDNumber: elderID, Mobile: "13900000099"}, f.item.Name, identity.Meta{})
		if !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("the 21st code in an hour: %v", err)
		}
		// Another worker is not held back by it.
		if err := f.ids.SendAssistCode(ctx, f.neighbour, identity.AssistPerson{Name: elderName, IDNumber: elderID, Mobile: "13700000001"},
			f.item.Name, identity.Meta{}); err != nil {
			t.Errorf("another worker's code: %v", err)
		}
	})
}

func TestAssistedConsentByFormAndWithout(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAssistFixture(t, db)
		ctx := context.Background()
		// No consent, or a consent without its proof: refused, nothing written.
		for name, con := range map[string]casework.Consent{
			"none":              {},
			"a form, no file":   {Method: casework.ConsentForm},
			"an SMS, no code":   {Method: casework.ConsentSMS, Mobile: elderMobile},
			"an unknown method": {Method: "oral"},
		} {
			_, err := f.svc.ApplyAssisted(ctx, f.worker, f.application(t, f.worker, con))
			if !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%s: %v", name, err)
			}
			if name == "none" && !strings.Contains(apperr.MessageOf(err), "须先取得申请人本人的授权") {
				t.Errorf("no consent is refused with %q", apperr.MessageOf(err))
			}
		}
		if got := f.written(t); got != nothingWritten {
			t.Fatalf("applications without consent wrote %s", got)
		}
		// Staff who are not 帮办代办员 of a street or community may not
		// apply for a person, nor text them a code.
		clerk := staffAt(t, db, "bmfw-410411001001", "mazhuang.window", policy.Window)
		bureau := staffAt(t, db, "mzj", "mzj.assist", policy.Assistant)
		form := casework.Consent{Method: casework.ConsentForm, File: pdf, Filename: "授权委托书.pdf"}
		for _, who := range []policy.Subject{clerk, bureau, f.other} {
			if _, err := f.svc.ApplyAssisted(ctx, who, f.application(t, who, form)); !apperr.Is(err, apperr.Forbidden) {
				t.Errorf("%s applied for a person: %v", who.Name, err)
			}
			if err := f.ids.SendAssistCode(ctx, who, identity.AssistPerson{Name: elderName, IDNumber: elderID, Mobile: elderMobile},
				f.item.Name, identity.Meta{}); !apperr.Is(err, apperr.Forbidden) {
				t.Errorf("%s texted a consent code: %v", who.Name, err)
			}
		}
		if got := f.written(t); got != nothingWritten {
			t.Fatalf("refused workers wrote %s", got)
		}
		// Administrators grant the role to street and community staff only.
		admin := policy.Subject{Kind: policy.Staff, Name: "测试", Roles: []policy.Role{policy.Admin}}
		for slug, ok := range map[string]bool{"mzj": false, "bmfw-410411001000": true, "bmfw-410411001002": true} {
			d, err := region.NewStore(db).DepartmentBySlug(ctx, db.Read(), slug)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = f.ids.CreateStaff(ctx, admin, identity.Meta{}, identity.NewStaff{Username: "grant." + strings.ReplaceAll(slug, "-", "."),
				Name: "测试人员", DepartmentID: d.ID, Roles: []policy.Role{policy.Assistant}, Password: "Staff-Pass-2026x"})
			if (err == nil) != ok || err != nil && !strings.Contains(apperr.MessageOf(err), "帮办代办员须为街道便民服务中心或社区便民服务站的工作人员") {
				t.Errorf("the role for staff of %s: %v", slug, err)
			}
		}
		if err := f.ids.SetRoles(ctx, admin, identity.Meta{}, bureau.AccountID, []policy.Role{policy.Assistant, policy.Window}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("the role given to a bureau's staff: %v", err)
		}
		if err := f.ids.SetRoles(ctx, admin, identity.Meta{}, clerk.AccountID, []policy.Role{policy.Assistant, policy.Window}); err != nil {
			t.Errorf("the role given to a community's clerk: %v", err)
		}
		// A signed form is consent.
		c, err := f.svc.ApplyAssisted(ctx, f.worker, f.application(t, f.worker, form))
		if err != nil {
			t.Fatal(err)
		}
		as, ok, err := f.svc.AssistanceOf(ctx, f.worker, c)
		if err != nil || !ok || as.Method != casework.ConsentForm || as.File.SHA256 != pdf.SHA256 || as.FileName != "授权委托书.pdf" ||
			!strings.Contains(as.Text(), "授权方式：签字的授权委托书") {
			t.Errorf("the consent by form: %+v %v %v", as, ok, err)
		}
		// The person is known by their number: a second application finds
		// their account, and a name that is not theirs is refused.
		c2, err := f.svc.ApplyAssisted(ctx, f.worker, f.application(t, f.worker, form))
		if err != nil || c2.ApplicantID != c.ApplicantID {
			t.Errorf("the second application's applicant: %d, want %d (%v)", c2.ApplicantID, c.ApplicantID, err)
		}
		a := f.application(t, f.worker, form)
		a.Person.Name = "王秀英"
		a.Account, _ = f.ids.AssistedApplicant(ctx, f.worker, identity.AssistPerson{Name: "王秀英", IDNumber: elderID}, "", identity.Meta{})
		if _, err := f.svc.ApplyAssisted(ctx, f.worker, a); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "姓名") {
			t.Errorf("another name for the same number: %v", err)
		}
		// A code texted to another phone (the worker's own, for a person
		// without an account) confirms no one else's application.
		other := identity.AssistPerson{Name: "张德顺", IDNumber: "110105195001010039", Mobile: "13911112222"}
		if err := f.ids.SendAssistCode(ctx, f.worker, other, f.item.Name, identity.Meta{}); err != nil {
			t.Fatal(err)
		}
		code := codePattern.FindStringSubmatch(f.sms.Recent()[0].Text)[1]
		cases := f.written(t)
		a = f.application(t, f.worker, casework.Consent{Method: casework.ConsentSMS, Mobile: other.Mobile, Confirm: func(ctx context.Context) error {
			return f.ids.VerifyCode(ctx, other.Mobile, identity.PurposeAssist, code)
		}})
		if _, err := f.svc.ApplyAssisted(ctx, f.worker, a); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("another phone's code for the elder, her own number given: %v", err)
		}
		if _, err := f.ids.AssistedApplicant(ctx, f.worker, identity.AssistPerson{Name: elderName, IDNumber: elderID, Mobile: other.Mobile}, other.Mobile,
			identity.Meta{}); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "138****1234") {
			t.Errorf("the elder's application confirmed from another phone: %v", err)
		}
		if got := f.written(t); got != cases {
			t.Errorf("refused applications wrote: %s, before %s", got, cases)
		}
		// The code goes to the number on the person's account, not one the
		// worker chooses.
		err = f.ids.SendAssistCode(ctx, f.worker, identity.AssistPerson{Name: elderName, IDNumber: elderID, Mobile: "13911112222"}, f.item.Name, identity.Meta{})
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "138****1234") {
			t.Errorf("a code to another number than the account's: %v", err)
		}
	})
}
