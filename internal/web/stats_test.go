package web_test

import (
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

// The statistics pages through the real mux: a submitted case counts on
// the administrator's dashboard and links to itself; a unit's head sees
// their own department only; a bad filter is refused in Chinese; the
// exports are XLSX and audited; the public page names no one.
func TestStatsPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		ex := citizen.post(fmt.Sprintf("/items/%d/apply", id), url.Values{"op": {"submit"}, "name": {"张三"}, "id_number": {"11010519491231002X"}})
		caseID := strings.TrimPrefix(strings.Split(ex.header.Get("Location"), "?")[0], "/me/cases/")
		upload(citizen, caseID, 0, "a.pdf", []byte("%PDF-1.4"))
		submitCase(citizen, caseID)

		admin := signInStaff(t, site, db, "st.admin", "xzfwzx", policy.Admin)
		page := admin.get("/admin/stats?by=department")
		if page.status != 200 || between(page.body, `id="st-submitted">`, "<") != "1" || !strings.Contains(page.body, "市场监督管理局") {
			t.Fatalf("dashboard: %d %q", page.status, between(page.body, `id="st-submitted">`, "<"))
		}
		drill := between(page.body, `<a href="`+"/admin/stats/cases?", `"`)
		list := admin.get("/admin/stats/cases?" + strings.ReplaceAll(drill, "&amp;", "&"))
		if list.status != 200 || !strings.Contains(list.body, "/workbench/cases/"+caseID) {
			t.Fatalf("drill-down %q: %d", drill, list.status)
		}
		if ex := admin.get("/admin/stats?from=2026-13"); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "月份应写作") {
			t.Errorf("bad month: %d", ex.status)
		}
		if ex := admin.get("/admin/stats/cases?figure=everything"); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "未知的统计指标") {
			t.Errorf("bad figure: %d", ex.status)
		}
		for _, path := range []string{"/admin/stats.xlsx?by=item", "/admin/stats/cases.xlsx?figure=submitted"} {
			ex := admin.get(path)
			if ex.status != 200 || ex.header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || !strings.HasPrefix(ex.body, "PK") {
				t.Errorf("%s: %d %s", path, ex.status, ex.header.Get("Content-Type"))
			}
		}
		if audit := admin.get("/admin/audit?action=export"); !strings.Contains(audit.body, "导出办件统计") || !strings.Contains(audit.body, "导出申请量清单") {
			t.Error("the exports are not in the audit log")
		}
		if ex := admin.get("/admin/stats/screen"); ex.status != 200 || !strings.Contains(ex.body, `data-poll="/api/v1/stats/summary?from=2026-11&amp;to=2026-11"`) {
			t.Errorf("screen: %d", ex.status)
		}

		// The civil affairs bureau's head sees their own department: none
		// of the market regulator's case, and no department to choose.
		head := signInStaff(t, site, db, "st.head", "mzj", policy.Head)
		own := head.get("/admin/stats")
		if own.status != 200 || between(own.body, `id="st-submitted">`, "<") != "0" || !strings.Contains(own.body, "本部门") || strings.Contains(own.body, `id="st-dept"`) {
			t.Fatalf("head: %d %q", own.status, between(own.body, `id="st-submitted">`, "<"))
		}
		if ex := head.get("/admin/stats/cases?figure=submitted"); strings.Contains(ex.body, "/workbench/cases/"+caseID) {
			t.Error("the head's drill-down shows another department's case")
		}
		if ex := citizen.get("/admin/stats"); ex.status != http.StatusForbidden {
			t.Errorf("citizen: %d", ex.status)
		}

		anon := newBrowser(t, site.handler)
		pub := anon.get("/stats")
		if pub.status != 200 || !strings.Contains(pub.body, "按时办结率") || strings.Contains(pub.body, "张三") || strings.Contains(pub.body, "/workbench/cases/") {
			t.Errorf("public: %d", pub.status)
		}
	})
}
