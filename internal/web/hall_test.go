package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The hall's pages through the real mux: a refused window group keeps
// what was typed; the kiosk refuses a wrong booking number and a wrong ID
// number without showing the ID back; only service centres are halls.
func TestHallPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		admin := signInStaff(t, site, db, "hall.admin", "xzfwzx", policy.Admin)
		if ex := admin.get("/admin/hall"); ex.status != http.StatusOK || !strings.Contains(ex.body, "马庄街道便民服务中心") {
			t.Fatalf("the window groups: %d", ex.status)
		}
		var center string
		if err := db.Read().QueryRow(t.Context(), `SELECT id FROM departments WHERE slug = 'xzfwzx'`).Scan(&center); err != nil {
			t.Fatal(err)
		}
		ex := admin.post("/admin/hall/groups", url.Values{"hall": {center}, "id": {"0"}, "name": {"综合受理窗口"}, "prefix": {"甲"},
			"windows": {"1号窗口"}, "hours": {"09:00-12:00"}, "slot_minutes": {"30"}, "capacity": {"3"}})
		if ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "号码字头应为一个大写英文字母") || !strings.Contains(ex.body, `value="综合受理窗口"`) {
			t.Fatalf("a wrong prefix: %d\n%s", ex.status, ex.body)
		}
		visitor := newBrowser(t, site.handler)
		if ex := visitor.get("/hall/xzfwzx/kiosk"); ex.status != http.StatusOK || !strings.Contains(ex.body, "预约签到取号") {
			t.Fatalf("the kiosk: %d", ex.status)
		}
		if ex := visitor.post("/hall/xzfwzx/kiosk/booking", url.Values{"booking": {"12345"}}); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "预约号应为 10 位数字") {
			t.Fatalf("a wrong booking number: %d", ex.status)
		}
		const wrong = "110105194912310021"
		ex = visitor.post("/hall/xzfwzx/kiosk/number", url.Values{"group": {"1"}, "id_number": {wrong}})
		if ex.status != http.StatusBadRequest || strings.Contains(ex.body, wrong) || !strings.Contains(ex.body, "没有取到号") {
			t.Fatalf("a wrong ID number: %d\n%s", ex.status, ex.body)
		}
		if ex := visitor.get("/hall/xzfwzx/screen"); ex.status != http.StatusOK || !strings.Contains(ex.body, "暂无叫号") {
			t.Fatalf("the screen: %d", ex.status)
		}
		for _, p := range []string{"/hall/scjgj/screen", "/hall/nowhere/kiosk", "/hall/scjgj"} {
			if ex := visitor.get(p); ex.status != http.StatusNotFound {
				t.Errorf("%s: %d", p, ex.status)
			}
		}
	})
}
