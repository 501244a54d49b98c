package casework_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

const (
	idNumber = "11010519491231002X"
	mobile   = "13800000001"
	email    = "zhangsan@example.com"
)

func testKeys(t testing.TB) *pii.Keys {
	t.Helper()
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.ParseKeys(enc, idx)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// personalItem publishes a copy of the fixture's item whose form asks for
// personal data and a number, and gives the service its keys.
func personalItem(t *testing.T, f fixture, db *store.DB) int64 {
	t.Helper()
	f.svc.UseKeys(testKeys(t))
	return variant(t, f, db, "010100100009", func(it *catalog.Item) {
		it.Form = []catalog.FormSection{{Title: "经营者", Fields: []catalog.FormField{
			{Key: "name", Label: "姓名", Type: "text", Required: true},
			{Key: "legal_rep_id", Label: "经营者身份证号码", Type: "idcard", Required: true},
			{Key: "mobile", Label: "联系电话", Type: "mobile", Required: true},
			{Key: "email", Label: "电子邮箱", Type: "email"},
			{Key: "capital", Label: "资金数额（万元）", Type: "number"},
		}}}
	})
}

func personalAnswers() map[string]string {
	return map[string]string{"name": "张三", "legal_rep_id": idNumber, "mobile": mobile, "email": email, "capital": "12.5"}
}

// formData is what the database holds of a case's answers.
func formData(t *testing.T, db *store.DB, id int64) string {
	t.Helper()
	var s string
	if err := db.Read().QueryRow(context.Background(), `SELECT form_data FROM cases WHERE id = ?`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// setForm overwrites a case's stored answers behind the service's back.
func setForm(t *testing.T, db *store.DB, id int64, data string) {
	t.Helper()
	if err := db.Tx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE cases SET form_data = ? WHERE id = ?`, data, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// noPlain fails when the stored answers hold a personal value in clear.
func noPlain(t *testing.T, db *store.DB, id int64, how string) {
	t.Helper()
	data := formData(t, db, id)
	for _, v := range []string{idNumber, mobile, email, "13900000002"} {
		if strings.Contains(data, v) {
			t.Errorf("%s: form_data holds %s in clear: %s", how, v, data)
		}
	}
	if !strings.Contains(data, "110105********002X") || !strings.Contains(data, "张三") {
		t.Errorf("%s: form_data lacks the masked number or the plain name: %s", how, data)
	}
}

// Identity and mobile numbers (and e-mail addresses) in answers are sealed
// at rest on every path that writes a form, shown masked, given in full to
// the applicant and to the clerk typing a counter draft, and kept in full
// in the archive, the legal record.
func TestPersonalAnswersAreSealed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		itemID := personalItem(t, f, db)

		// A draft, then the draft saved again with another number.
		draft, err := f.svc.CreateDraft(ctx, f.citizen, itemID, personalAnswers())
		if err != nil {
			t.Fatal(err)
		}
		noPlain(t, db, draft.ID, "draft")
		if draft.Form["legal_rep_id"] != "110105********002X" || draft.Form["mobile"] != "138****0001" || draft.Form["name"] != "张三" {
			t.Errorf("a new draft shows %v", draft.Form)
		}
		changed := personalAnswers()
		changed["mobile"] = "13900000002"
		if draft, err = f.svc.SaveDraft(ctx, f.citizen, draft.ID, draft.Version, changed); err != nil {
			t.Fatal(err)
		}
		noPlain(t, db, draft.ID, "saved draft")
		if draft.Form["mobile"] != "139****0002" {
			t.Errorf("saved draft shows %v", draft.Form)
		}
		full, err := f.svc.Answers(f.citizen, draft)
		if err != nil || full["mobile"] != "13900000002" || full["legal_rep_id"] != idNumber || full["email"] != email {
			t.Fatalf("the applicant's own answers: %v %v", full, err)
		}

		// The one-request submission.
		applied, err := f.svc.Apply(ctx, f.citizen, itemID, personalAnswers(), []casework.Attachment{{Position: 0, Object: pdf, Filename: "身份证.pdf"}})
		if err != nil {
			t.Fatal(err)
		}
		noPlain(t, db, applied.ID, "submission")

		// Counter intake, and the clerk saving the form typed in.
		counter, err := f.svc.Intake(ctx, f.window, itemID, known(f.citizen), personalAnswers())
		if err != nil {
			t.Fatal(err)
		}
		noPlain(t, db, counter.ID, "intake")
		if counter, err = f.svc.SaveDraft(ctx, f.window, counter.ID, counter.Version, personalAnswers()); err != nil {
			t.Fatal(err)
		}
		noPlain(t, db, counter.ID, "counter form")

		// Read back: masked for everyone; in full only for those who fill it in.
		got, _, err := f.svc.Get(ctx, f.reviewer, applied.ID)
		if err != nil || got.Form["legal_rep_id"] != "110105********002X" || got.Form["email"] != "zh***@example.com" || got.Form["capital"] != "12.5" {
			t.Fatalf("the case as staff read it: %v %v", got.Form, err)
		}
		if _, err := f.svc.Answers(f.reviewer, got); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a reviewer reads the answers in full: %v", err)
		}
		if _, err := f.svc.Answers(f.window, got); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a clerk reads a submitted case's answers in full: %v", err)
		}
		if _, err := f.svc.Answers(f.other, got); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another citizen reads the answers: %v", err)
		}
		if mine, err := f.svc.Answers(f.citizen, got); err != nil || mine["legal_rep_id"] != idNumber {
			t.Errorf("the applicant reads their submitted answers: %v %v", mine, err)
		}
		atCounter, _, _ := f.svc.Get(ctx, f.window, counter.ID)
		if typed, err := f.svc.Answers(f.window, atCounter); err != nil || typed["mobile"] != mobile {
			t.Errorf("the clerk reads the counter draft they type: %v %v", typed, err)
		}

		// A sealed answer copied onto another case does not open there.
		setForm(t, db, counter.ID, formData(t, db, applied.ID))
		moved, _, _ := f.svc.Get(ctx, f.window, counter.ID)
		if _, err := f.svc.Answers(f.window, moved); err == nil {
			t.Error("an answer sealed for one case opened on another")
		}
		// A row written before answers were sealed is read as it is.
		setForm(t, db, counter.ID, `{"name":"张三","legal_rep_id":"`+idNumber+`"}`)
		old, _, _ := f.svc.Get(ctx, f.window, counter.ID)
		if typed, err := f.svc.Answers(f.window, old); err != nil || typed["legal_rep_id"] != idNumber {
			t.Errorf("an older plain row: %v %v", typed, err)
		}

		// The archive holds the answers in full.
		var buf bytes.Buffer
		if _, err := f.svc.Archive(ctx, f.reviewer, testMeta, applied.ID, fakeFiles{}, &buf); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zr.Open("form.json")
		if err != nil {
			t.Fatal(err)
		}
		var form map[string]string
		if err := json.NewDecoder(rc).Decode(&form); err != nil || form["legal_rep_id"] != idNumber || form["mobile"] != mobile {
			t.Errorf("archive form.json: %v %v", form, err)
		}
		rc.Close()
	})
}

// fakeFiles serves any stored file as a small PDF, for archives.
type fakeFiles struct{ filestore.Store }

func (fakeFiles) Open(context.Context, string) (io.ReadCloser, filestore.Object, error) {
	return io.NopCloser(strings.NewReader("%PDF-1.4")), filestore.Object{}, nil
}

// Staff see one personal answer in full only by asking for it with a
// reason, if they may reveal data on the case; each reveal is audited
// with the case and the field, never the value.
// testMeta is where the tests' requests come from.
var testMeta = audit.Meta{IP: "192.0.2.1", Client: "test"}

func TestRevealAnswer(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		itemID := personalItem(t, f, db)
		c, err := f.svc.Apply(ctx, f.citizen, itemID, personalAnswers(), []casework.Attachment{{Position: 0, Object: pdf, Filename: "身份证.pdf"}})
		if err != nil {
			t.Fatal(err)
		}
		audits := func() (n int) {
			db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'reveal'`).Scan(&n)
			return n
		}
		foreignReviewer := f.foreignWin
		foreignReviewer.Roles = []policy.Role{policy.Reviewer}
		for _, tc := range []struct {
			name   string
			who    policy.Subject
			key    string
			reason string
			code   apperr.Code
		}{
			{"no reason", f.reviewer, "legal_rep_id", "  ", apperr.Invalid},
			{"the applicant", f.citizen, "legal_rep_id", "看看", apperr.NotFound},
			{"a window clerk", f.window, "legal_rep_id", "核对", apperr.Forbidden},
			{"another department", foreignReviewer, "legal_rep_id", "核对", apperr.NotFound},
			{"not personal", f.reviewer, "name", "核对", apperr.NotFound},
			{"no such field", f.reviewer, "nothing", "核对", apperr.NotFound},
		} {
			if _, err := f.svc.RevealAnswer(ctx, tc.who, testMeta, c.ID, tc.key, tc.reason); apperr.CodeOf(err) != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		if n := audits(); n != 0 {
			t.Fatalf("refused reveals were audited: %d", n)
		}
		reviewer := f.reviewer
		reviewer.Name = "审批员甲"
		got, err := f.svc.RevealAnswer(ctx, reviewer, testMeta, c.ID, "legal_rep_id", "核对申请人身份")
		if err != nil || got != idNumber {
			t.Fatalf("reveal: %q %v", got, err)
		}
		var actor int64
		var who, object, detail, ip string
		if err := db.Read().QueryRow(ctx, `SELECT actor_id, actor, object, detail, ip FROM audit_log WHERE action = 'reveal'`).Scan(&actor, &who, &object, &detail, &ip); err != nil {
			t.Fatal(err)
		}
		if actor != reviewer.AccountID || who != "审批员甲" || object != "case:"+strconv.FormatInt(c.ID, 10) || ip != testMeta.IP ||
			!strings.Contains(detail, c.Number) || !strings.Contains(detail, "经营者身份证号码") || !strings.Contains(detail, "核对申请人身份") ||
			strings.Contains(detail, idNumber) {
			t.Errorf("audit entry: %d %s %s %q %s", actor, who, object, detail, ip)
		}
		// A supervisor reads the applicant's name in a reason masked.
		if _, err := f.svc.RevealAnswer(ctx, reviewer, testMeta, c.ID, "legal_rep_id", "张三来电核对"); err != nil {
			t.Fatal(err)
		}
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Action: "reveal", Masked: true, Limit: 1})
		if err != nil || len(entries) != 1 || !strings.HasSuffix(entries[0].Detail, "事由：张*来电核对") {
			t.Errorf("masked reveal entry: %+v %v", entries, err)
		}
	})
}

// Number answers are finite decimals within bounds: NaN, infinities,
// exponents and absurd magnitudes are refused with a message at the
// field, and nothing is written.
func TestNumberAnswers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		itemID := personalItem(t, f, db)
		it, err := f.items.Version(ctx, itemID, 1)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		for v, says := range map[string]string{"NaN": "应为数字", "-1e308": "应为数字", "1e308": "应为数字", "Inf": "应为数字", "+Inf": "应为数字",
			"0x10": "应为数字", "1_000": "应为数字", "12.": "应为数字", "-5": "不能为负数", "1000000000001": "不能超过一万亿",
			strings.Repeat("9", 400): "不能超过一万亿"} {
			a := personalAnswers()
			a["capital"] = v
			if _, problems := casework.CheckForm(it, a, now); !strings.Contains(problems["capital"], says) {
				t.Errorf("%.20s: %q, want %q", v, problems["capital"], says)
			}
		}
		for _, v := range []string{"0", "120", "85.5", "1000000000000"} {
			a := personalAnswers()
			a["capital"] = v
			if _, problems := casework.CheckForm(it, a, now); len(problems) != 0 {
				t.Errorf("%s refused: %v", v, problems)
			}
		}
		var before int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&before)
		for _, v := range []string{"NaN", "-1e308"} {
			a := personalAnswers()
			a["capital"] = v
			_, err := f.svc.Apply(ctx, f.citizen, itemID, a, []casework.Attachment{{Position: 0, Object: pdf, Filename: "身份证.pdf"}})
			var e *apperr.Error
			if !apperr.Is(err, apperr.Invalid) || !errors.As(err, &e) || e.Fields["capital"] != "资金数额（万元）应为数字，如 120 或 85.5" {
				t.Errorf("apply with %s: %v", v, err)
			}
		}
		var after int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&after)
		if after != before {
			t.Errorf("refused applications wrote %d cases", after-before)
		}
	})
}
