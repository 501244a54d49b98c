package casework

import (
	"context"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// CheckForm checks answers against an item's application form
// (item.Item.CheckAnswers, which is fuzzed where no database is linked).
func CheckForm(it catalog.Item, answers map[string]string, now time.Time) (map[string]string, map[string]string) {
	return it.CheckAnswers(answers, now)
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
