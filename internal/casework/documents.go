package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
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
}

// issue writes the notice a step produces, in the step's transaction.
func (s *Service) issue(ctx context.Context, tx *store.Tx, c Case, it catalog.Item, a Action, reason, basis string, now time.Time) error {
	n, ok := notices[a]
	if !ok {
		return nil
	}
	if strings.TrimSpace(basis) == "" {
		basis = firstLine(it.Basis)
	}
	var applicant, dept string
	if err := tx.QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, c.ApplicantID).Scan(&applicant); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT short_name FROM departments WHERE id = ?`, c.DepartmentID).Scan(&dept); err != nil {
		return err
	}
	year := now.In(clock.China).Year()
	var seq int
	if err := tx.QueryRow(ctx, `INSERT INTO document_numbers (department_id, kind, year, last) VALUES (?, ?, ?, 1)
		ON CONFLICT (department_id, kind, year) DO UPDATE SET last = document_numbers.last + 1 RETURNING last`,
		c.DepartmentID, n.kind, year).Scan(&seq); err != nil {
		return fmt.Errorf("document number: %w", err)
	}
	number := fmt.Sprintf("%s%s字〔%d〕第%06d号", dept, n.mark, year, seq)
	_, err := tx.Exec(ctx, `INSERT INTO case_documents (case_id, kind, number, title, body, department_id, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, n.kind, number, n.title, noticeBody(a, c, it, applicant, reason, strings.TrimSpace(basis), now), c.DepartmentID, now)
	return err
}

// noticeBody is the text of a notice. Paragraphs are separated by blank lines.
func noticeBody(a Action, c Case, it catalog.Item, applicant, reason, basis string, now time.Time) string {
	day := now.In(clock.China).Format("2006年1月2日")
	head := fmt.Sprintf("%s：\n\n你（单位）于%s提出的%s申请（办件编号 %s），", applicant, c.CreatedAt.In(clock.China).Format("2006年1月2日"), it.Name, c.Number)
	var b strings.Builder
	b.WriteString(head)
	switch a {
	case Accept:
		fmt.Fprintf(&b, "申请材料齐全、符合法定形式，本机关决定予以受理。\n\n本机关将在%s前（%d个%s内）作出处理决定。法定期限内需要听证、检验、检测、鉴定、专家评审的，所需时间不计算在期限内。", c.DueOn, it.PromiseLimit.Value, it.PromiseLimit.Unit)
	case Refuse:
		fmt.Fprintf(&b, "经审查，不予受理。理由：%s\n\n依据：%s\n\n如不服本决定，可依法申请行政复议或者提起行政诉讼。", reason, basis)
	case AskCorrect:
		fmt.Fprintf(&b, "申请材料不齐全或者不符合法定形式。请一次性补正以下全部内容：\n\n%s\n\n补正材料齐全后，本机关自收到之日起受理。", reason)
	case Decide:
		outcome := "准予"
		if c.Decision == Denied {
			outcome = "不予"
		}
		fmt.Fprintf(&b, "经审查，本机关决定：%s%s。\n\n理由：%s\n\n依据：%s\n\n如不服本决定，可在收到本决定书之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。", outcome, it.Name, reason, basis)
	case Deliver:
		result := c.ResultName
		if result == "" {
			result = "决定书"
		}
		fmt.Fprintf(&b, "办理结果（%s）已于%s送达。\n\n送达方式：%s", result, day, reason)
	}
	fmt.Fprintf(&b, "\n\n特此通知。\n\n%s", day)
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
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
