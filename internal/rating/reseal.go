package rating

import (
	"context"
	"errors"
	"fmt"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/store"
)

// ResealComments seals again, under the active key, every rating's comment
// sealed under another (zwfw keys rotate), batch ratings to a
// transaction, and records the pass in the audit log as actor. Like
// casework.ResealAnswers it may be stopped and run again: a comment already
// under the active key is left alone. It returns how many it sealed again.
func (s *Service) ResealComments(ctx context.Context, batch int, actor string) (int, error) {
	if s.keys == nil {
		return 0, errors.New("rating: comments need the data keys")
	}
	total := 0
	for after := int64(0); ; {
		type row struct {
			id     int64
			sealed string
		}
		rows, err := s.db.Read().Query(ctx, `SELECT id, comment_sealed FROM ratings WHERE id > ? AND comment_sealed <> '' ORDER BY id LIMIT ?`, after, batch)
		if err != nil {
			return total, err
		}
		var list []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.sealed); err != nil {
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
			for _, r := range list {
				if !s.keys.NeedsRotation(r.sealed) {
					continue
				}
				sealed, changed, err := s.keys.Reseal(r.sealed, commentContext)
				if err != nil {
					return fmt.Errorf("rating %d: %w", r.id, err)
				}
				if !changed {
					continue
				}
				if _, err := tx.Exec(ctx, `UPDATE ratings SET comment_sealed = ? WHERE id = ? AND comment_sealed = ?`, sealed, r.id, r.sealed); err != nil {
					return err
				}
				total++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	return total, s.db.Tx(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), Actor: actor, Action: "keys_rotate", Object: "ratings",
			Detail: fmt.Sprintf("评价内容 %d 项改用密钥 %s 加密", total, s.keys.ActiveID())})
	})
}
