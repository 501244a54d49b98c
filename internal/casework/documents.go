package casework

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// Document is a notice issued on a case: numbered, dated, in the name of
// the department, printable on A4.
type Document struct {
	ID           int64
	CaseID       int64
	Kind         string
	Number       string
	Title        string
	Body         string
	DepartmentID int64
	IssuedAt     time.Time
}

// notices says which step issues which notice, with its title and the
// character of its number (受字, 不受字 …).
var notices = map[Action]struct{ kind, title, mark string }{
	Accept:     {"acceptance", "受理通知书", "受"},
	Refuse:     {"refusal", "不予受理通知书", "不受"},
	AskCorrect: {"correction", "补正材料通知书", "补"},
	Decide:     {"decision", "决定书", "决"},
	Deliver:    {"delivery", "送达回证", "送"},
	// At the counter only: the dated receipt for the papers taken in
	// (行政许可法 第三十二条), printed for the applicant to keep.
	Submit: {"receipt", "收件回执", "收"},
}

// CorrectionDays is the time an applicant is given to hand in what a
// 补正材料通知书 asks for, in working days after the notice's day. The
// licensing law sets none (行政许可法 第三十二条 only gives the office five
// days to ask); fifteen working days is what local practice commonly gives,
// and the notice names the date, so the applicant need not count.
const CorrectionDays = 15

// Party is whom a notice is addressed to: the enterprise a case was filed
// for, or the person who applied.
type Party struct {
	Name       string // the enterprise's or the person's
	CreditCode string // the enterprise's 统一社会信用代码
	Agent      string // the account holder acting for the enterprise (经办人)
}

// you is how the body names the addressee ("你" or "你单位").
func (p Party) you() string {
	if p.CreditCode != "" {
		return "你单位"
	}
	return "你"
}

// Notice is what a notice's text is made from: issue gathers it in a
// step's transaction; bulk loading (internal/generate) gives it whole.
type Notice struct {
	Action     Action
	Settle     bool // the 受理 of an 即办件 settled at one sitting
	Case       Case // as the step leaves it
	Item       catalog.Item
	To         Party
	Department region.Department
	Government string // the 复议机关: the district's people's government
	Reason     string
	Basis      string        // the legal basis; the item's first by default
	Day        calendar.Date // 成文日期
	Due        calendar.Date // 补正: the date to correct by
	Named      []string      // 补正: the materials to hand in again
	Decided    string        // 送达: the 决定书 delivered, with its number
	Papers     string        // 收件: the materials taken in
}

// Document is the notice as issued: seq is its number in the
// department's sequence of its kind for the year of at. It is false for
// an action that issues no notice.
func (n Notice) Document(seq int, at time.Time) (Document, bool) {
	k, ok := notices[n.Action]
	if !ok {
		return Document{}, false
	}
	if n.Basis = strings.TrimSpace(n.Basis); n.Basis == "" {
		n.Basis = firstLine(n.Item.Basis)
	}
	title := k.title
	if n.Action == Decide {
		title = decisionTitle(n.Item, n.Case.Decision)
	}
	// 发文字号 as GB/T 9704 writes it: the year in full in 〔〕, the
	// sequence without 第 and without leading zeros. The 机关代字 is the
	// department's short name and the notice's character; sequences run per
	// department, kind and year, so the number is unique.
	number := fmt.Sprintf("%s%s字〔%d〕%d号", n.Department.ShortName, k.mark, at.In(clock.China).Year(), seq)
	return Document{CaseID: n.Case.ID, Kind: k.kind, Number: number, Title: title, Body: n.body(),
		DepartmentID: n.Case.DepartmentID, IssuedAt: at}, true
}

// NoticeKind is the kind of notice (case_documents.kind) an action issues
// on a case of the given channel: a submission issues its 收件回执 at the
// counter only.
func NoticeKind(a Action, channel string) (string, bool) {
	k, ok := notices[a]
	if a == Submit && channel != "window" {
		return "", false
	}
	return k.kind, ok
}

// issue writes the notice a step produces, in the step's transaction.
func (s *Service) issue(ctx context.Context, tx *store.Tx, c Case, it catalog.Item, st step, reason string, now time.Time) error {
	a := st.action
	kind, ok := NoticeKind(a, c.Channel)
	if !ok {
		return nil
	}
	if a == Decide && c.Decision == Denied && restatesDecision(reason) {
		// 行政许可法 第三十八条: a denial states its reasons.
		return apperr.New(apperr.Invalid, "不予的决定须写明不予的具体理由（审查认定的事实），不能只写“不予”。")
	}
	nt := Notice{Action: a, Settle: st.settling, Case: c, Item: it, Reason: reason, Basis: st.basis, Day: calendar.DateOf(now)}
	var err error
	if nt.To, err = addressee(ctx, tx, c); err != nil {
		return err
	}
	if nt.Department, err = department(ctx, tx, c.DepartmentID); err != nil {
		return err
	}
	if nt.Government, err = DistrictGovernment(ctx, tx, nt.Department); err != nil {
		return err
	}
	switch a {
	case AskCorrect:
		nt.Due = s.calendar.AddWorkdays(nt.Day, CorrectionDays)
		for _, p := range st.named {
			nt.Named = append(nt.Named, it.Materials[p].Name)
		}
	case Submit:
		if nt.Papers, err = receivedPapers(ctx, tx, c.ID); err != nil {
			return err
		}
	case Deliver:
		var t, num string
		err := tx.QueryRow(ctx, `SELECT title, number FROM case_documents WHERE case_id = ? AND kind = 'decision' ORDER BY id DESC LIMIT 1`, c.ID).Scan(&t, &num)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if num != "" {
			nt.Decided = DecisionPaper(t, num)
		}
	}
	var seq int
	if err := tx.QueryRow(ctx, `INSERT INTO document_numbers (department_id, kind, year, last) VALUES (?, ?, ?, 1)
		ON CONFLICT (department_id, kind, year) DO UPDATE SET last = document_numbers.last + 1 RETURNING last`,
		c.DepartmentID, kind, now.In(clock.China).Year()).Scan(&seq); err != nil {
		return fmt.Errorf("document number: %w", err)
	}
	d, _ := nt.Document(seq, now)
	_, err = tx.Exec(ctx, `INSERT INTO case_documents (case_id, kind, number, title, body, department_id, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, d.Kind, d.Number, d.Title, d.Body, d.DepartmentID, now)
	return err
}

// receivedPapers lists the materials a case holds, for its 收件回执.
func receivedPapers(ctx context.Context, tx *store.Tx, caseID int64) (string, error) {
	rows, err := tx.Query(ctx, `SELECT name FROM case_materials WHERE case_id = ? ORDER BY position`, caseID)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return "", err
		}
		names = append(names, n)
	}
	return strings.Join(names, "、"), rows.Err()
}

// DecisionPaper names a 决定书 in a 送达回证: its title and its number.
func DecisionPaper(title, number string) string { return "《" + title + "》（" + number + "）" }

// addressee is the enterprise a case was filed for, else its applicant.
func addressee(ctx context.Context, tx *store.Tx, c Case) (Party, error) {
	var p Party
	if err := tx.QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, c.ApplicantID).Scan(&p.Name); err != nil {
		return p, err
	}
	if c.EnterpriseID == 0 {
		return p, nil
	}
	p.Agent = p.Name
	err := tx.QueryRow(ctx, `SELECT name, credit_code FROM enterprises WHERE id = ?`, c.EnterpriseID).Scan(&p.Name, &p.CreditCode)
	return p, err
}

func department(ctx context.Context, tx *store.Tx, id int64) (region.Department, error) {
	d := region.Department{ID: id}
	err := tx.QueryRow(ctx, `SELECT name, short_name, region_code, phone, address, hours FROM departments WHERE id = ?`, id).
		Scan(&d.Name, &d.ShortName, &d.RegionCode, &d.Phone, &d.Address, &d.Hours)
	return d, err
}

// DistrictGovernment names the 行政复议机关 of a department's decisions:
// under 行政复议法 (2023) 第二十四条 the county-level people's government
// takes the appeals against its own departments, its 派出机关 (街道办事处)
// and the townships below it, so for every department here it is the
// district's 人民政府. The district's region is named briefly (湛河区); its
// departments' names carry the city too (平顶山市湛河区…), and the
// government is named as they are.
func DistrictGovernment(ctx context.Context, q store.Querier, d region.Department) (string, error) {
	var name string
	err := q.QueryRow(ctx, `SELECT name FROM regions WHERE level = 1`).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "人民政府", nil // no region tree: say no more than is known
	}
	if err != nil {
		return "", err
	}
	if i := strings.Index(d.Name, name); i > 0 {
		name = d.Name[:i] + name
	}
	return name + "人民政府", nil
}

// decisionTitle is the 决定书's title: 准予/不予, and 行政许可 for a licence.
func decisionTitle(it catalog.Item, decision string) string {
	outcome := "准予"
	if decision == Denied {
		outcome = "不予"
	}
	if it.Type == catalog.Licensing {
		return outcome + "行政许可决定书"
	}
	return outcome + "办理决定书"
}

// restatesDecision reports whether a decision's reason only says what was
// decided ("准予", "准予登记", "同意"): such a line is not a reason.
func restatesDecision(reason string) bool {
	r := strings.TrimRight(strings.TrimSpace(reason), "。.！! ")
	if r == "" {
		return true
	}
	if strings.ContainsAny(r, "，,；;：:\n") {
		return false
	}
	for _, p := range []string{"准予", "不予", "同意", "不同意", "予以"} {
		if strings.HasPrefix(r, p) && utf8.RuneCountInString(r) <= 16 {
			return true
		}
	}
	return false
}

// chineseDate writes a date as official documents do: 2026年12月3日, the
// year in full and no leading zeros (GB/T 9704 7.3.5).
func chineseDate(d calendar.Date) string {
	return fmt.Sprintf("%d年%d月%d日", d.Y, int(d.M), d.D)
}

// limitText says a time limit as a sentence does: 5个工作日, 10日, 24小时.
func limitText(l catalog.TimeLimit) string {
	switch l.Unit {
	case "自然日":
		return fmt.Sprintf("%d日", l.Value)
	case "小时":
		return fmt.Sprintf("%d小时", l.Value)
	}
	return fmt.Sprintf("%d个%s", l.Value, l.Unit)
}

// remedy is the sentence on appeal that a decision against the applicant
// must carry (行政许可法 第三十八条): 行政复议 within sixty days (行政复议法
// 第二十条) or 行政诉讼 within six months (行政诉讼法 第四十六条). The court is
// not named: many provinces assign administrative cases to courts other
// than the local one (集中管辖), so "人民法院" is the safe reading.
func (n Notice) remedy(doc string) string {
	return fmt.Sprintf("如不服本决定，可以自收到本%s之日起六十日内向%s申请行政复议，也可以自收到本%s之日起六个月内依法向人民法院提起行政诉讼。",
		doc, n.Government, doc)
}

// contact is how the applicant reaches the department.
func (n Notice) contact() string {
	var parts []string
	if n.Department.Phone != "" {
		parts = append(parts, "联系电话："+n.Department.Phone)
	}
	if n.Department.Address != "" {
		parts = append(parts, "地址："+n.Department.Address)
	}
	if n.Department.Hours != "" {
		parts = append(parts, "办公时间："+n.Department.Hours)
	}
	if len(parts) == 0 {
		return ""
	}
	return "如有疑问，请与本机关联系。" + strings.Join(parts, "；") + "。"
}

// body is the text of the notice: the whole text under its title, as
// GB/T 9704 lays out a letter: the addressee (主送) ending in "：", the
// paragraphs, and last the issuing authority (署名) with the date (成文日期)
// on the line under it, paragraphs separated by blank lines. The body is
// hashed into the case's state, so everything a reader takes for the
// notice is in it: the issuer is written in, not looked up when shown.
func (n Notice) body() string {
	c, it := n.Case, n.Item
	applied := fmt.Sprintf("%s于%s提出的%s申请（办件编号：%s）", n.To.you(), chineseDate(calendar.DateOf(c.CreatedAt)), it.Name, c.Number)
	if n.To.CreditCode != "" {
		applied = fmt.Sprintf("%s（统一社会信用代码：%s）由经办人%s于%s提出的%s申请（办件编号：%s）",
			n.To.you(), n.To.CreditCode, n.To.Agent, chineseDate(calendar.DateOf(c.CreatedAt)), it.Name, c.Number)
	}
	basis := ""
	if n.Basis != "" {
		basis = "依据" + n.Basis + "，"
	}
	var paras []string
	add := func(format string, args ...any) { paras = append(paras, fmt.Sprintf(format, args...)) }
	closing := "特此通知。"
	switch n.Action {
	case Accept:
		add("%s，申请材料齐全、符合法定形式，本机关决定予以受理。", applied)
		switch {
		case n.Settle:
			add("本件为即办件，本机关当场审查，于受理当日（%s）作出决定并办结，不另定办理期限。决定内容见同日出具的决定书。", chineseDate(n.Day))
		case it.PromiseLimit.Value == 0:
			add("本机关将于受理当日（%s）作出处理决定。", chineseDate(n.Day))
		default:
			add("本机关将于%s前（自受理之日起%s内）作出处理决定。依法需要听证、检验、检测、鉴定、专家评审的，所需时间不计算在上述期限内，本机关将另行告知。",
				chineseDate(c.DueOn), limitText(it.PromiseLimit))
		}
	case Refuse:
		add("%s，经审查，%s", applied, sentence(n.Reason))
		add("%s本机关决定不予受理。", basis)
		add("%s", n.remedy("通知书"))
	case AskCorrect:
		add("%s，申请材料不齐全或者不符合法定形式。请一次性补正以下全部内容：", applied)
		for i, m := range n.Named {
			add("%d. %s", i+1, m)
		}
		add("%s", n.Reason)
		add("请于%s前（自本通知书出具之日起%d个工作日内）补正。补正材料可在网上提交，也可送交本机关；补正材料齐全、符合法定形式的，本机关自收到之日起受理。", chineseDate(n.Due), CorrectionDays)
	case Decide:
		accepted := ""
		if !c.AcceptedOn.IsZero() {
			accepted = "，本机关于" + chineseDate(c.AcceptedOn) + "受理"
		}
		if c.Decision == Denied {
			add("%s%s。经审查，%s", applied, accepted, sentence(n.Reason))
			add("%s本机关决定：不予%s。", basis, it.Name)
			add("%s", n.remedy("决定书"))
		} else {
			add("%s%s。经审查，申请材料齐全、符合法定形式，申请符合法定条件、标准。", applied, accepted)
			if !restatesDecision(n.Reason) {
				add("审查意见：经审查，%s", sentence(n.Reason))
			}
			result := ""
			if it.Result.Name != "" {
				result = "本机关将依法向" + n.To.you() + "出具" + it.Result.Name + "。"
			}
			add("%s本机关决定：准予%s。%s", basis, it.Name, result)
			add("%s", n.remedy("决定书"))
		}
		closing = ""
	case Submit:
		// A 收件回执 is a form too: what was taken in, when, and what next.
		party := n.To.Name
		if n.To.CreditCode != "" {
			party += "（统一社会信用代码：" + n.To.CreditCode + "，经办人：" + n.To.Agent + "）"
		}
		add("申请人：%s", party)
		add("申请事项：%s", it.Name)
		add("办件编号：%s", c.Number)
		add("收件日期：%s", chineseDate(n.Day))
		add("收到材料：%s", cmp.Or(n.Papers, "无"))
		add("后续办理：本机关将审查申请材料，决定是否受理；材料不齐全或者不符合法定形式的，一次性告知需要补正的全部内容。办理进度可凭办件编号和手机号码在本网站“办件查询”中查看。")
		closing = ""
	case Deliver:
		// A 送达回证 is a form, not a letter: one line per box.
		papers := n.Decided
		if c.ResultName != "" {
			if papers != "" {
				papers += "、"
			}
			papers += "办理结果：" + cmp.Or(it.Result.Name, "办理结果") + "（" + c.ResultName + "）"
		}
		party := n.To.Name
		if n.To.CreditCode != "" {
			party += "（统一社会信用代码：" + n.To.CreditCode + "）"
		}
		add("受送达人：%s", party)
		add("送达文书：%s", cmp.Or(papers, "决定书"))
		add("办件编号：%s", c.Number)
		add("送达方式：%s", n.Reason)
		if c.Delivery == DeliverWindow && n.Department.Address != "" {
			add("送达地点：%s", n.Department.Address)
		}
		add("送达日期：%s", chineseDate(n.Day))
		switch c.Delivery {
		case DeliverWindow:
			add("受送达人签收：（签名或盖章）")
		case DeliverExpress:
			add("受送达人签收：以邮件签收记录为准")
		default:
			add("受送达人签收：网上送达，无须签收")
		}
		closing = ""
	}
	var b strings.Builder
	form := n.Action == Deliver || n.Action == Submit
	if !form {
		b.WriteString(n.To.Name + "：\n\n")
	}
	b.WriteString(strings.Join(paras, "\n\n"))
	if !form {
		if ct := n.contact(); ct != "" {
			b.WriteString("\n\n" + ct)
		}
	}
	if closing != "" {
		b.WriteString("\n\n" + closing)
	}
	b.WriteString("\n\n" + n.Department.Name + "\n" + chineseDate(n.Day))
	return b.String()
}

// sentence ends a reason written by staff with a full stop; the notice
// says "经审查，" itself.
func sentence(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "经审查，")
	if strings.HasSuffix(s, "。") || strings.HasSuffix(s, "！") || strings.HasSuffix(s, "？") {
		return s
	}
	return strings.TrimRight(s, ".;；，,") + "。"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// Layout is a notice cut into the parts GB/T 9704 places apart.
type Layout struct {
	Addressee  string   // 主送, with its "："
	Paragraphs []string // 正文
	Fields     []Field  // a 送达回证's boxes
	Issuer     string   // 署名; empty on notices issued before it was written in
	Date       string   // 成文日期, under the 署名
}

// Field is one box of a form-like notice.
type Field struct{ Label, Value string }

var chineseDateLine = regexp.MustCompile(`^\d{4}年\d{1,2}月\d{1,2}日$`)

// Layout cuts the notice's body into its parts. Notices issued before the
// 署名 was written into the body end with their date alone; the page then
// names the department as it is now.
func (d Document) Layout() Layout {
	var l Layout
	paras := strings.Split(d.Body, "\n\n")
	last := paras[len(paras)-1]
	if issuer, date, ok := strings.Cut(last, "\n"); ok && chineseDateLine.MatchString(date) {
		l.Issuer, l.Date, paras = issuer, date, paras[:len(paras)-1]
	} else if chineseDateLine.MatchString(last) {
		l.Date, paras = last, paras[:len(paras)-1]
	}
	if len(paras) > 0 && strings.HasSuffix(paras[0], "：") && !strings.Contains(paras[0], "\n") {
		l.Addressee, paras = paras[0], paras[1:]
	}
	for _, p := range paras {
		if label, value, ok := strings.Cut(p, "："); ok && (d.Kind == "delivery" || d.Kind == "receipt") && utf8.RuneCountInString(label) <= 8 && !strings.ContainsAny(label, "，。") {
			l.Fields = append(l.Fields, Field{label, value})
			continue
		}
		l.Paragraphs = append(l.Paragraphs, p)
	}
	return l
}

// Documents lists a case's notices in the order they were issued.
func Documents(ctx context.Context, q store.Querier, caseID int64) ([]Document, error) {
	rows, err := q.Query(ctx, `SELECT id, case_id, kind, number, title, body, department_id, issued_at FROM case_documents WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		var d Document
		if err := rows.Scan(&d.ID, &d.CaseID, &d.Kind, &d.Number, &d.Title, &d.Body, &d.DepartmentID, &d.IssuedAt); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DocumentOf returns one notice to someone allowed to see its case.
func (s *Service) DocumentOf(ctx context.Context, who policy.Subject, caseID, docID int64) (Document, error) {
	c, err := load(ctx, s.db.Read(), caseID)
	if err != nil {
		return Document{}, err
	}
	if err := policy.Check(who, policy.View, c.Resource()); err != nil {
		return Document{}, err
	}
	var d Document
	err = s.db.Read().QueryRow(ctx, `SELECT id, case_id, kind, number, title, body, department_id, issued_at FROM case_documents
		WHERE id = ? AND case_id = ?`, docID, caseID).Scan(&d.ID, &d.CaseID, &d.Kind, &d.Number, &d.Title, &d.Body, &d.DepartmentID, &d.IssuedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return d, apperr.New(apperr.NotFound, "没有这份文书。")
	}
	return d, err
}

// Papers returns a case's materials and documents to who, if they may see
// the case.
func (s *Service) Papers(ctx context.Context, who policy.Subject, caseID int64) ([]Material, []Document, error) {
	c, err := load(ctx, s.db.Read(), caseID)
	if err != nil {
		return nil, nil, err
	}
	if err := policy.Check(who, policy.View, c.Resource()); err != nil {
		return nil, nil, err
	}
	materials, err := Materials(ctx, s.db.Read(), caseID)
	if err != nil {
		return nil, nil, err
	}
	documents, err := Documents(ctx, s.db.Read(), caseID)
	return materials, documents, err
}
