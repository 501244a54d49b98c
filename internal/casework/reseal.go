package casework

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/store"
)

// Reseal is the event of a case's personal answers sealed again under the
// active key (zwfw keys rotate). Submitted answers are part of the state
// the case's events commit to, so the new ciphertext needs an event that
// commits to it; the answers themselves do not change.
const Reseal Action = "reseal"

// ResealAnswers seals again, under the active key, every case's personal
// answers sealed under another (pii.Keys.NeedsRotation), batch cases to a
// transaction, and records the pass in the audit log as actor. It is
// idempotent and may be stopped and run again: a case already under the
// active key is left alone, and a case changed meanwhile (its answers are
// compared before they are replaced) is left for the next run. It returns
// the number of answers sealed again.
func (s *Service) ResealAnswers(ctx context.Context, batch int, actor string) (int, error) {
	if s.keys == nil {
		return 0, errNoKeys
	}
	type row struct {
		id             int64
		number, status string
		form           string
	}
	total := 0
	for after := int64(0); ; {
		rows, err := s.db.Read().Query(ctx, `SELECT id, number, status, form_data FROM cases WHERE id > ? ORDER BY id LIMIT ?`, after, batch)
		if err != nil {
			return total, err
		}
		var list []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.number, &r.status, &r.form); err != nil {
				rows.Close()
				return total, err
			}
			list = append(list, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, err
		}
		if len(list) == 0 {
			break
		}
		after = list[len(list)-1].id
		err = s.db.Tx(ctx, func(tx *store.Tx) error {
			now := s.clock.Now()
			for _, r := range list {
				form, n, err := s.resealForm(r.number, r.form)
				if err != nil {
					return fmt.Errorf("case %s: %w", r.number, err)
				}
				if n == 0 {
					continue
				}
				res, err := tx.Exec(ctx, `UPDATE cases SET form_data = ? WHERE id = ? AND form_data = ?`, form, r.id, r.form)
				if err != nil {
					return err
				}
				if done, err := res.RowsAffected(); err != nil || done == 0 {
					continue // changed meanwhile: the next run sees it
				}
				total += n
				// A draft's answers are not in its state (caseState).
				if Status(r.status) != Draft {
					if err := appendEvent(ctx, tx, r.id, Event{At: now, ActorRole: "系统", Action: Reseal, From: Status(r.status),
						To: Status(r.status), Reason: "个人信息改用当前密钥加密（" + s.keys.ActiveID() + "）"}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	return total, s.db.Tx(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), Actor: actor, Action: "keys_rotate", Object: "cases",
			Detail: fmt.Sprintf("办件申请信息中 %d 项个人信息改用密钥 %s 加密", total, s.keys.ActiveID())})
	})
}

// resealForm returns form_data with its answers sealed under another key
// sealed again, and how many there were; the masked values stay.
func (s *Service) resealForm(number, data string) (string, int, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &raw); err != nil {
		return "", 0, err
	}
	n := 0
	for k, v := range raw {
		var a sealedAnswer
		if json.Unmarshal(v, &a) != nil || !s.keys.NeedsRotation(a.Sealed) {
			continue // a plain answer, or sealed under the active key
		}
		sealed, changed, err := s.keys.Reseal(a.Sealed, answerContext(number, k))
		if err != nil {
			return "", 0, fmt.Errorf("answer %q: %w", k, err)
		}
		if !changed {
			continue
		}
		a.Sealed = sealed
		b, err := json.Marshal(a)
		if err != nil {
			return "", 0, err
		}
		raw[k], n = b, n+1
	}
	if n == 0 {
		return data, 0, nil
	}
	b, err := json.Marshal(raw)
	return string(b), n, err
}
