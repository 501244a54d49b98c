package casework

import (
	"context"
	"encoding/json"
	"fmt"
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
		if f.Required {
			return "请填写" + f.Label
		}
		return ""
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
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return f.Label + "应为数字"
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

// SaveDraft stores the answers on a draft, at the expected version, so
// that the applicant can leave and come back — or, at the counter, the
// clerk types them in (mayEdit). Each change is an event naming the
// fields changed; saving the same answers again changes nothing.
func (s *Service) SaveDraft(ctx context.Context, who policy.Subject, caseID int64, expected int, answers map[string]string) (Case, error) {
	body, err := json.Marshal(answers)
	if err != nil {
		return Case{}, err
	}
	var c Case
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
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
		changed := changedFields(c.Form, answers)
		if len(changed) == 0 {
			return nil
		}
		now := s.clock.Now()
		res, err := tx.Exec(ctx, `UPDATE cases SET form_data = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			string(body), now, caseID, expected)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errChanged
		}
		c.Form, c.Version, c.UpdatedAt = answers, expected+1, now
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

// Mine lists the cases of the person (or of the enterprise they act for),
// newest first.
func (s *Service) Mine(ctx context.Context, who policy.Subject) ([]Summary, error) {
	if who.Kind != policy.Person {
		return nil, apperr.New(apperr.Forbidden, "只有个人和法人用户有“我的办件”。")
	}
	q := `SELECT c.id, c.number, i.name, c.status, c.version, c.updated_at FROM cases c JOIN items i ON i.id = c.item_id WHERE `
	var arg int64
	if who.ActingFor != 0 {
		q, arg = q+`c.enterprise_id = ?`, who.ActingFor
	} else {
		q, arg = q+`c.applicant_id = ? AND c.enterprise_id IS NULL`, who.AccountID
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY c.updated_at DESC, c.id DESC LIMIT 200`, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var m Summary
		if err := rows.Scan(&m.ID, &m.Number, &m.ItemName, &m.Status, &m.Version, &m.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
