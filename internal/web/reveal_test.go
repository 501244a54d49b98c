package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Pages show identity and mobile numbers masked — the applicant's own
// draft excepted, which they check in full before submitting. The
// department's reviewers see a number in full only by asking for it with a
// reason, once, and every reveal is on the audit record; others cannot.
func TestNumbersMaskedAndRevealedOnRequest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const full, masked = "11010519491231002X", "110105********002X"
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", full, "13800000001")
		ex := citizen.post(fmt.Sprintf("/items/%d/apply", id), url.Values{"op": {"submit"}, "name": {"张三"}, "id_number": {full}})
		caseID := strings.TrimPrefix(strings.Split(ex.header.Get("Location"), "?")[0], "/me/cases/")
		var stored string
		db.Read().QueryRow(context.Background(), `SELECT form_data FROM cases WHERE id = ?`, caseID).Scan(&stored)
		if strings.Contains(stored, full) || !strings.Contains(stored, masked) {
			t.Fatalf("the draft saved through the page holds %s", stored)
		}
		if edit := citizen.get(fmt.Sprintf("/items/%d/apply?case=%s", id, caseID)); !strings.Contains(edit.body, `value="`+full+`"`) {
			t.Error("the applicant's draft form does not hold their own answer")
		}
		if check := citizen.get("/me/cases/" + caseID); !strings.Contains(check.body, full) {
			t.Error("the applicant does not check their own answers in full before submitting")
		}
		upload(citizen, caseID, 0, "申请书.pdf", []byte("%PDF-1.7 x"))
		if ex := submitCase(citizen, caseID); ex.status != http.StatusSeeOther {
			t.Fatalf("submit: %d %s", ex.status, ex.body)
		}
		if mine := citizen.get("/me/cases/" + caseID); strings.Contains(mine.body, full) || !strings.Contains(mine.body, masked) {
			t.Error("the submitted case shows the number in full")
		}

		reviewer := signInStaff(t, site, db, "rev", "scjgj", policy.Reviewer)
		window := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		foreign := signInStaff(t, site, db, "mzj.rev", "mzj", policy.Reviewer)
		path := "/workbench/cases/" + caseID
		page := reviewer.get(path)
		if page.status != 200 || strings.Contains(page.body, full) || strings.Contains(page.body, "13800000001") ||
			!strings.Contains(page.body, masked) || !strings.Contains(page.body, "138****0001") || !strings.Contains(page.body, "显示完整号码") {
			t.Fatalf("the reviewer's case page: %d", page.status)
		}
		if wp := window.get(path); strings.Contains(wp.body, "显示完整号码") {
			t.Error("a window clerk is offered to reveal numbers")
		}
		reveals := func() (n int) {
			db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'reveal'`).Scan(&n)
			return n
		}
		for _, tc := range []struct {
			name   string
			who    *browser
			field  string
			reason string
			status int
		}{
			{"no reason", reviewer, "id_number", " ", http.StatusBadRequest},
			{"a window clerk", window, "id_number", "核对", http.StatusForbidden},
			{"a window clerk, the account", window, "account:id_number", "核对", http.StatusForbidden},
			{"another department", foreign, "id_number", "核对", http.StatusNotFound},
			{"another department, the account", foreign, "account:mobile", "核对", http.StatusNotFound},
			{"the applicant", citizen, "id_number", "核对", http.StatusForbidden},
			{"not a number", reviewer, "name", "核对", http.StatusNotFound},
		} {
			ex := tc.who.post(path+"/reveal", url.Values{"field": {tc.field}, "reason": {tc.reason}})
			if ex.status != tc.status || strings.Contains(ex.body, full) || strings.Contains(ex.body, "13800000001") {
				t.Errorf("%s: %d, want %d", tc.name, ex.status, tc.status)
			}
		}
		if n := reveals(); n != 0 {
			t.Fatalf("refused reveals audited: %d", n)
		}
		ex = reviewer.post(path+"/reveal", url.Values{"field": {"id_number"}, "reason": {"核对申请人身份"}})
		if ex.status != 200 || !strings.Contains(ex.body, full) || ex.header.Get("Cache-Control") != "no-store" || !strings.Contains(ex.body, "已记入审计日志") {
			t.Fatalf("reveal an answer: %d %q", ex.status, ex.header.Get("Cache-Control"))
		}
		ex = reviewer.post(path+"/reveal", url.Values{"field": {"account:mobile"}, "reason": {"电话联系申请人"}})
		if ex.status != 200 || !strings.Contains(ex.body, "13800000001") || strings.Contains(ex.body, full) {
			t.Fatalf("reveal the applicant's mobile: %d", ex.status)
		}
		if again := reviewer.get(path); strings.Contains(again.body, full) || strings.Contains(again.body, "13800000001") {
			t.Error("a revealed number stays on the page")
		}
		rows, err := db.Read().Query(context.Background(), `SELECT object, detail FROM audit_log WHERE action = 'reveal' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var entries []string
		for rows.Next() {
			var object, detail string
			rows.Scan(&object, &detail)
			entries = append(entries, object+" "+detail)
		}
		rows.Close()
		if len(entries) != 2 || !strings.HasPrefix(entries[0], "case:"+caseID+" ") || !strings.Contains(entries[0], "身份证号码") ||
			!strings.Contains(entries[0], "核对申请人身份") || !strings.Contains(entries[1], "办件 ") || !strings.Contains(entries[1], "电话联系申请人") ||
			strings.Contains(strings.Join(entries, "\n"), full) || strings.Contains(strings.Join(entries, "\n"), "13800000001") {
			t.Errorf("reveal audit entries: %q", entries)
		}
	})
}
