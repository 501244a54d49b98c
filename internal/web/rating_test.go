package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// 好差评 through the pages: the finished case's prompt, a refused and an
// accepted 差评, its call-back and rectification by the unit, the public
// page without personal data, the rates; and the counter tablet.
func TestRatingPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		item := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		window := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		reviewer := signInStaff(t, site, db, "reviewer", "scjgj", policy.Reviewer)
		head := signInStaff(t, site, db, "head", "scjgj", policy.Head)
		supervisor := signInStaff(t, site, db, "sup", "scjgj", policy.Supervisor)

		caseID := appliedCase(t, citizen, item)
		if page := citizen.get("/me/cases/" + caseID); strings.Contains(page.body, "评价本次服务") {
			t.Fatal("a running case asks for a rating")
		}
		staffForm(window, caseID, "", url.Values{"op": {"accept"}}, nil)
		staffForm(reviewer, caseID, "", url.Values{"op": {"review"}, "reason": {"不符合条件，建议不予"}}, nil)
		staffForm(head, caseID, "", url.Values{"op": {"decide"}, "outcome": {"deny"}, "reason": {"经营场所不符合要求"}}, nil)
		if ex := staffForm(window, caseID, "/complete", url.Values{"op": {"complete"}}, []byte{}); ex.status != http.StatusSeeOther {
			t.Fatalf("complete: %d", ex.status)
		}
		mine := citizen.get("/me/cases")
		link := between(mine.body, `<a href="/me/ratings/`, `"`)
		if link == "" || !strings.Contains(mine.body, "请评价已办结的服务") {
			t.Fatal("我的办件 does not prompt for the rating")
		}
		if page := citizen.get("/me/cases/" + caseID); !strings.Contains(page.body, `href="/me/ratings/`+link+`"`) {
			t.Fatal("the case page does not prompt for the rating")
		}
		form := citizen.get("/me/ratings/" + link)
		if form.status != 200 || !strings.Contains(form.body, "办事指南准确性") || !strings.Contains(form.body, "非常不满意") {
			t.Fatalf("rating form: %d", form.status)
		}
		rate := url.Values{"level": {"2"}, "score-efficiency": {"2"}, "score-guide": {"1"}, "score-convenience": {"3"}, "score-usability": {"3"}, "via": {"web"}}
		if ex := citizen.post("/me/ratings/"+link, rate); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "请写明不满意的原因") ||
			!strings.Contains(ex.body, `value="1" required checked`) || !strings.Contains(ex.body, `<a href="#rate-comment">`) {
			t.Fatalf("a 差评 without a reason: %d", ex.status)
		}
		if ex := window.get("/workbench/ratings"); ex.status != 200 || strings.Contains(ex.body, "/workbench/ratings/") {
			t.Fatal("a refused rating left a follow-up")
		}
		if ex := citizen.post("/me/ratings/"+link, url.Values{"level": {"4"}}); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, `<a href="#rs-efficiency-5">`) {
			t.Fatalf("a rating without its dimensions: %d", ex.status)
		}
		rate.Set("comment", "窗口告知的材料与网上指南不一致，跑了两趟")
		ex := citizen.post("/me/ratings/"+link, rate)
		if ex.status != http.StatusSeeOther {
			t.Fatalf("rate: %d %s", ex.status, between(ex.body, "<p>", "</p>"))
		}
		if thanks := citizen.get(ex.header.Get("Location")); !strings.Contains(thanks.body, "感谢您的评价") || !strings.Contains(thanks.body, "回访") {
			t.Fatal("no thanks after the 差评")
		}
		if ex := citizen.post("/me/ratings/"+link, rate); ex.status != http.StatusConflict {
			t.Fatalf("rated twice: %d", ex.status)
		}

		// The unit's follow-up.
		list := head.get("/workbench/ratings")
		fu := between(list.body, `<a href="/workbench/ratings/`, `"`)
		if fu == "" || !strings.Contains(list.body, "待回访") {
			t.Fatalf("follow-ups: %s", list.body)
		}
		page := reviewer.get("/workbench/ratings/" + fu)
		if !strings.Contains(page.body, "跑了两趟") || !strings.Contains(page.body, "张*") || strings.Contains(page.body, "13800000001") {
			t.Fatal("the follow-up page does not show the comment with the rater masked")
		}
		if ex := reviewer.post("/workbench/ratings/"+fu+"/callback", url.Values{"note": {"已致歉"}}); ex.status != http.StatusBadRequest ||
			!strings.Contains(ex.body, "请选择回访是否接通") || !strings.Contains(ex.body, "已致歉") {
			t.Fatalf("a call-back without its outcome: %d", ex.status)
		}
		if ex := reviewer.post("/workbench/ratings/"+fu+"/reveal", url.Values{"reason": {"差评回访"}}); ex.status != 200 || !strings.Contains(ex.body, "13800000001") {
			t.Fatalf("reveal for the call-back: %d", ex.status)
		}
		if ex := window.post("/workbench/ratings/"+fu+"/callback", url.Values{"reached": {"yes"}, "note": {"已致歉"}}); ex.status != http.StatusForbidden {
			t.Fatalf("a window clerk calls back: %d", ex.status)
		}
		if ex := reviewer.post("/workbench/ratings/"+fu+"/callback", url.Values{"reached": {"yes"}, "note": {"已致歉，核实为窗口告知有误"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("call-back: %d", ex.status)
		}
		if ex := head.post("/workbench/ratings/"+fu+"/rectify", url.Values{"what": {"已联系张三 13800000001"}}); ex.status != http.StatusBadRequest {
			t.Fatalf("a rectification with a mobile number: %d", ex.status)
		}
		what := "统一窗口与网上指南的材料清单，组织窗口人员培训"
		if ex := head.post("/workbench/ratings/"+fu+"/rectify", url.Values{"what": {what}}); ex.status != http.StatusSeeOther {
			t.Fatalf("rectify: %d", ex.status)
		}
		public := newBrowser(t, site.handler).get("/ratings/rectifications")
		if public.status != 200 || !strings.Contains(public.body, what) || !strings.Contains(public.body, "个体工商户设立登记") {
			t.Fatalf("public rectifications: %d", public.status)
		}
		for _, private := range []string{"张", "跑了两趟", "13800000001", "2026112"} {
			if strings.Contains(between(public.body, "<main", "</main>"), private) {
				t.Errorf("the public page shows %q", private)
			}
		}
		rates := supervisor.get("/admin/ratings")
		if rates.status != 200 || !strings.Contains(rates.body, "100.0%") || !strings.Contains(rates.body, "市场监督管理局") {
			t.Fatalf("rates: %d", rates.status)
		}

		// The counter tablet: paired by the clerk, it offers the clerk's
		// latest visit, once.
		pair := window.post("/workbench/tablet", url.Values{})
		path := between(pair.body, `<code id="tablet-link">`, `</code>`)
		if pair.status != 200 || !strings.HasPrefix(path, "/window/") {
			t.Fatalf("pairing: %d %q", pair.status, path)
		}
		tablet := newBrowser(t, site.handler)
		if page := tablet.get(path); page.status != 200 || strings.Contains(page.body, `name="visit"`) || page.header.Get("Refresh") == "" {
			t.Fatalf("the waiting tablet: %d", page.status)
		}
		visited := staffForm(window, caseID, "/visits", url.Values{"purpose": {"领取不予许可决定书"}}, nil)
		if visited.status != http.StatusSeeOther {
			t.Fatalf("visit: %d", visited.status)
		}
		page = tablet.get(path)
		visit := between(page.body, `name="visit" value="`, `"`)
		if visit == "" || !strings.Contains(page.body, "服务态度") {
			t.Fatal("the tablet does not offer the visit")
		}
		onsite := url.Values{"visit": {visit}, "level": {"5"}, "score-efficiency": {"5"}, "score-skill": {"5"}, "score-attitude": {"5"}}
		if ex := tablet.post(path, url.Values{"visit": {visit}, "level": {"5"}}); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "办事效率") {
			t.Fatalf("a tablet rating without its dimensions: %d", ex.status)
		}
		if ex := tablet.post(path, onsite); ex.status != http.StatusSeeOther {
			t.Fatalf("tablet rating: %d", ex.status)
		}
		if ex := tablet.post(path, onsite); ex.status != http.StatusConflict {
			t.Fatalf("the visit rated twice: %d", ex.status)
		}
		if page := tablet.get(path); strings.Contains(page.body, `name="visit"`) {
			t.Fatal("the tablet offers a rated visit")
		}
		window.post("/workbench/tablet", url.Values{}) // pairing again ends the old link
		if page := tablet.get(path); page.status != http.StatusNotFound {
			t.Fatalf("the old tablet link: %d", page.status)
		}
	})
}
