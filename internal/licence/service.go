package licence

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"rsc.io/qr"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
)

// Holder is what the platform knows of an applicant (and the enterprise
// they act for): the licence is issued in the enterprise's name when
// there is one.
type Holder struct {
	Name, IDNumber      string
	OrgName, CreditCode string
}

// HolderFunc reads an applicant's holder data in q (identity.Known).
type HolderFunc func(ctx context.Context, q store.Querier, account, enterprise int64) (Holder, error)

// Options configure the service.
type Options struct {
	Clock   clock.Clock
	Catalog *catalog.Store
	// Keys sign new licences and verify any; nil: no licence is issued
	// and none verifies (ZWFW_LICENCE_KEYS unset).
	Keys      *Keys
	Holder    HolderFunc
	PublicURL string // the verification URL in each licence's QR code
}

// Service keeps templates and licences.
type Service struct {
	db *store.DB
	o  Options
}

// New returns the service.
func New(db *store.DB, o Options) *Service {
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	return &Service{db: db, o: o}
}

// Keys are the service's keys (nil when none are configured).
func (s *Service) Keys() *Keys { return s.o.Keys }

// Template is an item's licence: what it is called, how it is numbered,
// how long it is valid and which of the application's answers it prints.
type Template struct {
	ItemID   int64
	ItemName string
	TypeName string // 食品经营许可证
	// NumberFormat builds the licence number: {year} is the year of
	// issue, {seq} the template's next number in six digits.
	NumberFormat string
	ValidYears   int // 0: 长期有效
	Fields       []FieldMap
	UpdatedAt    time.Time
}

// FieldMap prints the answer to the item's form field Key under Label.
type FieldMap struct {
	Label string `json:"label"`
	Key   string `json:"key"`
}

// Template returns an item's template; found is false when it has none.
func (s *Service) Template(ctx context.Context, itemID int64) (t Template, found bool, err error) {
	return template(ctx, s.db.Read(), itemID)
}

func template(ctx context.Context, q store.Querier, itemID int64) (Template, bool, error) {
	t := Template{ItemID: itemID}
	var fields string
	err := q.QueryRow(ctx, `SELECT t.type_name, t.number_format, t.valid_years, t.fields, t.updated_at, i.name
		FROM licence_templates t JOIN items i ON i.id = t.item_id WHERE t.item_id = ?`, itemID).
		Scan(&t.TypeName, &t.NumberFormat, &t.ValidYears, &fields, &t.UpdatedAt, &t.ItemName)
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	return t, true, json.Unmarshal([]byte(fields), &t.Fields)
}

// Templates lists the templates of a department's items (0: every
// department's).
func (s *Service) Templates(ctx context.Context, department int64) ([]Template, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT t.item_id FROM licence_templates t JOIN items i ON i.id = t.item_id
		WHERE ? = 0 OR i.department_id = ? ORDER BY i.name, t.item_id`, department, department)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Template, 0, len(ids))
	for _, id := range ids {
		t, _, err := s.Template(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// SaveTemplate sets an item's template. Whoever may edit the item (its
// department's catalog managers) may; the change is audited.
func (s *Service) SaveTemplate(ctx context.Context, who policy.Subject, meta audit.Meta, t Template) error {
	it, _, err := s.o.Catalog.Latest(ctx, t.ItemID)
	if err != nil {
		return err
	}
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Item, DepartmentID: it.DepartmentID}); err != nil {
		return err
	}
	if err := checkTemplate(it, &t); err != nil {
		return err
	}
	fields, _ := json.Marshal(t.Fields)
	now := s.o.Clock.Now()
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO licence_templates (item_id, type_name, number_format, valid_years, fields, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET type_name = excluded.type_name,
			number_format = excluded.number_format, valid_years = excluded.valid_years, fields = excluded.fields,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			t.ItemID, t.TypeName, t.NumberFormat, t.ValidYears, string(fields), account(who), now); err != nil {
			return err
		}
		labels := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			labels[i] = f.Label
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: "licence_template",
			Object: fmt.Sprintf("item:%d", t.ItemID), IP: meta.IP, RegionCode: who.RegionCode,
			Detail: fmt.Sprintf("%s：编号 %s，有效期 %d 年，打印 %s", t.TypeName, t.NumberFormat, t.ValidYears, strings.Join(labels, "、"))})
	})
}

// checkTemplate tidies t and says in Chinese what is wrong with it.
func checkTemplate(it catalog.Item, t *Template) error {
	t.TypeName, t.NumberFormat = strings.TrimSpace(t.TypeName), strings.TrimSpace(t.NumberFormat)
	switch {
	case t.TypeName == "" || utf8.RuneCountInString(t.TypeName) > 40:
		return apperr.New(apperr.Invalid, "请填写证照名称（40 字以内），如 食品经营许可证。")
	case strings.Count(t.NumberFormat, "{seq}") != 1 || utf8.RuneCountInString(t.NumberFormat) > 40:
		return apperr.New(apperr.Invalid, "证照编号格式须含一个 {seq}（顺序号），可含 {year}（发证年份），如 JY{year}{seq}。")
	case t.ValidYears < 0 || t.ValidYears > 50:
		return apperr.New(apperr.Invalid, "有效期应为 0（长期）至 50 年。")
	}
	keys := map[string]bool{}
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			keys[f.Key] = true
		}
	}
	var fields []FieldMap
	for _, f := range t.Fields {
		f.Label, f.Key = strings.TrimSpace(f.Label), strings.TrimSpace(f.Key)
		if f.Label == "" && f.Key == "" {
			continue
		}
		if f.Label == "" || utf8.RuneCountInString(f.Label) > 20 {
			return apperr.New(apperr.Invalid, "每个打印项须有名称（20 字以内）。")
		}
		if !keys[f.Key] {
			return apperr.New(apperr.Invalid, "「"+f.Label+"」对应的申请表字段 "+f.Key+" 不在该事项的申请表中。")
		}
		fields = append(fields, f)
	}
	if len(fields) > 12 {
		return apperr.New(apperr.Invalid, "打印项最多 12 项。")
	}
	t.Fields = fields
	return nil
}

// Licence is one issued licence.
type Licence struct {
	ID           int64
	Number       string
	TypeName     string
	CaseID       int64
	ItemID       int64
	DepartmentID int64
	RegionCode   string // the issuing department's
	HolderID     int64
	EnterpriseID int64
	HolderName   string
	Token        string
	FileSHA256   string
	FileSize     int64
	IssuedOn     string
	ValidUntil   string
	RevokedAt    time.Time // zero unless revoked or cancelled
	RevokeKind   string    // revoked (吊销) or cancelled (注销)
	RevokeReason string
	Data         Data // the signed data, decoded from Token
}

// Resource is the licence as the policy sees it.
func (l Licence) Resource() policy.Resource {
	return policy.Resource{Kind: policy.Licence, OwnerID: l.HolderID, EnterpriseID: l.EnterpriseID,
		DepartmentID: l.DepartmentID, RegionCode: l.RegionCode}
}

// Revoked reports whether the licence was revoked or cancelled.
func (l Licence) Revoked() bool { return !l.RevokedAt.IsZero() }

// RevokeName names how it ended: 已吊销 or 已注销.
func RevokeName(kind string) string {
	switch kind {
	case Revoked:
		return "已吊销"
	case Cancelled:
		return "已注销"
	}
	return ""
}

// How a licence ends before its time.
const (
	Revoked   = "revoked"   // 吊销: taken away
	Cancelled = "cancelled" // 注销: given up, or its subject gone
)

const licenceColumns = `l.id, l.number, l.type_name, l.case_id, l.item_id, l.department_id, d.region_code, l.holder_id,
	COALESCE(l.enterprise_id, 0), l.holder_name, l.token, l.file_sha256, l.file_size, l.issued_on, l.valid_until, l.revoked_at,
	l.revoke_kind, l.revoke_reason FROM licences l JOIN departments d ON d.id = l.department_id`

func scan(row interface{ Scan(...any) error }) (Licence, error) {
	var l Licence
	var revoked sql.NullTime
	if err := row.Scan(&l.ID, &l.Number, &l.TypeName, &l.CaseID, &l.ItemID, &l.DepartmentID, &l.RegionCode, &l.HolderID,
		&l.EnterpriseID, &l.HolderName, &l.Token, &l.FileSHA256, &l.FileSize, &l.IssuedOn, &l.ValidUntil, &revoked,
		&l.RevokeKind, &l.RevokeReason); err != nil {
		return l, err
	}
	l.RevokedAt = revoked.Time
	l.Data, _, _, _ = Decode(l.Token)
	return l, nil
}

func list(ctx context.Context, q store.Querier, where string, args ...any) ([]Licence, error) {
	rows, err := q.Query(ctx, `SELECT `+licenceColumns+` WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Licence
	for rows.Next() {
		l, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Issue is the casework.FinishedFunc that issues, in the finishing step's
// transaction, the licence of a case completed with approval whose item
// has a template. A refused or denied case, an item without a template,
// or a platform without licence keys issues none.
func (s *Service) Issue(ctx context.Context, tx *store.Tx, c casework.Case) error {
	if c.Status != casework.Completed || c.Decision != casework.Approved || s.o.Keys == nil {
		return nil
	}
	t, found, err := template(ctx, tx, c.ItemID)
	if err != nil || !found {
		return err
	}
	var seq int
	if err := tx.QueryRow(ctx, `UPDATE licence_templates SET next_seq = next_seq + 1 WHERE item_id = ? RETURNING next_seq - 1`,
		c.ItemID).Scan(&seq); err != nil {
		return err
	}
	h, err := s.o.Holder(ctx, tx, c.ApplicantID, c.EnterpriseID)
	if err != nil {
		return err
	}
	d := Data{Type: t.TypeName, Case: c.Number, Fields: []Field{}}
	if c.EnterpriseID != 0 {
		d.Holder, d.IDKind, d.HolderID = h.OrgName, "统一社会信用代码", h.CreditCode
	} else {
		d.Holder, d.IDKind, d.HolderID = h.Name, "身份证号码", ident.MaskIDCard(h.IDNumber)
	}
	if err := tx.QueryRow(ctx, `SELECT name FROM departments WHERE id = ?`, c.DepartmentID).Scan(&d.Issuer); err != nil {
		return err
	}
	now := s.o.Clock.Now()
	issued := calendar.DateOf(now)
	d.Issued = issued.String()
	if t.ValidYears > 0 {
		d.Until = calendar.DateOf(issued.Time().AddDate(t.ValidYears, 0, -1)).String()
	}
	d.Number = strings.NewReplacer("{year}", strconv.Itoa(issued.Y), "{seq}", fmt.Sprintf("%06d", seq)).Replace(t.NumberFormat)
	for _, f := range t.Fields {
		if v := strings.TrimSpace(c.Form[f.Key]); v != "" {
			d.Fields = append(d.Fields, Field{Label: f.Label, Value: v})
		}
	}
	token := s.o.Keys.Sign(&d)
	// The licence as a material (免提交) is its QR code: it carries the
	// whole signed licence, and the file store takes only PDF and images.
	png, err := QRPNG(VerifyURL(s.o.PublicURL, token))
	if err != nil {
		return err
	}
	obj, err := filestore.Inspect(png, 1<<20)
	if err != nil {
		return err
	}
	if err := staging.Stage(ctx, tx, now, staging.File{Object: obj, Data: png}); err != nil {
		return err
	}
	var enterprise any
	if c.EnterpriseID != 0 {
		enterprise = c.EnterpriseID
	}
	_, err = tx.Exec(ctx, `INSERT INTO licences (number, type_name, case_id, item_id, department_id, holder_id, enterprise_id, holder_name,
		token, key_id, file_sha256, file_size, issued_on, valid_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Number, d.Type, c.ID, c.ItemID, c.DepartmentID, c.ApplicantID, enterprise, d.Holder, token, d.KeyID, obj.SHA256, obj.Size,
		d.Issued, d.Until, now)
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "unique") {
		return apperr.New(apperr.Conflict, "证照编号 "+d.Number+" 已被使用：请检查该事项的证照编号格式。")
	}
	return err
}

// VerifyURL is where a licence's QR code leads: the public verification
// page, with the whole signed licence in the path.
func VerifyURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/v/" + url.PathEscape(token)
}

// QRPNG draws text as a QR code in PNG.
func QRPNG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, err
	}
	code.Scale = 4
	return code.PNG(), nil
}

// Mine lists the licences in who's 证照夹: their own, or while acting for
// an enterprise, the enterprise's; newest first.
func (s *Service) Mine(ctx context.Context, who policy.Subject) ([]Licence, error) {
	if who.Kind != policy.Person {
		return nil, nil
	}
	if who.ActingFor != 0 {
		return list(ctx, s.db.Read(), `l.enterprise_id = ? ORDER BY l.id DESC`, who.ActingFor)
	}
	return list(ctx, s.db.Read(), `l.holder_id = ? AND l.enterprise_id IS NULL ORDER BY l.id DESC`, who.AccountID)
}

// Issued lists the latest licences of who's department, for revocation.
func (s *Service) Issued(ctx context.Context, who policy.Subject, limit int) ([]Licence, error) {
	if who.Kind != policy.Staff {
		return nil, apperr.New(apperr.Forbidden, "您没有权限进行此操作。")
	}
	return list(ctx, s.db.Read(), `l.department_id = ? ORDER BY l.id DESC LIMIT ?`, who.DepartmentID, limit)
}

// Get returns a licence to someone who may see it.
func (s *Service) Get(ctx context.Context, who policy.Subject, id int64) (Licence, error) {
	l, err := scan(s.db.Read().QueryRow(ctx, `SELECT `+licenceColumns+` WHERE l.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, apperr.New(apperr.NotFound, "没有找到这份证照。")
	}
	if err != nil {
		return l, err
	}
	return l, policy.Check(who, policy.View, l.Resource())
}

// Revoke ends a licence before its time — kind Revoked (吊销) or
// Cancelled (注销) — by its issuing department's reviewers or head,
// with a reason; audited. Verification shows it from then on.
func (s *Service) Revoke(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, kind, reason string) error {
	reason = strings.TrimSpace(reason)
	if RevokeName(kind) == "" {
		return apperr.New(apperr.Invalid, "请选择吊销或注销。")
	}
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return apperr.New(apperr.Invalid, "请写明吊销或注销的理由（500 字以内）。")
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		l, err := scan(tx.QueryRow(ctx, `SELECT `+licenceColumns+` WHERE l.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "没有找到这份证照。")
		}
		if err != nil {
			return err
		}
		if err := policy.Check(who, policy.Handle, l.Resource()); err != nil {
			return err
		}
		if l.Revoked() {
			return apperr.New(apperr.Conflict, "这份证照"+RevokeName(l.RevokeKind)+"。")
		}
		now := s.o.Clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE licences SET revoked_at = ?, revoke_kind = ?, revoke_reason = ?, revoked_by = ? WHERE id = ?`,
			now, kind, reason, account(who), id); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: "licence_revoke",
			Object: fmt.Sprintf("licence:%d", id), IP: meta.IP, RegionCode: who.RegionCode,
			Detail: fmt.Sprintf("%s %s %s：%s", l.TypeName, l.Number, strings.TrimPrefix(RevokeName(kind), "已"), reason)})
	})
}

// Verification is what a verifier learns of a token.
type Verification struct {
	Data    Data
	Token   string
	Valid   bool
	Problem string // why not, in Chinese
	// Known of the platform: it holds a licence of this number, and
	// whether it has been revoked or cancelled since, when.
	Known      bool
	RevokeKind string
	RevokedOn  string
}

// Status says in a word what the verification found.
func (v Verification) Status() string {
	switch {
	case v.RevokeKind != "":
		return RevokeName(v.RevokeKind)
	case v.Valid:
		return "有效"
	}
	return "无效"
}

// Verify checks a token from its signed data alone (signature, key id,
// dates), then adds what the platform knows: a licence it revoked or
// cancelled is invalid from that day.
func (s *Service) Verify(ctx context.Context, token string) (Verification, error) {
	v := Verification{Token: strings.TrimSpace(token)}
	if s.o.Keys == nil {
		return v, apperr.New(apperr.Unavailable, "本平台未配置证照签名密钥，暂不能核验。")
	}
	d, err := s.o.Keys.Verify(v.Token, calendar.DateOf(s.o.Clock.Now()))
	v.Data = d
	if err != nil {
		if !apperr.Is(err, apperr.Invalid) {
			return v, err
		}
		v.Problem = apperr.MessageOf(err)
		return v, nil
	}
	v.Valid = true
	var revoked sql.NullTime
	var kind string
	// By number: numbers are unique here, and the signature says this
	// platform issued it; however its token is spelt, a revoked number is
	// revoked.
	err = s.db.Read().QueryRow(ctx, `SELECT revoked_at, revoke_kind FROM licences WHERE number = ?`, d.Number).Scan(&revoked, &kind)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Signed by our key but not in this database (another instance's
		// copy, a restored backup): the signature stands.
	case err != nil:
		return v, err
	default:
		v.Known = true
		if revoked.Valid {
			v.Valid, v.RevokeKind, v.RevokedOn = false, kind, calendar.DateOf(revoked.Time).String()
			v.Problem = "证照" + RevokeName(kind) + "（" + v.RevokedOn + "），不再有效。"
		}
	}
	return v, nil
}

// Offers is the casework.OffersFunc of 免提交: the valid, unrevoked
// licences of the applicant (or the enterprise they act for) whose type
// is like the material's name (食品经营许可证 for 食品经营许可证副本),
// each as its QR code's file, from the case that issued it.
func (s *Service) Offers(ctx context.Context, q store.Querier, applicant, enterprise int64, name string, fromCase int64) ([]casework.Material, error) {
	today := calendar.DateOf(s.o.Clock.Now()).String()
	where := `l.revoked_at IS NULL AND (l.valid_until = '' OR l.valid_until >= ?) AND (? = 0 OR l.case_id = ?)`
	args := []any{today, fromCase, fromCase}
	if enterprise != 0 {
		where += ` AND l.enterprise_id = ?`
		args = append(args, enterprise)
	} else {
		where += ` AND l.holder_id = ? AND l.enterprise_id IS NULL`
		args = append(args, applicant)
	}
	ls, err := list(ctx, q, where+` ORDER BY l.id DESC LIMIT 20`, args...)
	if err != nil {
		return nil, err
	}
	var out []casework.Material
	for _, l := range ls {
		if name != "" && !strings.Contains(name, l.TypeName) && !strings.Contains(l.TypeName, name) {
			continue
		}
		label := name
		if label == "" {
			label = l.TypeName
		}
		out = append(out, casework.Material{Position: casework.OfferedPosition, Name: label, SHA256: l.FileSHA256, Size: l.FileSize,
			ContentType: filestore.TypePNG, Filename: l.TypeName + "（电子证照 " + l.Number + "）.png", CaseID: l.CaseID,
			UploadedAt: time.Time{}})
	}
	return out, nil
}

// File is a licence as downloaded: its token, which is what verifies,
// and its data for people to read; a verifier refuses a file whose data
// differs from its token's.
type File struct {
	Token   string `json:"token"`
	Licence Data   `json:"licence"`
	Verify  string `json:"verify_url,omitempty"`
}

// FileOf is l's downloadable file.
func (s *Service) FileOf(l Licence) ([]byte, error) {
	return json.MarshalIndent(File{Token: l.Token, Licence: l.Data, Verify: VerifyURL(s.o.PublicURL, l.Token)}, "", "  ")
}

// ReadFile reads a downloaded file, or a bare token, and returns the
// token; a file whose readable data was changed is refused.
func ReadFile(b []byte) (string, error) {
	text := strings.TrimSpace(string(b))
	if !strings.HasPrefix(text, "{") {
		return text, nil
	}
	var f File
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return "", ErrMalformed
	}
	d, _, _, err := Decode(f.Token)
	if err != nil {
		return "", err
	}
	if f.Licence.Fields == nil {
		f.Licence.Fields = []Field{}
	}
	if string(f.Licence.canonical()) != string(d.canonical()) {
		return "", ErrSignature
	}
	return f.Token, nil
}

// account is who's account for a reference, NULL for one without (the
// command line, the demo's builder).
func account(who policy.Subject) any {
	if who.AccountID == 0 {
		return nil
	}
	return who.AccountID
}

func actorName(who policy.Subject) string {
	if who.Name != "" {
		return who.Name
	}
	return "系统"
}
