package identity

import (
	"context"
	"fmt"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/store"
)

// sealedColumns are the accounts' columns that hold sealed values, with
// their contexts. An empty value (or NULL) holds nothing.
var sealedColumns = [...]struct{ column, context string }{
	{"id_number_sealed", ctxIDNumber}, {"mobile_sealed", ctxMobile}, {"email_sealed", ctxEmail}, {"totp_sealed", ctxTOTP},
}

// ResealAccounts seals again, under the active key, every account's
// personal data sealed under another (pii.Keys.NeedsRotation), batch
// accounts to a transaction, and records the pass in the audit log as
// actor. It is idempotent and may be stopped and run again: a value
// already under the active key is left alone, and one changed meanwhile
// (each is compared before it is replaced) is left for the next run. The
// blind indexes do not change: their key never rotates. It returns the
// number of values sealed again.
func (s *Service) ResealAccounts(ctx context.Context, batch int, actor string) (int, error) {
	keys := s.opt.Keys
	total := 0
	for after := int64(0); ; {
		rows, err := s.db.Read().Query(ctx, `SELECT id, COALESCE(id_number_sealed, ''), COALESCE(mobile_sealed, ''), email_sealed, totp_sealed
			FROM accounts WHERE id > ? ORDER BY id LIMIT ?`, after, batch)
		if err != nil {
			return total, err
		}
		type row struct {
			id     int64
			sealed [len(sealedColumns)]string
		}
		var list []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.sealed[0], &r.sealed[1], &r.sealed[2], &r.sealed[3]); err != nil {
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
				for i, col := range sealedColumns {
					old := r.sealed[i]
					if old == "" || !keys.NeedsRotation(old) {
						continue
					}
					sealed, _, err := keys.Reseal(old, col.context)
					if err != nil {
						return fmt.Errorf("account %d: %s: %w", r.id, col.column, err)
					}
					res, err := tx.Exec(ctx, `UPDATE accounts SET `+col.column+` = ? WHERE id = ? AND `+col.column+` = ?`, sealed, r.id, old)
					if err != nil {
						return err
					}
					if n, err := res.RowsAffected(); err == nil && n == 1 {
						total++
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
		return audit.Append(ctx, tx, audit.Entry{At: s.opt.Clock.Now(), Actor: actor, Action: "keys_rotate", Object: "accounts",
			Detail: fmt.Sprintf("账户中 %d 项个人信息改用密钥 %s 加密", total, keys.ActiveID())})
	})
}
