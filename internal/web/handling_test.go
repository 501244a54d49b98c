package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// staffForm posts one of the staff case page's forms, with the case's
// current version; file, if given, goes with it as the result.
func staffForm(b *browser, caseID, action string, form url.Values, file []byte) exchange {
	page := b.get("/workbench/cases/" + caseID)
	form.Set("version", between(page.body, `name="version" value="`, `"`))
	if file == nil && action == "" {
		return b.post("/workbench/cases/"+caseID, form)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		mw.WriteField(k, vs[0])
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", "结果.pdf")
		fw.Write(file)
	}
	mw.Close()
	req := httptest.NewRequest("POST", "/workbench/cases/"+caseID+action, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// appliedCase is a case of item the citizen applied for and submitted.
func appliedCase(t *testing.T, citizen *browser, item int64) string {
	t.Helper()
	ex := citizen.post(fmt.Sprintf("/items/%d/apply", item), url.Values{"op": {"submit"}, "name": {"张三"}, "id_number": {"11010519491231002X"}})
	caseID := strings.TrimPrefix(strings.Split(ex.header.Get("Location"), "?")[0], "/me/cases/")
	upload(citizen, caseID, 0, "申请书.pdf", []byte("%PDF-1.7 申请书"))
	if ex := submitCase(citizen, caseID); ex.status != http.StatusSeeOther {
		t.Fatalf("submit: %d", ex.status)
	}
	return caseID
}

// From the staff case page: a denial completes without a result, a case
// is transferred to another department (which then has it), and an 即办件
// is settled at one sitting.
func TestStaffDenyTransferSettle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		ctx := context.Background()
		promised := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		quick := guideItem("010100100002", "个体工商户名称查询证明", catalog.DepthFull)
		quick.CaseKind, quick.PromiseLimit = catalog.Immediate, catalog.TimeLimit{Value: 1, Unit: "工作日"}
		immediate := publish(t, db, site.catalog, quick)
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		window := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		reviewer := signInStaff(t, site, db, "reviewer", "scjgj", policy.Reviewer)

		// Denied, then completed with no file.
		caseID := appliedCase(t, citizen, promised)
		staffForm(window, caseID, "", url.Values{"op": {"accept"}}, nil)
		staffForm(reviewer, caseID, "", url.Values{"op": {"review"}, "reason": {"经营场所位于住宅，建议不予"}}, nil)
		head := signInStaff(t, site, db, "head", "scjgj", policy.Head)
		if ex := staffForm(reviewer, caseID, "", url.Values{"op": {"decide"}, "outcome": {"deny"}, "reason": {"经营场所不符合要求"}}, nil); ex.status != http.StatusForbidden {
			t.Fatalf("the reviewer decides: %d", ex.status)
		}
		if ex := staffForm(head, caseID, "", url.Values{"op": {"decide"}, "reason": {"经营场所不符合要求"}}, nil); ex.status != 400 || !strings.Contains(ex.body, "请选择准予或不予") {
			t.Fatalf("decision without an outcome: %d", ex.status)
		}
		if ex := staffForm(head, caseID, "", url.Values{"op": {"decide"}, "outcome": {"deny"}, "reason": {"经营场所不符合要求"}}, nil); ex.status != http.StatusSeeOther {
			t.Fatalf("deny: %d %s", ex.status, between(ex.body, `role="alert">`, "<"))
		}
		if page := window.get("/workbench/cases/" + caseID); !strings.Contains(page.body, "以决定书办结，无须上传结果") {
			t.Fatal("the completion form still asks a denied case for a result")
		}
		if ex := staffForm(window, caseID, "/complete", url.Values{"op": {"complete"}}, []byte{}); ex.status != http.StatusSeeOther {
			t.Fatalf("complete a denial: %d %s", ex.status, between(ex.body, `role="alert">`, "<"))
		}
		mine := citizen.get("/me/cases/" + caseID)
		if !strings.Contains(mine.body, "已办结") || !strings.Contains(mine.body, "决定书") {
			t.Fatal("the citizen does not see the completed denial")
		}

		// Transferred to the civil affairs bureau by the head (a reviewer
		// may not): scjg no longer has it.
		caseID = appliedCase(t, citizen, promised)
		mzj, _ := region.NewStore(db).DepartmentBySlug(ctx, db.Read(), "mzj")
		transfer := url.Values{"op": {"transfer"}, "department": {fmt.Sprint(mzj.ID)}, "reason": {"属民政局职责"}}
		if page := reviewer.get("/workbench/cases/" + caseID); strings.Contains(page.body, `name="department"`) {
			t.Fatal("a reviewer is offered the transfer")
		}
		if ex := staffForm(reviewer, caseID, "", transfer, nil); ex.status != http.StatusForbidden || !strings.Contains(ex.body, "部门负责人") {
			t.Fatalf("a reviewer transfers: %d", ex.status)
		}
		page := head.get("/workbench/cases/" + caseID)
		if !strings.Contains(page.body, `name="department"`) || !strings.Contains(page.body, fmt.Sprintf(`<option value="%d">`, mzj.ID)) {
			t.Fatal("no transfer form with the departments")
		}
		ex := staffForm(head, caseID, "", transfer, nil)
		if ex.status != http.StatusSeeOther || !strings.HasPrefix(ex.header.Get("Location"), "/workbench") {
			t.Fatalf("transfer: %d %s", ex.status, ex.header.Get("Location"))
		}
		if ex := reviewer.get("/workbench/cases/" + caseID); ex.status != http.StatusNotFound {
			t.Fatalf("the first department still opens it: %d", ex.status)
		}
		other := signInStaff(t, site, db, "mzj.window", "mzj", policy.Window)
		if page := other.get("/workbench/cases/" + caseID); page.status != 200 || !strings.Contains(page.body, "属民政局职责") {
			t.Fatalf("the receiving department: %d", page.status)
		}

		// An 即办件 is settled in one go by whoever may decide it: the head
		// here, not the window clerk.
		caseID = appliedCase(t, citizen, immediate)
		if page := window.get("/workbench/cases/" + caseID); strings.Contains(page.body, `value="settle"`) {
			t.Fatal("the window clerk is offered 当场办结 of an item the head decides")
		}
		if ex := staffForm(window, caseID, "/complete", url.Values{"op": {"settle"}, "reason": {"符合条件"}}, []byte("%PDF-1.7 证明")); ex.status != http.StatusForbidden {
			t.Fatalf("the window clerk settles: %d", ex.status)
		}
		if page := head.get("/workbench/cases/" + caseID); !strings.Contains(page.body, `value="settle"`) {
			t.Fatal("no 当场办结 for an 即办件")
		}
		if ex := staffForm(head, caseID, "/complete", url.Values{"op": {"settle"}, "reason": {"符合条件"}}, []byte("%PDF-1.7 证明")); ex.status != http.StatusSeeOther {
			t.Fatalf("settle: %d %s", ex.status, between(ex.body, `role="alert">`, "<"))
		}
		if res := citizen.get("/cases/" + caseID + "/result"); res.status != 200 || res.body != "%PDF-1.7 证明" {
			t.Fatalf("result of the settled case: %d", res.status)
		}
	})
}

// A case's deadline shows in yellow a working day before and in red once
// passed, on the staff's and the applicant's pages and in the queue.
func TestDeadlineColours(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	site := newTestSite(t, db)
	item := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
	citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
	citizen.post("/me/password", url.Values{"new_password": {"Zhangsan-2026!"}, "confirm_password": {"Zhangsan-2026!"}})
	window := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
	caseID := appliedCase(t, citizen, item)
	staffForm(window, caseID, "", url.Values{"op": {"accept"}}, nil) // Wednesday 11-25: due Monday 11-30
	for _, tc := range []struct {
		days int
		want string
	}{{0, `class="badge">正常`}, {4, `class="badge warning">预警`}, {6, `class="badge overdue">超期`}} {
		site.clock.Set(time.Date(2026, 11, 25+tc.days, 9, 0, 0, 0, clock.China))
		// Days later, everyone signs in again.
		staff := signInStaff(t, site, db, fmt.Sprintf("clerk%d", tc.days), "scjgj", policy.Window)
		person := newBrowser(t, site.handler)
		if ex := person.post("/signin/password", url.Values{"mobile": {"13800000001"}, "password": {"Zhangsan-2026!"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("citizen sign-in: %d", ex.status)
		}
		for _, page := range []exchange{staff.get("/workbench/cases/" + caseID), person.get("/me/cases/" + caseID), staff.get("/workbench/queue/reviewing")} {
			if !strings.Contains(page.body, tc.want) {
				t.Errorf("day %d: a page (%d) lacks %s", tc.days, page.status, tc.want)
			}
		}
	}
}
