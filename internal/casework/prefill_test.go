package casework_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// accountKnown reads the applicant's name from their account, in the
// query's transaction, and gives fixed numbers: identity.Known does the
// same with the sealed ones (tested in internal/identity and internal/web).
func accountKnown(ctx context.Context, q store.Querier, account, enterprise int64) (casework.Known, error) {
	k := casework.Known{IDNumber: "11010519491231002X", Mobile: "13800000001"}
	if enterprise != 0 {
		k.OrgName, k.CreditCode = "张三商贸有限公司", "91350100M000100Y43"
	}
	return k, q.QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, account).Scan(&k.Name)
}

func prefillItem(t *testing.T, f fixture, db *store.DB) int64 {
	f.svc.UseKeys(testKeys(t))
	f.svc.UseKnown(accountKnown)
	return variant(t, f, db, "010100100011", func(it *catalog.Item) {
		it.Form = []catalog.FormSection{{Title: "申请人", Fields: []catalog.FormField{
			{Key: "applicant_name", Label: "申请人姓名", Type: "text", Required: true},
			{Key: "id_number", Label: "公民身份号码", Type: "idcard", Required: true},
			{Key: "mobile", Label: "联系电话", Type: "mobile", Required: true},
			{Key: "student_id", Label: "学生身份证号", Type: "idcard"},
			{Key: "address", Label: "现住址", Type: "text", Required: true},
			{Key: "org_name", Label: "单位名称", Type: "text"},
			{Key: "credit_code", Label: "统一社会信用代码", Type: "creditcode"},
		}}}
	})
}

// A citizen's form starts with their name and numbers; the name and the
// identity number stay the account's whatever is sent, the mobile number
// is theirs to change; other people's fields are left alone.
func TestFormsStartWithTheAccount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := prefillItem(t, f, db)
		it, _, err := f.items.Published(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		start, fixed, err := f.svc.Prefill(ctx, f.citizen, it)
		if err != nil {
			t.Fatal(err)
		}
		if start["applicant_name"] != "张三" || start["id_number"] != "11010519491231002X" || start["mobile"] != "13800000001" || start["student_id"] != "" {
			t.Fatalf("the form starts with %v", start)
		}
		if !fixed["applicant_name"] || !fixed["id_number"] || fixed["mobile"] || fixed["student_id"] {
			t.Fatalf("fixed: %v", fixed)
		}
		c, err := f.svc.CreateDraft(ctx, f.citizen, id, map[string]string{"applicant_name": "李四", "address": "开源路88号"})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.Answers(f.citizen, c)
		if got["applicant_name"] != "张三" || got["id_number"] != "11010519491231002X" || got["mobile"] != "13800000001" || got["address"] != "开源路88号" {
			t.Fatalf("the new draft holds %v", got)
		}
		c, err = f.svc.SaveDraft(ctx, f.citizen, c.ID, c.Version, map[string]string{"applicant_name": "李四", "id_number": "110105194912310021",
			"mobile": "13900000002", "student_id": "11010519491231002X", "address": "开源路88号"})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = f.svc.Answers(f.citizen, c)
		if got["applicant_name"] != "张三" || got["id_number"] != "11010519491231002X" || got["mobile"] != "13900000002" || got["student_id"] != "11010519491231002X" {
			t.Fatalf("after a save the draft holds %v", got)
		}
		if fixed["org_name"] || fixed["credit_code"] {
			t.Fatalf("not acting for an enterprise, its fields are fixed: %v", fixed)
		}
		// Acting for an enterprise, its name and credit code are fixed too.
		acting := f.citizen
		acting.ActingFor = 7
		start, fixed, err = f.svc.Prefill(ctx, acting, it)
		if err != nil || start["org_name"] != "张三商贸有限公司" || start["credit_code"] != "91350100M000100Y43" || !fixed["org_name"] || !fixed["credit_code"] {
			t.Fatalf("acting for an enterprise: %v %v %v", start, fixed, err)
		}
	})
}

// At the counter the clerk types the applicant's name and numbers once,
// at intake: the form starts with them, and the clerk cannot change the
// name or the identity number afterwards.
func TestCounterFormStartsWithTheApplicant(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := prefillItem(t, f, db)
		c, err := f.svc.Intake(ctx, f.window, id, known(f.citizen), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Answers(f.window, c)
		if err != nil || got["applicant_name"] != "张三" || got["id_number"] != "11010519491231002X" || got["mobile"] != "13800000001" {
			t.Fatalf("the counter form starts with %v, %v", got, err)
		}
		if c, err = f.svc.SaveDraft(ctx, f.window, c.ID, c.Version, map[string]string{"applicant_name": "王五", "address": "曹镇村"}); err != nil {
			t.Fatal(err)
		}
		if got, _ = f.svc.Answers(f.window, c); got["applicant_name"] != "张三" || got["address"] != "曹镇村" {
			t.Fatalf("after the clerk's save: %v", got)
		}
	})
}

// Submitting at the counter prints a 收件回执: numbered like every notice,
// naming the applicant, the item, the case and the papers taken in, and
// hashed into the case's state. Online submissions have none.
func TestCounterSubmissionIssuesAReceipt(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		keys, err := chainhash.Parse("a1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
		if err != nil {
			t.Fatal(err)
		}
		db.SetChainKeys(keys)
		c, err := f.svc.Intake(ctx, f.window, f.itemID, known(f.citizen), map[string]string{"name": "张三"})
		if err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Attach(ctx, f.window, c.ID, c.Version, 0, pdf, "扫描件.pdf", 0); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Submit, ""); err != nil {
			t.Fatal(err)
		}
		_, docs, err := f.svc.Papers(ctx, f.citizen, c.ID)
		if err != nil || len(docs) != 1 {
			t.Fatalf("documents %+v, %v", docs, err)
		}
		d := docs[0]
		if d.Kind != "receipt" || d.Title != "收件回执" || !strings.Contains(d.Number, "收字〔2026〕1号") {
			t.Fatalf("the receipt: %+v", d)
		}
		l := d.Layout()
		fields := map[string]string{}
		for _, fl := range l.Fields {
			fields[fl.Label] = fl.Value
		}
		if fields["申请人"] != "张三" || fields["申请事项"] != "个体工商户设立登记" || fields["办件编号"] != c.Number ||
			fields["收件日期"] != "2026年11月25日" || fields["收到材料"] != "身份证明" || l.Issuer == "" {
			t.Fatalf("the receipt reads %+v", l)
		}
		// The receipt is part of the case's hashed state: changed, it is caught.
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE case_documents SET body = REPLACE(body, '身份证明', '身份证明、营业执照') WHERE id = ?`, d.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, broken, err := casework.VerifyChains(ctx, db, keys); err != nil || len(broken) != 1 {
			t.Errorf("a changed receipt: broken %+v, %v", broken, err)
		}
		online := submitted(t, f, f.itemID)
		if _, docs, _ := f.svc.Papers(ctx, f.citizen, online.ID); len(docs) != 0 {
			t.Errorf("an online submission has documents %+v", docs)
		}
	})
}
