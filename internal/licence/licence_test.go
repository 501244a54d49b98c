package licence_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/licence"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

type fixture struct {
	db                     *store.DB
	cases                  *casework.Service
	licences               *licence.Service
	keys                   *licence.Keys
	clk                    *clock.Manual
	itemID, laterID        int64
	citizen, other         policy.Subject
	window, reviewer, head policy.Subject
	catalogMgr, foreignMgr policy.Subject
}

var (
	pdf  = filestore.Object{SHA256: strings.Repeat("ab", 32), Size: 1234, ContentType: filestore.TypePDF}
	meta = audit.Meta{IP: "192.0.2.1"}
)

func keys(t testing.TB, setting string) *licence.Keys {
	t.Helper()
	k, err := licence.ParseKeys(setting)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newKey(t testing.TB, id string) string {
	t.Helper()
	k, err := licence.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newFixture: the demo district; the market regulator's 食品经营许可 item
// (with a licence template) and a later item asking for 食品经营许可证 as
// a material; a citizen; the regulator's staff.
func newFixture(t testing.TB, db *store.DB, k *licence.Keys) fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
		t.Fatal(err)
	}
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, clk)
	item := func(code, name string, material string) int64 {
		it := catalog.Item{BaseCode: code, Name: name, Type: catalog.Licensing, Department: "scjgj",
			Basis: "《中华人民共和国食品安全法》", Subjects: []string{"自然人"}, CaseKind: catalog.Promised,
			LegalLimit: catalog.TimeLimit{Value: 20, Unit: "工作日"}, PromiseLimit: catalog.TimeLimit{Value: 5, Unit: "工作日"},
			Depth: catalog.DepthFull, Conditions: "具有与经营的食品品种相适应的场所。", Steps: []catalog.Step{{Name: "申请", Description: "网上提交"}},
			Result: catalog.Result{Name: "决定书", Type: "批文"}, ConsultPhone: "0375-8861002", ComplaintPhone: "12345",
			Materials: []catalog.Material{{Name: material, Necessity: "必需", Form: "电子", Copies: 1, Source: "申请人自备", Standard: "真实"}},
			Form: []catalog.FormSection{{Title: "经营者", Fields: []catalog.FormField{
				{Key: "name", Label: "姓名", Type: "text", Required: true},
				{Key: "premises", Label: "经营场所", Type: "text", Required: true}}}}}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return items.Load(ctx, tx, &it, "测试") }); err != nil {
			t.Fatal(err)
		}
		return it.ID
	}
	scjg, _ := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
	mzj, _ := regions.DepartmentBySlug(ctx, db.Read(), "mzj")
	n := 0
	staff := func(d region.Department, roles ...policy.Role) policy.Subject {
		var id int64
		n++
		now := time.Now()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at)
				VALUES ('staff', ?, ?, ?, ?, ?) RETURNING id`, fmt.Sprintf("工作人员%d", n), fmt.Sprintf("s%d", n), d.ID, now, now).Scan(&id); err != nil {
				return err
			}
			for _, r := range roles {
				if _, err := tx.Exec(ctx, `INSERT INTO staff_roles (account_id, role) VALUES (?, ?)`, id, r); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return policy.Subject{AccountID: id, Name: fmt.Sprintf("工作人员%d", n), Kind: policy.Staff, DepartmentID: d.ID, DepartmentKind: string(d.Kind),
			RegionCode: d.RegionCode, Roles: roles}
	}
	person := func(name string) policy.Subject {
		var id int64
		now := time.Now()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, mobile_masked, created_at, updated_at) VALUES ('person', ?, '138****5678', ?, ?) RETURNING id`,
				name, now, now).Scan(&id)
		}); err != nil {
			t.Fatal(err)
		}
		return policy.Subject{AccountID: id, Kind: policy.Person, Name: name}
	}
	cases := casework.New(db, items, clk, calendar.New(nil))
	// The holder as identity.Known reads it; the 身份证号码 is the
	// test's, personal data is identity's to keep.
	holder := func(ctx context.Context, q store.Querier, account, enterprise int64) (licence.Holder, error) {
		var h licence.Holder
		h.IDNumber = "410402199001011237"
		return h, q.QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, account).Scan(&h.Name)
	}
	lic := licence.New(db, licence.Options{Clock: clk, Catalog: items, Keys: k, Holder: holder, PublicURL: "https://zwfw.example.gov.cn"})
	cases.OnFinished(lic.Issue)
	cases.OnOffers(lic.Offers)
	f := fixture{db: db, cases: cases, licences: lic, keys: k, clk: clk,
		itemID: item("010100100011", "食品经营许可", "经营场所证明"), laterID: item("010100100012", "食品经营许可变更", "食品经营许可证"),
		citizen: person("张三"), other: person("李四"),
		window: staff(scjg, policy.Window), reviewer: staff(scjg, policy.Reviewer), head: staff(scjg, policy.Head),
		catalogMgr: staff(scjg, policy.CatalogManager), foreignMgr: staff(mzj, policy.CatalogManager)}
	if err := lic.SaveTemplate(ctx, f.catalogMgr, meta, licence.Template{ItemID: f.itemID, TypeName: "食品经营许可证",
		NumberFormat: "JY{year}{seq}", ValidYears: 5, Fields: []licence.FieldMap{{Label: "经营场所", Key: "premises"}}}); err != nil {
		t.Fatal(err)
	}
	return f
}

// decided takes a case of the citizen's to 办结 with approve's decision.
func decided(t testing.TB, f fixture, approve bool) casework.Case {
	t.Helper()
	ctx := context.Background()
	c, err := f.cases.Apply(ctx, f.citizen, f.itemID, map[string]string{"name": "张三", "premises": "湛河区开源路 8 号"},
		[]casework.Attachment{{Position: 0, Object: pdf, Filename: "场所证明.pdf"}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []func(casework.Case) (casework.Case, error){
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Act(ctx, f.window, c.ID, c.Version, casework.Accept, "")
		},
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Act(ctx, f.reviewer, c.ID, c.Version, casework.Review, "材料齐全")
		},
		func(c casework.Case) (casework.Case, error) {
			return f.cases.Decide(ctx, f.head, c.ID, c.Version, approve, "依法决定", "")
		},
		func(c casework.Case) (casework.Case, error) {
			if !approve {
				return f.cases.Complete(ctx, f.window, c.ID, c.Version, filestore.Object{}, "")
			}
			return f.cases.Complete(ctx, f.window, c.ID, c.Version, pdf, "决定书.pdf")
		},
	}
	for _, step := range steps {
		if c, err = step(c); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Completing an approved case issues its licence, signed, in the
// citizen's 证照夹; a denied case and a refused one issue none.
func TestCompletedCaseIssuesSignedLicence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, keys(t, newKey(t, "l1")))
		decided(t, f, false)
		c, err := f.cases.Apply(ctx, f.citizen, f.itemID, map[string]string{"name": "张三", "premises": "某地"},
			[]casework.Attachment{{Position: 0, Object: pdf, Filename: "场所证明.pdf"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.cases.Act(ctx, f.window, c.ID, c.Version, casework.Refuse, "不属于本部门职权范围"); err != nil {
			t.Fatal(err)
		}
		if mine, err := f.licences.Mine(ctx, f.citizen); err != nil || len(mine) != 0 {
			t.Fatalf("a denied or refused case issued a licence: %+v %v", mine, err)
		}
		c = decided(t, f, true)
		mine, err := f.licences.Mine(ctx, f.citizen)
		if err != nil || len(mine) != 1 {
			t.Fatalf("证照夹: %+v %v", mine, err)
		}
		l := mine[0]
		d := l.Data
		if d.Number != "JY2026000001" || d.Type != "食品经营许可证" || d.Holder != "张三" || d.HolderID != "410402********1237" ||
			d.IDKind != "身份证号码" || d.Issuer != "平顶山市湛河区市场监督管理局" || d.Issued != "2026-11-25" || d.Until != "2031-11-24" ||
			d.Case != c.Number || len(d.Fields) != 1 || d.Fields[0] != (licence.Field{Label: "经营场所", Value: "湛河区开源路 8 号"}) || d.KeyID != "l1" {
			t.Fatalf("licence data: %+v", d)
		}
		v, err := f.licences.Verify(ctx, l.Token)
		if err != nil || !v.Valid || v.Status() != "有效" || !v.Known || v.Data.Number != d.Number {
			t.Fatalf("verification: %+v %v", v, err)
		}
		if _, err := f.licences.Get(ctx, f.other, l.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another person reads the licence: %v", err)
		}
		// The next one counts on.
		decided(t, f, true)
		if mine, _ := f.licences.Mine(ctx, f.citizen); len(mine) != 2 || mine[0].Number != "JY2026000002" {
			t.Fatalf("second licence: %+v", mine)
		}
	})
}

// One byte changed anywhere in the token, an unknown key id, expiry and
// revocation each make the licence invalid; rotation keeps the old valid.
func TestVerificationRefusesTamperedUnknownExpiredAndRevoked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		old := newKey(t, "l1")
		f := newFixture(t, db, keys(t, old))
		decided(t, f, true)
		mine, _ := f.licences.Mine(ctx, f.citizen)
		l := mine[0]
		body, sig, _ := strings.Cut(l.Token, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(body)
		// A byte of the data changed (the holder's name), re-encoded.
		changed := strings.Replace(string(raw), "张三", "张四", 1)
		tampered := base64.RawURLEncoding.EncodeToString([]byte(changed)) + "." + sig
		for name, token := range map[string]string{
			"data changed":      tampered,
			"signature changed": body + "." + flip(sig),
			"token cut":         l.Token[:len(l.Token)-3],
			// The last character's unused bits: the same bytes to a lax
			// decoder, another token for the revocation list.
			"padding bits changed": body + "." + sig[:len(sig)-1] + string(alphabet[strings.IndexByte(alphabet, sig[len(sig)-1])^1]),
			"not a token":          "hello",
		} {
			v, err := f.licences.Verify(ctx, token)
			if err != nil || v.Valid || v.Problem == "" || v.Status() != "无效" {
				t.Errorf("%s: %+v %v", name, v, err)
			}
		}
		if v, _ := f.licences.Verify(ctx, tampered); v.Problem != apperr.MessageOf(licence.ErrSignature) {
			t.Errorf("tampered: %q", v.Problem)
		}
		// Signed by a key the platform does not know.
		stranger := keys(t, newKey(t, "x9"))
		d := l.Data
		foreign := stranger.Sign(&d)
		if v, _ := f.licences.Verify(ctx, foreign); v.Valid || v.Problem != apperr.MessageOf(licence.ErrUnknownKey) {
			t.Errorf("unknown key: %+v", v)
		}
		// Same id, other key: the signature fails.
		impostor := keys(t, newKey(t, "l1"))
		if v, _ := f.licences.Verify(ctx, impostor.Sign(&d)); v.Valid || v.Problem != apperr.MessageOf(licence.ErrSignature) {
			t.Errorf("impostor key: %+v", v)
		}
		// Rotation: a new key signs, the old one still verifies.
		rotated := keys(t, newKey(t, "l2")+","+old)
		f2 := licence.New(db, licence.Options{Clock: f.clk, Keys: rotated})
		if v, err := f2.Verify(ctx, l.Token); err != nil || !v.Valid {
			t.Fatalf("old licence after rotation: %+v %v", v, err)
		}
		d2 := l.Data
		if tok := rotated.Sign(&d2); d2.KeyID != "l2" || !strings.Contains(tok, ".") {
			t.Fatalf("new key signs: %+v", d2)
		}
		// Expired after five years.
		f.clk.Set(time.Date(2031, 11, 25, 9, 0, 0, 0, clock.China))
		if v, _ := f.licences.Verify(ctx, l.Token); v.Valid || !strings.Contains(v.Problem, "有效期") {
			t.Errorf("expired: %+v", v)
		}
		f.clk.Set(time.Date(2026, 11, 26, 9, 0, 0, 0, clock.China))
		// Revoked by the issuing department's head, with a reason; not
		// by others.
		if err := f.licences.Revoke(ctx, f.window, meta, l.ID, licence.Revoked, "违法经营"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("window revokes: %v", err)
		}
		if err := f.licences.Revoke(ctx, f.citizen, meta, l.ID, licence.Revoked, "违法经营"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("holder revokes: %v", err)
		}
		if err := f.licences.Revoke(ctx, f.head, meta, l.ID, licence.Revoked, " "); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("no reason: %v", err)
		}
		if err := f.licences.Revoke(ctx, f.head, meta, l.ID, licence.Revoked, "超范围经营，依法吊销"); err != nil {
			t.Fatal(err)
		}
		if err := f.licences.Revoke(ctx, f.head, meta, l.ID, licence.Cancelled, "again"); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("revoked twice: %v", err)
		}
		v, err := f.licences.Verify(ctx, l.Token)
		if err != nil || v.Valid || v.Status() != "已吊销" || v.RevokedOn != "2026-11-26" || !strings.Contains(v.Problem, "已吊销") {
			t.Fatalf("revoked: %+v %v", v, err)
		}
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Action: "licence_revoke"})
		if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Detail, "超范围经营") {
			t.Fatalf("audit: %+v %v", entries, err)
		}
	})
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func flip(s string) string {
	b := []byte(s)
	if b[3] == 'A' {
		b[3] = 'B'
	} else {
		b[3] = 'A'
	}
	return string(b)
}

// The downloaded file verifies; one byte changed in its readable part,
// or in its token, does not.
func TestFileVerifies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, keys(t, newKey(t, "l1")))
		decided(t, f, true)
		mine, _ := f.licences.Mine(ctx, f.citizen)
		b, err := f.licences.FileOf(mine[0])
		if err != nil {
			t.Fatal(err)
		}
		token, err := licence.ReadFile(b)
		if err != nil || token != mine[0].Token {
			t.Fatalf("file: %v", err)
		}
		changed := strings.Replace(string(b), "开源路", "开元路", 1)
		if _, err := licence.ReadFile([]byte(changed)); err == nil {
			t.Fatal("a changed file reads")
		}
	})
}

// Templates are their item's department's catalog managers', checked
// and audited.
func TestTemplates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, keys(t, newKey(t, "l1")))
		good := licence.Template{ItemID: f.itemID, TypeName: "食品经营许可证", NumberFormat: "JY{seq}", ValidYears: 5}
		if err := f.licences.SaveTemplate(ctx, f.foreignMgr, meta, good); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("another department's manager: %v", err)
		}
		for _, bad := range []licence.Template{
			{ItemID: f.itemID, TypeName: "", NumberFormat: "JY{seq}"},
			{ItemID: f.itemID, TypeName: "许可证", NumberFormat: "JY"},
			{ItemID: f.itemID, TypeName: "许可证", NumberFormat: "JY{seq}", ValidYears: -1},
			{ItemID: f.itemID, TypeName: "许可证", NumberFormat: "JY{seq}", Fields: []licence.FieldMap{{Label: "场所", Key: "nope"}}},
		} {
			if err := f.licences.SaveTemplate(ctx, f.catalogMgr, meta, bad); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		if t1, _, _ := f.licences.Template(ctx, f.itemID); t1.NumberFormat != "JY{year}{seq}" {
			t.Fatalf("a refused template changed it: %+v", t1)
		}
		if err := f.licences.SaveTemplate(ctx, f.catalogMgr, meta, good); err != nil {
			t.Fatal(err)
		}
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Action: "licence_template"})
		if err != nil || len(entries) != 2 {
			t.Fatalf("audit: %+v %v", entries, err)
		}
	})
}

// 免提交: a later application offers the valid licence for the material
// of its type, and attaching it records the reuse; a revoked one is not
// offered.
func TestLicenceReusedAsMaterial(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, keys(t, newKey(t, "l1")))
		first := decided(t, f, true)
		draft, err := f.cases.CreateDraft(ctx, f.citizen, f.laterID, map[string]string{"name": "张三", "premises": "某地"})
		if err != nil {
			t.Fatal(err)
		}
		offers, err := f.cases.Reusable(ctx, f.citizen, draft.ID, "食品经营许可证")
		if err != nil || len(offers) != 1 || offers[0].CaseID != first.ID || offers[0].Position != casework.OfferedPosition {
			t.Fatalf("offers: %+v %v", offers, err)
		}
		if other, _ := f.cases.Reusable(ctx, f.other, draft.ID, "食品经营许可证"); len(other) != 0 {
			t.Fatalf("offered to another person: %+v", other)
		}
		m, err := f.cases.MaterialOf(ctx, f.citizen, first.ID, casework.OfferedPosition)
		if err != nil || m.SHA256 != offers[0].SHA256 {
			t.Fatalf("material of: %+v %v", m, err)
		}
		obj := filestore.Object{SHA256: m.SHA256, Size: m.Size, ContentType: m.ContentType}
		// Another's case cannot be named as its source.
		other := filestore.Object{SHA256: strings.Repeat("cd", 32), Size: 99, ContentType: filestore.TypePDF}
		if _, err := f.cases.Attach(ctx, f.citizen, draft.ID, draft.Version, 0, other, "x.pdf", first.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a file not offered: %v", err)
		}
		c, err := f.cases.Attach(ctx, f.citizen, draft.ID, draft.Version, 0, obj, m.Filename, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		mats, err := f.cases.MaterialsOf(ctx, f.citizen, c.ID)
		if err != nil || len(mats) != 1 || mats[0].ReusedFrom != first.ID || mats[0].SHA256 != m.SHA256 {
			t.Fatalf("materials: %+v %v", mats, err)
		}
		mine, _ := f.licences.Mine(ctx, f.citizen)
		if err := f.licences.Revoke(ctx, f.head, meta, mine[0].ID, licence.Cancelled, "申请人申请注销"); err != nil {
			t.Fatal(err)
		}
		if offers, _ := f.cases.Reusable(ctx, f.citizen, draft.ID, "食品经营许可证"); len(offers) != 0 {
			t.Fatalf("a cancelled licence is offered: %+v", offers)
		}
	})
}
