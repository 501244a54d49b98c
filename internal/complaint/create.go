package complaint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Contexts that bind the sealed personal data to its column (pii).
const (
	ctxName   = "complaints.name"
	ctxMobile = "complaints.mobile"
)

// Filing is a complaint as it is filed.
type Filing struct {
	CategoryID  int64
	Title       string
	Description string
	Address     string
	RegionCode  string   // where it happened: a community, street or the district
	Lat, Lng    *float64 // a map point, optional
	CaseNumber  string   // the 办件编号 it is about, optional
	// Channel: staff say window or phone; a dispatcher's API client says
	// hotline_12345 with the 工单's ExternalID. A person files on the web
	// (anonymously without an account, with Code, the SMS code sent to
	// Mobile).
	Channel    Channel
	ExternalID string
	Name       string
	Mobile     string
	Code       string
	Files      []Attachment
}

// fieldErr is a refusal of one field of the form.
func fieldErr(field, msg string) error {
	return &apperr.Error{Code: apperr.Invalid, Message: msg, Fields: map[string]string{field: msg}}
}

// check validates n for who and fixes its channel; the personal data is
// normalised.
func (s *Service) check(ctx context.Context, who policy.Subject, n *Filing) error {
	switch who.Kind {
	case policy.Person:
		n.Channel = Web
		if strings.TrimSpace(n.Name) == "" {
			n.Name = who.Name
		}
	case policy.Anonymous:
		n.Channel = WebAnonymous
	case policy.Client:
		// Open311 (internal/open311): filed online through another
		// system's app; the log names the system. A channel of its own
		// would need 0016's CHECK widened, which SQLite does only by
		// rebuilding the table, and complaints is the parent of four.
		n.Channel = Web
	case policy.Staff:
		if n.Channel != Window && n.Channel != Phone && n.Channel != Hotline {
			return fieldErr("channel", "请选择受理渠道：窗口或电话。")
		}
		if n.Channel == Hotline && !who.Has(policy.Dispatcher) && !who.Has(policy.Admin) {
			return apperr.New(apperr.Forbidden, "只有派单员可以接收12345热线工单。")
		}
	}
	n.ExternalID = strings.TrimSpace(n.ExternalID)
	if n.Channel == Hotline && (n.ExternalID == "" || len(n.ExternalID) > 64) {
		return fieldErr("external_id", "12345热线工单须有工单编号（不超过 64 个字符）。")
	}
	if n.Channel != Hotline {
		n.ExternalID = ""
	}
	n.Title, n.Description, n.Address = strings.TrimSpace(n.Title), strings.TrimSpace(n.Description), strings.TrimSpace(n.Address)
	n.Name, n.CaseNumber = strings.TrimSpace(n.Name), strings.TrimSpace(n.CaseNumber)
	if n.CategoryID == 0 {
		return fieldErr("category", "请选择诉求类别。")
	}
	cat, err := s.Category(ctx, n.CategoryID)
	if err != nil || !cat.Active {
		return fieldErr("category", "请选择诉求类别。")
	}
	if t := utf8.RuneCountInString(n.Title); t == 0 || t > 40 {
		return fieldErr("title", "请用一句话概括诉求（不超过 40 个字）。")
	}
	if d := utf8.RuneCountInString(n.Description); d < 5 || d > 2000 {
		return fieldErr("description", "请描述诉求的具体情况（5 到 2000 个字）。")
	}
	if utf8.RuneCountInString(n.Address) > 100 {
		return fieldErr("address", "地址不超过 100 个字。")
	}
	if r, err := s.regions.Region(ctx, n.RegionCode); err != nil || r.Code == "" {
		return fieldErr("region", "请选择诉求发生的街道（乡镇）或社区（村）。")
	}
	if (n.Lat == nil) != (n.Lng == nil) || n.Lat != nil && (*n.Lat < -90 || *n.Lat > 90 || *n.Lng < -180 || *n.Lng > 180) {
		return fieldErr("location", "地图位置无效，请重新选择或不填。")
	}
	if n.CaseNumber != "" {
		var one int
		err := s.db.Read().QueryRow(ctx, `SELECT 1 FROM cases WHERE number = ?`, n.CaseNumber).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fieldErr("case_number", "没有这个办件编号，请核对或不填。")
		}
		if err != nil {
			return err
		}
	}
	if utf8.RuneCountInString(n.Name) > 30 {
		return fieldErr("name", "姓名不超过 30 个字。")
	}
	if n.Mobile == "" && n.Channel != Hotline {
		return fieldErr("mobile", "请填写联系手机号，承办单位将与您联系。")
	}
	if n.Mobile != "" {
		m, err := ident.ParseMobile(n.Mobile)
		if err != nil {
			return fieldErr("mobile", err.Error())
		}
		n.Mobile = m
	}
	if len(n.Files) > MaxFiles {
		return fieldErr("files", fmt.Sprintf("附件最多 %d 个。", MaxFiles))
	}
	for i := range n.Files {
		n.Files[i].Name = strings.TrimSpace(n.Files[i].Name)
		if n.Files[i].Name == "" || utf8.RuneCountInString(n.Files[i].Name) > 100 {
			n.Files[i].Name = fmt.Sprintf("附件%d", i+1)
		}
	}
	return nil
}

// Create files a complaint as who. A person files their own on the web;
// without an account, their mobile number is verified by the SMS code; staff
// take one in at the window or from a phone call on the caller's behalf; a
// dispatcher's client pushes in a 12345 工单, once: a second push of the
// same 工单 id returns the complaint made by the first (created false).
// A routing rule that matches its category and region dispatches it at
// once; otherwise it waits for a dispatcher.
func (s *Service) Create(ctx context.Context, who policy.Subject, meta audit.Meta, n Filing) (c Complaint, created bool, err error) {
	// Anyone may file without an account; the SMS code proves the number.
	if err := policy.Check(who, policy.Create, policy.Resource{Kind: policy.Complaint, OwnerID: who.AccountID, RegionCode: n.RegionCode}); err != nil && who.Kind != policy.Anonymous {
		return c, false, err
	}
	if err := s.check(ctx, who, &n); err != nil {
		return c, false, err
	}
	if n.Channel == Hotline {
		if c, err := load(ctx, s.db.Read(), `c.channel = 'hotline_12345' AND c.external_id = ?`, n.ExternalID); err == nil {
			return c, false, nil
		}
	}
	if n.Channel == WebAnonymous {
		if s.opt.VerifyCode == nil {
			return c, false, apperr.New(apperr.Unavailable, "暂不支持未登录提交诉求，请登录后提交。")
		}
		if strings.TrimSpace(n.Code) == "" {
			return c, false, fieldErr("code", "请填写短信验证码。")
		}
		if err := s.opt.VerifyCode(ctx, n.Mobile, strings.TrimSpace(n.Code)); err != nil {
			if apperr.CodeOf(err) == apperr.Invalid {
				var e *apperr.Error
				errors.As(err, &e)
				return c, false, fieldErr("code", e.Message)
			}
			return c, false, err
		}
	}
	cat, err := s.Category(ctx, n.CategoryID)
	if err != nil {
		return c, false, err
	}
	var nameSealed, mobileSealed, mobileIndex string
	if n.Name != "" {
		if nameSealed, err = s.opt.Keys.Seal(n.Name, ctxName); err != nil {
			return c, false, err
		}
	}
	if n.Mobile != "" {
		if mobileSealed, err = s.opt.Keys.Seal(n.Mobile, ctxMobile); err != nil {
			return c, false, err
		}
		mobileIndex = s.opt.Keys.Index("mobile", n.Mobile)
	}
	actor, err := s.actor(ctx, who, n.Name)
	if err != nil {
		return c, false, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.clock.Now()
		number, err := nextNumber(ctx, tx, now)
		if err != nil {
			return err
		}
		c = Complaint{Number: number, CategoryID: cat.ID, CategoryName: cat.Name, Title: n.Title, Description: n.Description, Address: n.Address,
			Lat: n.Lat, Lng: n.Lng, CaseNumber: n.CaseNumber, Channel: n.Channel, ExternalID: n.ExternalID, RegionCode: n.RegionCode, Status: Pending,
			nameSealed: nameSealed, Name: ident.MaskName(n.Name), mobileSealed: mobileSealed, Mobile: ident.MaskMobile(n.Mobile), mobileIndex: mobileIndex,
			Version: 1, CreatedAt: now, UpdatedAt: now}
		if who.Kind == policy.Person {
			c.AccountID = who.AccountID
		}
		if who.Kind == policy.Staff {
			c.TakenBy = who.AccountID
		}
		c.DispatchDue, c.dispatchWarn = s.due(now, cat.Dispatch)
		c.FeedbackDue, c.feedbackWarn = s.due(now, cat.Feedback)
		dept, err := routeFor(ctx, tx, cat.ID, n.RegionCode)
		if err != nil {
			return err
		}
		if dept != 0 {
			c.Status, c.DepartmentID, c.DispatchedAt = Dispatched, dept, &now
		}
		err = tx.QueryRow(ctx, `INSERT INTO complaints (number, category_id, title, description, address, lat, lng, case_number, channel, external_id,
			region_code, status, department_id, account_id, taken_by, name_sealed, name_masked, mobile_sealed, mobile_masked, mobile_index,
			dispatch_due, dispatch_warn, feedback_due, feedback_warn, next_check_at, dispatched_at, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.Number, c.CategoryID, c.Title, c.Description, c.Address, c.Lat, c.Lng, c.CaseNumber, c.Channel, c.ExternalID,
			c.RegionCode, c.Status, nullID(c.DepartmentID), nullID(c.AccountID), nullID(c.TakenBy), c.nameSealed, c.Name, c.mobileSealed, c.Mobile, c.mobileIndex,
			c.DispatchDue, c.dispatchWarn, c.FeedbackDue, c.feedbackWarn, s.nextCheck(c), c.DispatchedAt, c.Version, now, now).Scan(&c.ID)
		if store.IsUniqueViolation(err) && n.Channel == Hotline {
			return errDuplicate
		}
		if err != nil {
			return err
		}
		sums := make([]string, 0, len(n.Files))
		for _, f := range n.Files {
			if _, err := tx.Exec(ctx, `INSERT INTO complaint_files (complaint_id, sha256, name, content_type, size, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				c.ID, f.Object.SHA256, f.Name, f.Object.ContentType, f.Object.Size, now); err != nil {
				return err
			}
			sums = append(sums, f.Object.SHA256)
		}
		if s.opt.Files != nil && len(sums) > 0 {
			if err := s.opt.Files.Hold(ctx, tx, sums...); err != nil {
				return err
			}
		}
		detail := fmt.Sprintf("%s受理，诉求编号 %s", c.Channel.Name(), c.Number)
		if err := s.log(ctx, tx, c, who, actor, Create, detail, true, now); err != nil {
			return err
		}
		if dept != 0 {
			d, err := s.regions.Department(ctx, dept)
			if err != nil {
				return err
			}
			c.Department = d.Name
			if err := s.log(ctx, tx, c, systemSubject, "系统", Routed, "按派单规则派发至"+d.Name, true, now); err != nil {
				return err
			}
			if err := s.tellUnit(ctx, tx, c, "新诉求待签收", now); err != nil {
				return err
			}
			// Routed at once: the hotline hears where its 工单 went.
			if err := s.tellHotline(ctx, tx, c); err != nil {
				return err
			}
		}
		if err := s.changed(ctx, tx, "", c); err != nil {
			return err
		}
		return s.tellPerson(ctx, tx, c, "您的诉求已受理", fmt.Sprintf("您的诉求“%s”已受理，诉求编号 %s。", c.Title, c.Number), now)
	})
	if errors.Is(err, errDuplicate) {
		c, err = load(ctx, s.db.Read(), `c.channel = 'hotline_12345' AND c.external_id = ?`, n.ExternalID)
		return c, false, err
	}
	if err != nil {
		return Complaint{}, false, err
	}
	return c, true, nil
}

var errDuplicate = errors.New("complaint: the hotline 工单 is already in")

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// nextNumber is the next 诉求编号 of the Beijing day: TS, the date and a
// serial, counted in the creating transaction (complaints are few; one
// counter row a day is no bottleneck).
func nextNumber(ctx context.Context, tx *store.Tx, now time.Time) (string, error) {
	day := now.In(clock.China).Format("20060102")
	var last int
	if err := tx.QueryRow(ctx, `INSERT INTO complaint_numbers (day, last) VALUES (?, 1)
		ON CONFLICT (day) DO UPDATE SET last = complaint_numbers.last + 1 RETURNING last`, day).Scan(&last); err != nil {
		return "", fmt.Errorf("complaint number: %w", err)
	}
	return fmt.Sprintf("TS%s%04d", day, last), nil
}

// actor names who acts in the log: the person masked, staff with their
// unit.
func (s *Service) actor(ctx context.Context, who policy.Subject, personName string) (string, error) {
	switch who.Kind {
	case policy.Staff:
		if who.DepartmentID == 0 {
			return who.Name, nil
		}
		d, err := s.regions.Department(ctx, who.DepartmentID)
		if err != nil {
			return "", err
		}
		return who.Name + "（" + d.ShortName + "）", nil
	case policy.Person:
		return ident.MaskName(who.Name) + "（诉求人）", nil
	case policy.Client:
		// Open311: the person, through the system that holds the key.
		return ident.MaskName(personName) + "（诉求人，经" + who.Name + "）", nil
	}
	if personName != "" {
		return ident.MaskName(personName) + "（诉求人）", nil
	}
	return "诉求人", nil
}

// log appends an entry to the complaint's progress log.
func (s *Service) log(ctx context.Context, tx *store.Tx, c Complaint, who policy.Subject, actor string, a Action, detail string, public bool, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO complaint_events (complaint_id, at, actor_id, actor, department_id, action, status, detail, public)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, now, nullID(who.AccountID), actor, nullID(who.DepartmentID), a, c.Status, detail, public)
	return err
}

// nextCheck is when the limit check must next look at c: the earliest
// warning or limit not yet reported, or the end of the time to confirm a
// reply; nil when there is nothing left to watch.
func (s *Service) nextCheck(c Complaint) any {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	switch c.Status {
	case Pending, Dispatched:
		if !c.dispatchWarned {
			consider(c.dispatchWarn)
		}
		if !c.dispatchLate {
			consider(c.DispatchDue)
		}
	}
	switch c.Status {
	case Pending, Dispatched, Handling:
		if !c.feedbackWarned {
			consider(c.feedbackWarn)
		}
		if !c.feedbackLate {
			consider(c.FeedbackDue)
		}
	case Replied:
		if c.RepliedAt != nil {
			consider(c.RepliedAt.AddDate(0, 0, s.opt.ReopenDays))
		}
	}
	if next.IsZero() {
		return nil
	}
	return next
}
