package hall_test

import (
	"context"
	"strings"
	"testing"
	"unicode"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The kiosk takes a booking number or an ID number from anyone in the
// hall. On the real store (SQLite: each worker seeds the demo district
// once), a refusal is a Chinese sentence and writes no ticket; a number
// is given only for a valid ID number, in the hall's own group, as one
// new ticket.
func FuzzKiosk(f *testing.F) {
	f.Add("12345 67890", "11010519491231002X", uint8(0), uint8(0))
	f.Add("", "11010519491231002x", uint8(0), uint8(1))
	f.Add("0000000000", "410411199001011237", uint8(1), uint8(2))
	f.Add("１２３", "110105491231002", uint8(2), uint8(3))
	f.Add("2026091800", "", uint8(3), uint8(0))
	db := storetest.SQLite(f)
	fx := setup(f, db)
	fx.clk.Set(at(18, 10, 0))
	ctx := context.Background()
	groups := []int64{fx.group.ID, fx.other.ID, 0, 1 << 40}
	items := []int64{fx.items[0], fx.items[1], 0, -1}
	tickets := func(t *testing.T) int {
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM hall_tickets`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	refused := func(t *testing.T, err error, before int) {
		switch apperr.CodeOf(err) {
		case apperr.Invalid, apperr.NotFound, apperr.Conflict:
		default:
			t.Fatalf("refused with %v", err)
		}
		if !hasHan(apperr.MessageOf(err)) {
			t.Fatalf("refused without a Chinese reason: %v", err)
		}
		if n := tickets(t); n != before {
			t.Fatalf("a refusal wrote %d tickets", n-before)
		}
	}
	f.Fuzz(func(t *testing.T, booking, idNumber string, group, item uint8) {
		before := tickets(t)
		// As the kiosk's page reads it: blanks typed between digits go.
		_, err := fx.svc.CheckIn(ctx, fx.center.ID, strings.Join(strings.Fields(booking), ""))
		if err == nil {
			t.Fatalf("checked in %q, and nobody booked", booking)
		}
		refused(t, err, before)
		g := groups[int(group)%len(groups)]
		tk, err := fx.svc.TakeNumber(ctx, fx.center.ID, g, idNumber, items[int(item)%len(items)])
		if err != nil {
			refused(t, err, before)
			return
		}
		card, cerr := ident.ParseIDCard(idNumber, fx.clk.Now())
		switch {
		case cerr != nil:
			t.Fatalf("a number for the ID number %q: %v", idNumber, cerr)
		case g != fx.group.ID || tk.GroupID != g || !strings.HasPrefix(tk.Number, "A"):
			t.Fatalf("group %d gave %+v", g, tk)
		case tk.IDMasked != ident.MaskIDCard(card.Number):
			t.Fatalf("ID number %q shown as %q", idNumber, tk.IDMasked)
		case tickets(t) != before+1:
			t.Fatalf("one number, %d tickets written", tickets(t)-before)
		}
	})
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
