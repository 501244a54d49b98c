package casework

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// CheckForm checks answers against an item's application form and returns
// a Chinese message per field that is wrong; none means the form is
// complete. Only the item's own fields are kept.
func CheckForm(it catalog.Item, answers map[string]string, now time.Time) (map[string]string, map[string]string) {
	clean, problems := map[string]string{}, map[string]string{}
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			v := strings.TrimSpace(answers[f.Key])
			clean[f.Key] = v
			if msg := checkField(f, v, now); msg != "" {
				problems[f.Key] = msg
			}
		}
	}
	return clean, problems
}

func checkField(f catalog.FormField, v string, now time.Time) string {
	if v == "" {
		if !f.Required {
			return ""
		}
		if f.Type == "select" || f.Type == "radio" || f.Type == "checkbox" {
			return "请选择" + f.Label
		}
		return "请填写" + f.Label
	}
	max := f.MaxLength
	if max == 0 {
		max = 500
	}
	if utf8.RuneCountInString(v) > max {
		return fmt.Sprintf("%s不能超过%d个字", f.Label, max)
	}
	switch f.Type {
	case "number":
		if msg := checkNumber(f.Label, v); msg != "" {
			return msg
		}
	case "date":
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return f.Label + "应为日期，如 2026-01-31"
		}
	case "idcard":
		if _, err := ident.ParseIDCard(v, now); err != nil {
			return err.Error()
		}
	case "mobile":
		if _, err := ident.ParseMobile(v); err != nil {
			return err.Error()
		}
	case "creditcode":
		if _, err := ident.ParseCreditCode(v); err != nil {
			return err.Error()
		}
	case "email":
		if at := strings.Index(v, "@"); at < 1 || !strings.Contains(v[at:], ".") {
			return f.Label + "格式不正确"
		}
	case "select", "radio":
		if !slices.Contains(f.Options, v) {
			return f.Label + "请从选项中选择"
		}
	case "checkbox":
		for _, part := range strings.Split(v, "、") {
			if !slices.Contains(f.Options, part) {
				return f.Label + "请从选项中选择"
			}
		}
	}
	return ""
}

// MaxNumber is the largest answer a number field takes: 一万亿, beyond
// any amount, area or count a district's forms ask for. Form fields have
// no bounds of their own.
const MaxNumber = 1e12

// plainNumber is how people write a number on a form: digits with an
// optional decimal part. It leaves out what strconv.ParseFloat would also
// take — NaN, Inf, exponents (-1e308), hexadecimal, underscores.
var plainNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// checkNumber says what is wrong with a number answer: it must be a
// finite decimal, not negative (the forms count and measure things) and
// at most MaxNumber.
func checkNumber(label, v string) string {
	if rest, neg := strings.CutPrefix(v, "-"); neg && plainNumber.MatchString(rest) {
		return label + "不能为负数"
	}
	if !plainNumber.MatchString(v) {
		return label + "应为数字，如 120 或 85.5"
	}
	if n, err := strconv.ParseFloat(v, 64); err != nil || n > MaxNumber {
		return label + "不能超过一万亿（1000000000000）"
	}
	return ""
}

// SaveDraft stores the answers on a draft, at the expected version, so
// that the applicant can leave and come back — or, at the counter, the
// clerk types them in (mayEdit). Personal answers are sealed. Each change
// is an event naming the fields changed; saving the same answers again
// changes nothing.
func (s *Service) SaveDraft(ctx context.Context, who policy.Subject, caseID int64, expected int, answers map[string]string) (Case, error) {
	var c Case
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = load(ctx, tx, caseID); err != nil {
			return err
		}
		role, err := mayEdit(who, c)
		if err != nil {
			return err
		}
		if c.Status != Draft {
			return apperr.New(apperr.Conflict, "申请已提交，不能再修改草稿。")
		}
		if err := current(c, expected); err != nil {
			return err
		}
		it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
		if err != nil {
			return err
		}
		// The applicant's own name and numbers stay the account's.
		k, err := s.knownOf(ctx, tx, c.ApplicantID, c.EnterpriseID)
		if err != nil {
			return err
		}
		answers = k.apply(it, answers, false)
		before, err := s.unseal(c)
		if err != nil {
			return err
		}
		changed := changedFields(before, answers)
		if len(changed) == 0 {
			return nil
		}
		body, err := s.encodeForm(it, &c, answers)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		res, err := tx.Exec(ctx, `UPDATE cases SET form_data = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			body, now, caseID, expected)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errChanged
		}
		c.Version, c.UpdatedAt = expected+1, now
		return s.formEdited(ctx, tx, c, who, role, changed, now)
	})
	return c, err
}

// Summary is a case in a list.
type Summary struct {
	ID        int64
	Number    string
	ItemName  string
	Status    Status
	Version   int
	UpdatedAt time.Time
}

// Mine lists a page of the cases of the person (or of the enterprise they
// act for), most recently changed first, after the cursor after (Page.Next;
// "" for the first page), along the applicant's or the enterprise's index.
func (s *Service) Mine(ctx context.Context, who policy.Subject, after string, limit int) (Page[Summary], error) {
	var page Page[Summary]
	limit = max(limit, 1)
	if who.Kind != policy.Person {
		return page, apperr.New(apperr.Forbidden, "只有个人和法人用户有“我的办件”。")
	}
	var c conds
	if who.ActingFor != 0 {
		c.add(`c.enterprise_id = ?`, who.ActingFor)
	} else {
		c.add(`c.applicant_id = ? AND c.enterprise_id IS NULL`, who.AccountID)
	}
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
	rows, err := s.db.Read().Query(ctx, `SELECT c.id, c.number, i.name, c.status, c.version, c.updated_at FROM cases c
		JOIN items i ON i.id = c.item_id`+c.where()+` ORDER BY c.updated_at DESC, c.id DESC LIMIT ?`, append(c.args, limit+1)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var m Summary
		if err := rows.Scan(&m.ID, &m.Number, &m.ItemName, &m.Status, &m.Version, &m.UpdatedAt); err != nil {
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
