package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// 帮办代办 (assisted applications): a 帮办代办员 of a street or a
// community applies online for a person who cannot (the elderly, those
// without a smartphone). The person consents first; the application is
// then made as the person's own — they own the case, see it among their
// cases and act on it (corrections, rating) — and the case records who
// applied for them (cases.assisted_by, case_consents). The worker follows
// it up; department steps stay the department's (policy/assist.go).
//
// Decision: the channel is 'online' — it is an online application made
// for the person, and the online rate counts it; assisted_by tells the
// assisted ones apart.

// Consent methods.
const (
	ConsentForm = "form" // a signed 授权委托书, uploaded
	ConsentSMS  = "sms"  // a code texted to the person, who told it to the worker
)

// Consent is how the person consented to an application made for them.
type Consent struct {
	Method string
	// ConsentForm: the signed form, already in the file store.
	File     filestore.Object
	Filename string
	// ConsentSMS: the number the code went to, and the check of the code
	// the person told the worker (identity.VerifyCode), which uses it up
	// and counts a wrong try against it.
	Mobile  string
	Confirm func(ctx context.Context) error
}

// Assisted is an application a worker makes for a person.
type Assisted struct {
	ItemID int64
	// The person as the worker typed them (name, 身份证号码, mobile): what
	// their form starts with, checked before the consent is used up.
	Person Known
	// Account finds or opens the person's account in the application's
	// transaction (identity.Service.AssistedApplicant).
	Account Applicant
	Consent Consent
	Answers map[string]string
	Files   []Attachment
}

// Assistance is who applied for whom, and how the person consented.
type Assistance struct {
	CaseID       int64
	Applicant    string // the person's name
	Assistant    string // the worker's name, username and department
	Username     string
	Department   string
	Method       string
	MobileMasked string // ConsentSMS
	File         filestore.Object
	FileName     string // ConsentForm
	At           time.Time
}

// MethodName names the consent method in Chinese.
func (a Assistance) MethodName() string {
	if a.Method == ConsentSMS {
		return "短信确认"
	}
	return "授权委托书"
}

// How is the consent as pages show it: the method and the masked number.
func (a Assistance) How() string {
	if a.Method == ConsentSMS {
		return "短信确认 " + a.MobileMasked
	}
	return "签字的授权委托书（已上传）"
}

// By names the worker: their department, name and account.
func (a Assistance) By() string {
	return fmt.Sprintf("%s %s（%s）", a.Department, a.Assistant, a.Username)
}

// Text is the line every page of the case shows.
func (a Assistance) Text() string {
	return fmt.Sprintf("帮办代办：%s 代 %s 申请，授权方式：%s", a.By(), a.Applicant, a.How())
}

// errNoConsent refuses an application made for someone without their
// consent: nothing is written.
var errNoConsent = apperr.New(apperr.Invalid, "帮办代办须先取得申请人本人的授权：上传申请人签字的授权委托书，或由申请人以短信验证码确认。未取得授权，不能代为申请。")

// checkConsent checks that the consent is complete before anything is
// used up or written.
func checkConsent(c Consent) error {
	switch c.Method {
	case ConsentForm:
		if !filestore.ValidSHA256(c.File.SHA256) || c.File.Size == 0 {
			return apperr.New(apperr.Invalid, "请上传申请人签字的授权委托书（PDF、JPEG 或 PNG）。")
		}
	case ConsentSMS:
		if _, err := ident.ParseMobile(c.Mobile); err != nil || c.Confirm == nil {
			return apperr.New(apperr.Invalid, "请向申请人的手机发送验证码，并填写申请人告知的验证码。")
		}
	default:
		return errNoConsent
	}
	return nil
}

// ApplyAssisted creates and submits an application for a person, made by
// a 帮办代办员 with the person's consent, in one transaction: the person's
// account (found or opened), the case as theirs, the consent, the
// materials, the record ("由 … 帮办代办") and the audit entry. Without
// consent — none given, a wrong or expired code — it is refused and
// nothing is written. The SMS code is checked (and used up) only once
// everything else has been checked.
func (s *Service) ApplyAssisted(ctx context.Context, who policy.Subject, a Assisted) (Case, error) {
	if !who.Has(policy.Assistant) || !policy.AssistantDepartment(who.DepartmentKind) {
		return Case{}, apperr.New(apperr.Forbidden, "帮办代办须由街道或社区的帮办代办员办理。")
	}
	if err := checkConsent(a.Consent); err != nil {
		return Case{}, err
	}
	// An SMS consent comes from the person's own number, the one their
	// account is given (identity checks it against an existing account's).
	if a.Consent.Method == ConsentSMS {
		person, err := ident.ParseMobile(a.Person.Mobile)
		texted, _ := ident.ParseMobile(a.Consent.Mobile) // checkConsent has checked it
		if err != nil || person != texted {
			return Case{}, apperr.New(apperr.Invalid, "短信确认的手机号码须为申请人本人的手机号码。")
		}
	}
	it, err := s.catalog.PublishedRecent(ctx, a.ItemID)
	if err != nil {
		return Case{}, err
	}
	if err := applicable(it); err != nil {
		return Case{}, err
	}
	now := s.clock.Now()
	if _, problems := CheckForm(it, a.Person.apply(it, a.Answers, true), now); len(problems) > 0 {
		return Case{}, &apperr.Error{Code: apperr.Invalid, Message: fmt.Sprintf("申请表有 %d 处需要修改。", len(problems)), Fields: problems}
	}
	mats, err := handedIn(it, a.Files, -1, now)
	if err != nil {
		return Case{}, err
	}
	c := Case{ItemID: it.ID, ItemVersion: it.Version, DepartmentID: it.DepartmentID, RegionCode: it.RegionCode,
		Status: Submitted, Channel: "online", AssistedBy: who.AccountID, Version: 1}
	if err := policy.Check(who, policy.Create, c.Resource()); err != nil {
		return Case{}, err
	}
	if a.Consent.Method == ConsentSMS {
		if err := a.Consent.Confirm(ctx); err != nil {
			return Case{}, err
		}
	}
	if _, err := s.open(ctx, &c, it, now); err != nil {
		return Case{}, err
	}
	held := a.Files
	if a.Consent.Method == ConsentForm {
		held = append(held[:len(held):len(held)], Attachment{Object: a.Consent.File})
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if c.ApplicantID, err = a.Account(ctx, tx); err != nil {
			return err
		}
		k, err := s.knownOf(ctx, tx, c.ApplicantID, 0)
		if err != nil {
			return err
		}
		// A registered person is known by their 身份证号码: the name typed
		// must be the one on their account.
		if k.Name != "" && k.Name != strings.TrimSpace(a.Person.Name) {
			return apperr.New(apperr.Invalid, "申请人姓名与该身份证号码登记的姓名不一致，请核对。")
		}
		var problems map[string]string
		if c.Form, problems = CheckForm(it, k.apply(it, a.Answers, true), now); len(problems) > 0 {
			return &apperr.Error{Code: apperr.Invalid, Message: fmt.Sprintf("申请表有 %d 处需要修改。", len(problems)), Fields: problems}
		}
		body, err := s.encodeForm(it, &c, c.Form)
		if err != nil {
			return err
		}
		if err := insertCase(ctx, tx, &c, body); err != nil {
			return err
		}
		if err := s.changedFrom(ctx, tx, Case{}, c); err != nil {
			return err
		}
		if err := s.hold(ctx, tx, held); err != nil {
			return err
		}
		if err := insertMaterials(ctx, tx, c.ID, mats, who.AccountID); err != nil {
			return err
		}
		as, err := s.recordConsent(ctx, tx, who, c, a.Consent, now)
		if err != nil {
			return err
		}
		// The record reads as for an online application, each step by the
		// worker, the first saying for whom and how the person consented.
		role := policy.Assistant.Name()
		events := []Event{{At: now, ActorID: who.AccountID, ActorRole: role, Action: Create, To: Draft,
			Reason: fmt.Sprintf("由 %s %s 帮办代办，代 %s 申请；授权方式：%s", as.Department, as.Assistant, as.Applicant, as.How())}}
		if len(mats) > 0 {
			events = append(events, Event{At: now, ActorID: who.AccountID, ActorRole: role, Action: Upload, From: Draft, To: Draft, Reason: uploadedText(mats)})
		}
		events = append(events, Event{At: now, ActorID: who.AccountID, ActorRole: role, Action: Submit, From: Draft, To: Submitted})
		ch := newChain(c.ID)
		ch.state = stateOf(c, body, mats, nil).digest()
		if err := ch.append(ctx, tx, events...); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: as.Assistant + "（" + as.Department + "）",
			Action: "assisted_apply", Object: fmt.Sprintf("case:%d", c.ID), RegionCode: who.RegionCode,
			Detail: fmt.Sprintf("帮办代办：代 %s 申请“%s”（办件编号 %s），授权方式：%s", as.Applicant, it.Name, c.Number, as.How())}); err != nil {
			return err
		}
		return s.tell(ctx, tx, c, Submit, fmt.Sprintf("本申请由%s %s为您帮办代办，您可登录查看办理进度。", as.Department, as.Assistant), now)
	})
	if err != nil {
		return Case{}, err
	}
	return c, nil
}

// recordConsent writes the consent of the new assisted case c in tx and
// returns it as pages show it.
func (s *Service) recordConsent(ctx context.Context, tx *store.Tx, who policy.Subject, c Case, con Consent, now time.Time) (Assistance, error) {
	as := Assistance{CaseID: c.ID, Method: con.Method, At: now}
	var dept int64
	if err := tx.QueryRow(ctx, `SELECT w.name, COALESCE(w.username, ''), d.id, d.name, p.name FROM accounts w
		JOIN departments d ON d.id = w.department_id JOIN accounts p ON p.id = ?
		WHERE w.id = ?`, c.ApplicantID, who.AccountID).Scan(&as.Assistant, &as.Username, &dept, &as.Department, &as.Applicant); err != nil {
		return as, err
	}
	if con.Method == ConsentSMS {
		as.MobileMasked = ident.MaskMobile(con.Mobile)
	} else {
		as.File, as.FileName = con.File, cleanFilename(con.Filename)
	}
	_, err := tx.Exec(ctx, `INSERT INTO case_consents (case_id, method, assistant_id, department_id, file_sha256, file_size, file_type,
		file_name, mobile_masked, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, as.Method, who.AccountID, dept,
		as.File.SHA256, as.File.Size, as.File.ContentType, as.FileName, as.MobileMasked, now)
	return as, err
}

// AssistanceOf is who applied for case c and how its applicant consented,
// for someone who may see the case; false for a case the applicant made
// themselves.
func (s *Service) AssistanceOf(ctx context.Context, who policy.Subject, c Case) (Assistance, bool, error) {
	if c.AssistedBy == 0 {
		return Assistance{}, false, nil
	}
	if err := policy.Check(who, policy.View, c.Resource()); err != nil {
		return Assistance{}, false, err
	}
	as := Assistance{CaseID: c.ID}
	err := s.db.Read().QueryRow(ctx, `SELECT k.method, k.mobile_masked, k.file_sha256, k.file_size, k.file_type, k.file_name, k.at,
		w.name, COALESCE(w.username, ''), d.name, p.name
		FROM case_consents k JOIN accounts w ON w.id = k.assistant_id JOIN departments d ON d.id = k.department_id
		JOIN cases c ON c.id = k.case_id JOIN accounts p ON p.id = c.applicant_id WHERE k.case_id = ?`, c.ID).
		Scan(&as.Method, &as.MobileMasked, &as.File.SHA256, &as.File.Size, &as.File.ContentType, &as.FileName, &as.At,
			&as.Assistant, &as.Username, &as.Department, &as.Applicant)
	if errors.Is(err, sql.ErrNoRows) {
		return as, false, fmt.Errorf("case %d: assisted without a consent", c.ID)
	}
	return as, err == nil, err
}

// AssistedSummary is a line of a worker's list of the cases they applied for.
type AssistedSummary struct {
	Summary
	Applicant string // the person's name
}

// AssistedCases lists a page of the cases who applied for as a 帮办代办员,
// most recently changed first, after the cursor after ("" first).
func (s *Service) AssistedCases(ctx context.Context, who policy.Subject, after string, limit int) (Page[AssistedSummary], error) {
	var page Page[AssistedSummary]
	if !who.Has(policy.Assistant) {
		return page, apperr.New(apperr.Forbidden, "只有帮办代办员有代办的办件。")
	}
	limit = max(limit, 1)
	var c conds
	c.add(`c.assisted_by = ?`, who.AccountID)
	var err error
	if page.Total, page.More, err = s.count(ctx, c); err != nil {
		return page, err
	}
	at, err := parseCursor(after, 2)
	if err != nil {
		return page, err
	}
	if at != nil {
		t, err1 := at.time(0)
		id, err2 := at.int(1)
		if err1 != nil || err2 != nil {
			return page, errCursor
		}
		c.add(`(c.updated_at, c.id) < (?, ?)`, t, id)
	}
	rows, err := s.db.Read().Query(ctx, `SELECT c.id, c.number, i.name, c.status, c.version, c.updated_at, p.name FROM cases c
		JOIN items i ON i.id = c.item_id JOIN accounts p ON p.id = c.applicant_id`+c.where()+` ORDER BY c.updated_at DESC, c.id DESC LIMIT ?`,
		append(c.args, limit+1)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var m AssistedSummary
		if err := rows.Scan(&m.ID, &m.Number, &m.ItemName, &m.Status, &m.Version, &m.UpdatedAt, &m.Applicant); err != nil {
			return page, err
		}
		page.Rows = append(page.Rows, m)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	if len(page.Rows) > limit {
		page.Rows = page.Rows[:limit]
		last := page.Rows[limit-1]
		page.Next = makeCursor(last.UpdatedAt, last.ID)
	}
	return page, nil
}

// PersonFields lists the fields of item it's form that the person's
// identity fills (name, 身份证号码): an assisted application's page does
// not ask for them twice.
func PersonFields(it catalog.Item) map[string]bool {
	return fixedKeys(Known{Name: "-", IDNumber: "-"}.fixed(it))
}
