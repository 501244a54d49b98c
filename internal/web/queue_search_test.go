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

// The queue's search box says what it matches; a search across every
// queue finds a case by a word of its item and by the applicant's name;
// a query the search cannot run is answered beside the box, which keeps it.
func TestQueueSearchBox(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		item := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		caseID := appliedCase(t, citizen, item)
		reviewer := signInStaff(t, site, db, "reviewer", "scjgj", policy.Reviewer)
		search := func(q string) exchange {
			return reviewer.get("/workbench/queue/reviewing?" + url.Values{"q": {q}, "all": {"1"}}.Encode())
		}
		for _, q := range []string{"工商户", "张三"} {
			if ex := search(q); ex.status != http.StatusOK || !strings.Contains(ex.body, "/workbench/cases/"+caseID) || !strings.Contains(ex.body, "全部队列中的搜索结果（1）") {
				t.Errorf("search %q: %d", q, ex.status)
			}
		}
		if ex := search("三"); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "请至少输入两个字") ||
			!strings.Contains(ex.body, `value="三"`) || strings.Contains(ex.body, "/workbench/cases/"+caseID) {
			t.Errorf("a one-character search: %d", ex.status)
		}
		if ex := reviewer.get("/workbench/queue/submitted"); !strings.Contains(ex.body, "申请人姓名或企业名称的开头") {
			t.Error("the search box does not say what it matches")
		}
	})
}
