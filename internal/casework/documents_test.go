package casework_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

var isoDate = regexp.MustCompile(`\d{4}-\d{1,2}-\d{1,2}`)

const issuer = "平顶山市湛河区市场监督管理局"

// officialDocument checks what every notice has as GB/T 9704 writes it:
// the issuer (署名) and under it the date in Chinese (成文日期), no ISO
// date anywhere, and the addressee first.
func officialDocument(t *testing.T, d casework.Document, to, day string) casework.Layout {
	t.Helper()
	if isoDate.MatchString(d.Body) {
		t.Errorf("%s has an ISO date: %s", d.Title, d.Body)
	}
	if !strings.HasSuffix(d.Body, "\n\n"+issuer+"\n"+day) {
		t.Errorf("%s does not end with the 署名 and the Chinese date under it: %s", d.Title, d.Body)
	}
	l := d.Layout()
	if l.Issuer != issuer || l.Date != day {
		t.Errorf("%s: 署名 %q, 成文日期 %q", d.Title, l.Issuer, l.Date)
	}
	if d.Kind != "delivery" && l.Addressee != to+"：" {
		t.Errorf("%s addressed to %q, want %q", d.Title, l.Addressee, to+"：")
	}
	if !regexp.MustCompile(`^区市场监管局[^〔]+字〔2026〕[1-9]\d*号$`).MatchString(d.Number) {
		t.Errorf("%s number %q", d.Title, d.Number)
	}
	return l
}

func lastDocument(t *testing.T, db *store.DB, caseID int64) casework.Document {
	t.Helper()
	docs, err := casework.Documents(context.Background(), db.Read(), caseID)
	if err != nil || len(docs) == 0 {
		t.Fatalf("documents: %d, %v", len(docs), err)
	}
	return docs[len(docs)-1]
}

// The 补正材料通知书 gives the date to correct by and whom to ask; the 受理
// 通知书 the due date in Chinese; the 决定书 its reason apart from the
// decision and the way to appeal (复议 and 诉讼, with their bodies and
// limits). All are laid out as official documents.
func TestNoticesReadAsOfficialDocuments(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db) // Wednesday 2026-11-25
		c := submitted(t, f, f.itemID)
		var err error
		if c, err = f.svc.AskCorrection(ctx, f.window, c.ID, c.Version, "缺少经营场所证明", []int{0}); err != nil {
			t.Fatal(err)
		}
		d := lastDocument(t, db, c.ID)
		officialDocument(t, d, "张三", "2026年11月25日")
		// Fifteen working days after Wednesday 11/25: Wednesday 12/16.
		for _, want := range []string{"缺少经营场所证明", "请于2026年12月16日前（自本通知书出具之日起15个工作日内）补正", "联系电话：0375-8861002", "地址：平顶山市湛河区开源路南段88号"} {
			if !strings.Contains(d.Body, want) {
				t.Errorf("补正材料通知书 lacks %q: %s", want, d.Body)
			}
		}
		// The notice lists the material it names, before the reason.
		if !strings.Contains(d.Body, "1. 身份证明") {
			t.Errorf("补正材料通知书 does not name the material: %s", d.Body)
		}
		clearer := filestore.Object{SHA256: strings.Repeat("ef", 32), Size: 2000, ContentType: filestore.TypePDF}
		if c, err = f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, clearer, "身份证（清晰）.pdf", 0); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Resubmit, ""); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
		if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); err != nil {
			t.Fatal(err)
		}
		d = lastDocument(t, db, c.ID)
		officialDocument(t, d, "张三", "2026年11月26日")
		if !strings.Contains(d.Body, "本机关将于2026年12月1日前（自受理之日起3个工作日内）作出处理决定") {
			t.Errorf("受理通知书: %s", d.Body)
		}
		// A decision whose "reason" only restates it: the 决定书 gives the
		// reason the law gives an approval, not the restatement.
		if c, err = f.svc.Decide(ctx, f.head, c.ID, reviewed(t, f, c).Version, true, "准予登记", ""); err != nil {
			t.Fatal(err)
		}
		d = lastDocument(t, db, c.ID)
		l := officialDocument(t, d, "张三", "2026年11月26日")
		if d.Title != "准予行政许可决定书" || strings.Contains(d.Body, "准予登记") {
			t.Errorf("决定书 %s repeats the decision as its reason: %s", d.Title, d.Body)
		}
		decision(t, l, "申请符合法定条件、标准", "本机关决定：准予个体工商户设立登记")

		// A denial must say why, and says it apart from the decision.
		c = submitted(t, f, f.itemID)
		if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); err != nil {
			t.Fatal(err)
		}
		c = reviewed(t, f, c)
		if _, err := f.svc.Decide(ctx, f.head, c.ID, c.Version, false, "不予。", ""); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "具体理由") {
			t.Fatalf("a denial without a reason: %v", err)
		}
		if c, err = f.svc.Decide(ctx, f.head, c.ID, c.Version, false, "经营场所位于住宅，不符合规定", ""); err != nil {
			t.Fatal(err)
		}
		d = lastDocument(t, db, c.ID)
		l = officialDocument(t, d, "张三", "2026年11月26日")
		if d.Title != "不予行政许可决定书" {
			t.Errorf("title %s", d.Title)
		}
		decision(t, l, "经营场所位于住宅，不符合规定。", "本机关决定：不予个体工商户设立登记")

		// 不予受理 names the same route of appeal.
		c = submitted(t, f, f.itemID)
		if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Refuse, "申请事项不属于本机关职权范围"); err != nil {
			t.Fatal(err)
		}
		d = lastDocument(t, db, c.ID)
		officialDocument(t, d, "张三", "2026年11月26日")
		if !strings.Contains(d.Body, "可以自收到本通知书之日起六十日内向平顶山市湛河区人民政府申请行政复议，也可以自收到本通知书之日起六个月内依法向人民法院提起行政诉讼") {
			t.Errorf("不予受理通知书: %s", d.Body)
		}
	})
}

// decision checks a 决定书's paragraphs: the reason in one, the decision
// in a later one, then the route of appeal.
func decision(t *testing.T, l casework.Layout, reason, decided string) {
	t.Helper()
	at := func(s string) int {
		for i, p := range l.Paragraphs {
			if strings.Contains(p, s) {
				return i
			}
		}
		return -1
	}
	r, d := at(reason), at(decided)
	if r < 0 || d < 0 || r >= d || strings.Contains(l.Paragraphs[r], "本机关决定") {
		t.Errorf("reason %q (paragraph %d) and decision %q (paragraph %d) not apart: %q", reason, r, decided, d, l.Paragraphs)
	}
	appeal := at("六十日内向平顶山市湛河区人民政府申请行政复议")
	if appeal <= d || !strings.Contains(l.Paragraphs[appeal], "自收到本决定书之日起六个月内依法向人民法院提起行政诉讼") {
		t.Errorf("no route of appeal after the decision: %q", l.Paragraphs)
	}
}

// A case filed for an enterprise is addressed to the enterprise, with its
// credit code; the person who filed it is named as its 经办人.
func TestNoticesToAnEnterprise(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		var firm int64
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO enterprises (name, credit_code, legal_rep_name, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
				"平顶山市湛河区百顺商贸有限公司", "91410411MA9F4KXX3T", "王五", time.Now()).Scan(&firm)
		}); err != nil {
			t.Fatal(err)
		}
		agent := f.citizen
		agent.ActingFor = firm
		c, err := f.svc.Apply(ctx, agent, f.itemID, map[string]string{"name": "张三"}, []casework.Attachment{{Position: 0, Object: pdf, Filename: "身份证.pdf"}})
		if err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); err != nil {
			t.Fatal(err)
		}
		d := lastDocument(t, db, c.ID)
		officialDocument(t, d, "平顶山市湛河区百顺商贸有限公司", "2026年11月25日")
		if !strings.Contains(d.Body, "你单位（统一社会信用代码：91410411MA9F4KXX3T）由经办人张三于2026年11月25日提出的") || strings.Contains(d.Body, "张三：") {
			t.Errorf("受理通知书 to an enterprise: %s", d.Body)
		}
	})
}

// The 受理通知书 of an 即办件 settled at one sitting says so, promising no
// period; the 送达回证 is a form naming what was delivered, to whom, how.
func TestImmediateCaseNotices(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := variant(t, f, db, "010100100009", func(it *catalog.Item) {
			it.Name, it.CaseKind, it.PromiseLimit = "即办证明", catalog.Immediate, catalog.TimeLimit{Value: 0, Unit: "工作日"}
		})
		c := submitted(t, f, id)
		licence := filestore.Object{SHA256: strings.Repeat("cd", 32), Size: 99, ContentType: filestore.TypePDF}
		c, err := f.svc.Settle(ctx, f.head, c.ID, c.Version, "符合条件，当场办结", licence, "证明.pdf")
		if err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Deliver(ctx, f.window, c.ID, c.Version, casework.DeliverWindow, ""); err != nil {
			t.Fatal(err)
		}
		docs, _ := casework.Documents(ctx, db.Read(), c.ID)
		if len(docs) != 3 {
			t.Fatalf("%d documents", len(docs))
		}
		accept := docs[0]
		officialDocument(t, accept, "张三", "2026年11月25日")
		if !strings.Contains(accept.Body, "本件为即办件，本机关当场审查，于受理当日（2026年11月25日）作出决定并办结") ||
			strings.Contains(accept.Body, "个工作日内") || strings.Contains(accept.Body, "前（") {
			t.Errorf("即办 受理通知书: %s", accept.Body)
		}
		officialDocument(t, docs[1], "张三", "2026年11月25日")
		l := officialDocument(t, docs[2], "", "2026年11月25日")
		fields := map[string]string{}
		for _, fl := range l.Fields {
			fields[fl.Label] = fl.Value
		}
		if fields["受送达人"] != "张三" || !strings.Contains(fields["送达文书"], "《准予行政许可决定书》（区市场监管局决字〔2026〕1号）") ||
			!strings.Contains(fields["送达文书"], "证明.pdf") || fields["送达方式"] != "窗口领取" || fields["送达日期"] != "2026年11月25日" || fields["受送达人签收"] == "" {
			t.Errorf("送达回证 %+v", l)
		}
	})
}
