package casework_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Key rotation: answers sealed under key 1 are sealed again under key 2
// once it is current; then key 1 can go and every answer still opens, the
// submitted case's chain commits to its new answers, and a second run has
// nothing left to do.
func TestResealAnswers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		itemID := personalItem(t, f, db)
		old, idx, err := pii.GenerateKeys()
		if err != nil {
			t.Fatal(err)
		}
		newKey, err := pii.GenerateEncryptionKey()
		if err != nil {
			t.Fatal(err)
		}
		parse := func(enc string) *pii.Keys {
			k, err := pii.ParseKeys(enc, idx)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		f.svc.UseKeys(parse(old))
		draft, err := f.svc.CreateDraft(ctx, f.citizen, itemID, personalAnswers())
		if err != nil {
			t.Fatal(err)
		}
		applied, err := f.svc.Apply(ctx, f.citizen, itemID, personalAnswers(), []casework.Attachment{{Position: 0, Object: pdf, Filename: "身份证.pdf"}})
		if err != nil {
			t.Fatal(err)
		}
		rotating := parse(newKey + "," + old)
		f.svc.UseKeys(rotating)
		n, err := f.svc.ResealAnswers(ctx, 1, "命令行更换密钥")
		if err != nil || n != 6 { // three personal answers in each case
			t.Fatalf("resealed %d, %v; want 6", n, err)
		}
		if n, err := f.svc.ResealAnswers(ctx, 1, "命令行更换密钥"); err != nil || n != 0 {
			t.Fatalf("a second run resealed %d, %v", n, err)
		}
		f.svc.UseKeys(parse(newKey))
		for _, id := range []int64{draft.ID, applied.ID} {
			if data := formData(t, db, id); strings.Contains(data, "v1."+parse(old).ActiveID()+".") {
				t.Errorf("case %d still holds a value under the old key: %s", id, data)
			}
			c, events, err := f.svc.Get(ctx, f.citizen, id)
			if err != nil {
				t.Fatal(err)
			}
			full, err := f.svc.Answers(f.citizen, c)
			if err != nil || full["legal_rep_id"] != idNumber || full["mobile"] != mobile || full["email"] != email || c.Form["mobile"] != "138****0001" {
				t.Fatalf("case %d under the new key alone: %v %v (shown %v)", id, full, err, c.Form)
			}
			if last := events[len(events)-1]; (id == applied.ID) != (last.Action == casework.Reseal) {
				t.Errorf("case %d: last event %s", id, last.Action)
			}
		}
		if n, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys()); err != nil || n != 2 || len(broken) != 0 {
			t.Fatalf("chains after rotation: %d %+v %v", n, broken, err)
		}
		var entries int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'keys_rotate' AND object = 'cases'`).Scan(&entries)
		if entries != 2 {
			t.Errorf("%d audit entries for two runs", entries)
		}
	})
}
