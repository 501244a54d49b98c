package hall_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// fixture is the demo district with two published items of the market
// bureau, the district hall's group 综合受理 (A) serving both, a street
// centre's group, people and clerks.
type fixture struct {
	db       *store.DB
	clk      *clock.Manual
	svc      *hall.Service
	center   region.Department
	street   region.Department
	group    hall.Group // the district hall's, capacity 2, 30-minute slots
	other    hall.Group // the street centre's
	items    [2]int64
	people   []policy.Subject
	clerk    policy.Subject // window clerk of the market bureau (serves group's items)
	outsider policy.Subject // window clerk of another bureau
	admin    policy.Subject
}

// Friday 2026-09-18, 08:00 Beijing: Sunday 09-20 is a 调休 working day,
// Friday 09-25 the Mid-Autumn holiday.
var start = time.Date(2026, 9, 18, 8, 0, 0, 0, clock.China)

func at(d, h, m int) time.Time { return time.Date(2026, 9, d, h, m, 0, 0, clock.China) }

func setup(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, clk: clock.NewManual(start)}
	if _, err := demo.SeedDistrict(ctx, db, f.clk); err != nil {
		t.Fatal(err)
	}
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, f.clk)
	for i, name := range []string{"个体工商户设立登记", "个体工商户变更登记"} {
		it := catalog.Item{
			BaseCode: fmt.Sprintf("01010010000%d", i+1), Name: name, Type: catalog.Licensing, Department: "scjgj",
			Basis: "《促进个体工商户发展条例》", Subjects: []string{"自然人"}, Themes: []string{"设立变更"},
			CaseKind: catalog.Promised, LegalLimit: catalog.TimeLimit{Value: 15, Unit: "工作日"},
			PromiseLimit: catalog.TimeLimit{Value: 1, Unit: "工作日"}, Depth: catalog.DepthFull, Conditions: "具有完全民事行为能力。",
			Steps: []catalog.Step{{Name: "申请", Description: "网上提交"}}, Result: catalog.Result{Name: "营业执照", Type: "证照"},
			ConsultPhone: "0375-8861002", ComplaintPhone: "12345",
			Materials: []catalog.Material{{Name: "身份证明", Necessity: "必需", Form: "电子", Copies: 1, Source: "政府部门核发", Standard: "真实有效"}},
			Form:      []catalog.FormSection{{Title: "经营者", Fields: []catalog.FormField{{Key: "name", Label: "姓名", Type: "text", Required: true}}}},
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return items.Load(ctx, tx, &it, "测试") }); err != nil {
			t.Fatal(err)
		}
		f.items[i] = it.ID
	}
	enc, idx, _ := pii.GenerateKeys()
	keys, err := pii.ParseKeys(enc, idx)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = hall.New(db, f.clk, calendar.New(nil), keys, regions)
	if f.center, err = regions.DepartmentBySlug(ctx, db.Read(), "xzfwzx"); err != nil {
		t.Fatal(err)
	}
	if f.street, err = regions.DepartmentBySlug(ctx, db.Read(), "bmfw-410411001000"); err != nil {
		t.Fatal(err)
	}
	market, err := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
	if err != nil {
		t.Fatal(err)
	}
	civil, err := regions.DepartmentBySlug(ctx, db.Read(), "mzj")
	if err != nil {
		t.Fatal(err)
	}
	account := func(kind, name string, dept int64) int64 {
		var id int64
		var d, user any
		if dept != 0 {
			d, user = dept, name
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				kind, name, user, d, f.clk.Now(), f.clk.Now()).Scan(&id)
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	for i := range 12 {
		f.people = append(f.people, policy.Subject{Kind: policy.Person, AccountID: account("person", fmt.Sprintf("市民%d", i), 0)})
	}
	f.clerk = policy.Subject{Kind: policy.Staff, Name: "王芳", AccountID: account("staff", "clerk", market.ID), DepartmentID: market.ID, RegionCode: market.RegionCode, DepartmentKind: "bureau", Roles: []policy.Role{policy.Window}}
	f.outsider = policy.Subject{Kind: policy.Staff, Name: "孙丽", AccountID: account("staff", "outsider", civil.ID), DepartmentID: civil.ID, RegionCode: civil.RegionCode, DepartmentKind: "bureau", Roles: []policy.Role{policy.Window}}
	f.admin = policy.Subject{Kind: policy.Staff, Name: "管理员", AccountID: account("staff", "admin", f.center.ID), DepartmentID: f.center.ID, Roles: []policy.Role{policy.Admin}}
	if f.group, err = f.svc.SaveGroup(ctx, f.admin, audit.Meta{}, hall.GroupInput{DepartmentID: f.center.ID, Name: "综合受理", Prefix: "a",
		Windows: "1号窗口，2号窗口", Hours: "09:00-12:00,13:30-17:30", SlotMinutes: 30, Capacity: 2, ItemIDs: f.items[:]}); err != nil {
		t.Fatal(err)
	}
	if f.other, err = f.svc.SaveGroup(ctx, f.admin, audit.Meta{}, hall.GroupInput{DepartmentID: f.street.ID, Name: "综合窗口", Prefix: "B",
		Windows: "1号窗口", Hours: "09:00-12:00", SlotMinutes: 60, Capacity: 1, ItemIDs: f.items[:1]}); err != nil {
		t.Fatal(err)
	}
	return f
}

func wantErr(t *testing.T, err error, code apperr.Code, says string) {
	t.Helper()
	if !apperr.Is(err, code) || !strings.Contains(apperr.MessageOf(err), says) {
		t.Fatalf("got %v, want %s saying %q", err, code, says)
	}
}

func TestGroupsAreAdministrators(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		if f.group.Prefix != "A" || len(f.group.Windows) != 2 || len(f.group.Items) != 2 {
			t.Fatalf("group %+v", f.group)
		}
		in := hall.GroupInput{DepartmentID: f.center.ID, Name: "不动产", Prefix: "C", Windows: "5号窗口", Hours: "09:00-12:00", SlotMinutes: 30, Capacity: 3, ItemIDs: f.items[:1]}
		_, err := f.svc.SaveGroup(ctx, f.clerk, audit.Meta{}, in)
		wantErr(t, err, apperr.Forbidden, "没有权限")
		for _, c := range []struct {
			change func(*hall.GroupInput)
			says   string
		}{
			{func(g *hall.GroupInput) { g.Prefix = "A" }, "同名或同字头"},
			{func(g *hall.GroupInput) { g.Prefix = "甲" }, "大写英文字母"},
			{func(g *hall.GroupInput) { g.Hours = "12:00-09:00" }, "办公时间"},
			{func(g *hall.GroupInput) { g.SlotMinutes = 200 }, "排不下"},
			{func(g *hall.GroupInput) { g.ItemIDs = []int64{999999} }, "不存在或未发布"},
			{func(g *hall.GroupInput) { g.DepartmentID = f.clerk.DepartmentID }, "只有政务服务中心和便民服务中心"},
		} {
			bad := in
			c.change(&bad)
			if _, err := f.svc.SaveGroup(ctx, f.admin, audit.Meta{}, bad); err == nil || !strings.Contains(apperr.MessageOf(err), c.says) {
				t.Errorf("%+v: %v, want %q", bad, err, c.says)
			}
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'hall_group_create'`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("audited creations: %d %v", n, err)
		}
	})
}

func TestSlotsFollowTheCalendar(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		count := func(d calendar.Date) int {
			_, slots, err := f.svc.Slots(ctx, f.group.ID, d)
			if err != nil {
				t.Fatal(err)
			}
			return len(slots)
		}
		// 09:00–12:00 and 13:30–17:30 in 30 minutes: 6 + 8.
		if n := count(calendar.NewDate(2026, 9, 18)); n != 14 {
			t.Errorf("a Friday: %d slots", n)
		}
		if n := count(calendar.NewDate(2026, 9, 19)); n != 0 {
			t.Errorf("a Saturday: %d slots", n)
		}
		if n := count(calendar.NewDate(2026, 9, 20)); n != 14 {
			t.Errorf("the 调休 Sunday: %d slots", n)
		}
		if n := count(calendar.NewDate(2026, 9, 25)); n != 0 {
			t.Errorf("Mid-Autumn: %d slots", n)
		}
		days := f.svc.Days()
		var got []string
		for _, d := range days {
			got = append(got, d.String())
		}
		if strings.Join(got, " ") != "2026-09-18 2026-09-20 2026-09-21 2026-09-22 2026-09-23 2026-09-24" {
			t.Errorf("bookable days %v", got)
		}
		_, err := f.svc.Book(ctx, f.people[0], hall.BookInput{GroupID: f.group.ID, ItemID: f.items[0], Start: at(25, 9, 0)})
		wantErr(t, err, apperr.Invalid, "没有这个预约时段")
		_, err = f.svc.Book(ctx, f.people[0], hall.BookInput{GroupID: f.group.ID, ItemID: f.items[0], Start: at(20, 9, 0)})
		if err != nil {
			t.Fatalf("booking the 调休 Sunday: %v", err)
		}
	})
}

func TestBookingRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		book := func(p int, item int64, s time.Time) (hall.Booking, error) {
			return f.svc.Book(ctx, f.people[p], hall.BookInput{GroupID: f.group.ID, ItemID: item, Start: s})
		}
		slot := at(21, 9, 30)
		b0, err := book(0, f.items[0], slot)
		if err != nil {
			t.Fatal(err)
		}
		if len(b0.Number) != 10 || b0.Status != hall.Booked || !b0.Start.Equal(slot) || !b0.End.Equal(slot.Add(30*time.Minute)) {
			t.Fatalf("booking %+v", b0)
		}
		if _, err := book(1, f.items[0], slot); err != nil {
			t.Fatal(err)
		}
		_, err = book(2, f.items[0], slot)
		wantErr(t, err, apperr.Conflict, "该时段已约满")
		// Double booking: the same item on the same day, or an overlapping slot.
		_, err = book(0, f.items[0], at(21, 14, 0))
		wantErr(t, err, apperr.Conflict, "同一事项同一天只能预约一次")
		_, err = f.svc.Book(ctx, f.people[0], hall.BookInput{GroupID: f.other.ID, ItemID: f.items[0], Start: at(21, 9, 0)})
		wantErr(t, err, apperr.Conflict, "同一事项同一天只能预约一次")
		_, err = book(0, f.items[1], slot)
		wantErr(t, err, apperr.Conflict, "与所选时段重叠")
		if _, err := book(0, f.items[1], at(21, 10, 0)); err != nil {
			t.Fatalf("another item, the next slot: %v", err)
		}
		// Cut-off: 08:00 now; 08:30 is too close to book 09:00 today.
		if _, err := book(3, f.items[0], at(18, 9, 0)); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(at(18, 8, 31))
		_, err = book(4, f.items[0], at(18, 9, 0))
		wantErr(t, err, apperr.Conflict, "已截止预约")
		_, err = book(4, f.items[0], at(28, 9, 0))
		wantErr(t, err, apperr.Invalid, "最多可预约 7 天")
		// Cancel: only one's own, until the slot starts; the place comes back.
		err = f.svc.Cancel(ctx, f.people[2], b0.ID)
		wantErr(t, err, apperr.NotFound, "没有找到")
		if _, err := f.svc.Booking(ctx, f.people[2], b0.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another's booking: %v", err)
		}
		if err := f.svc.Cancel(ctx, f.people[0], b0.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, f.svc.Cancel(ctx, f.people[0], b0.ID), apperr.Conflict, "已取消")
		if _, err := book(2, f.items[0], slot); err != nil {
			t.Fatalf("the freed place: %v", err)
		}
		if _, err := book(0, f.items[0], at(21, 14, 0)); err != nil {
			t.Fatalf("after cancelling, the same item that day: %v", err)
		}
		f.clk.Set(slot)
		mine, err := f.svc.MyBookings(ctx, f.people[1])
		if err != nil || len(mine) != 1 {
			t.Fatalf("my bookings: %v %v", mine, err)
		}
		wantErr(t, f.svc.Cancel(ctx, f.people[1], mine[0].ID), apperr.Conflict, "已开始")
		_, slots, err := f.svc.Slots(ctx, f.group.ID, calendar.NewDate(2026, 9, 21))
		if err != nil {
			t.Fatal(err)
		}
		if slots[1].Booked != 2 || slots[1].Open {
			t.Fatalf("09:30: %+v", slots[1])
		}
		_, err = f.svc.Book(ctx, f.clerk, hall.BookInput{GroupID: f.group.ID, ItemID: f.items[0], Start: at(22, 9, 0)})
		if err == nil {
			t.Fatal("staff booked")
		}
	})
}

// Twelve people book the last places of one slot at once: exactly its
// capacity succeed, and the slot's count is the bookings made.
func TestCapacityHoldsUnderConcurrentBooking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		slot := at(22, 10, 0)
		var wg sync.WaitGroup
		errs := make([]error, len(f.people))
		for i := range f.people {
			wg.Go(func() {
				_, errs[i] = f.svc.Book(ctx, f.people[i], hall.BookInput{GroupID: f.group.ID, ItemID: f.items[i%2], Start: slot})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !strings.Contains(apperr.MessageOf(err), "已约满"):
				t.Errorf("unexpected: %v", err)
			}
		}
		var booked, rows int
		if err := db.Read().QueryRow(ctx, `SELECT booked FROM hall_slots WHERE group_id = ?`, f.group.ID).Scan(&booked); err != nil {
			t.Fatal(err)
		}
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM hall_bookings WHERE group_id = ?`, f.group.ID).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if ok != f.group.Capacity || booked != ok || rows != ok {
			t.Fatalf("%d bookings succeeded, slot counts %d, %d rows; capacity %d", ok, booked, rows, f.group.Capacity)
		}
	})
}

func TestNoShowsStopBooking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		p := f.people[0]
		for _, d := range []int{21, 22, 23} {
			if _, err := f.svc.Book(ctx, p, hall.BookInput{GroupID: f.group.ID, ItemID: f.items[0], Start: at(d, 9, 0)}); err != nil {
				t.Fatal(err)
			}
		}
		// Checked in on the 21st: not a no-show.
		f.clk.Set(at(21, 8, 45))
		mine, _ := f.svc.MyBookings(ctx, p)
		if _, err := f.svc.CheckIn(ctx, f.center.ID, mine[2].Number); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Book(ctx, p, hall.BookInput{GroupID: f.group.ID, ItemID: f.items[0], Start: at(24, 9, 0)}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(at(24, 9, 30)) // the 22nd, 23rd and 24th slots ended unattended
		n, err := f.svc.NoShows(ctx, p)
		if err != nil || n != 3 {
			t.Fatalf("no-shows %d %v", n, err)
		}
		mine, _ = f.svc.MyBookings(ctx, p)
		if mine[0].Status != hall.NoShow || mine[3].Status != hall.CheckedIn {
			t.Fatalf("statuses %s … %s", mine[0].Status, mine[3].Status)
		}
		_, err = f.svc.Book(ctx, p, hall.BookInput{GroupID: f.group.ID, ItemID: f.items[0], Start: at(28, 9, 0)})
		wantErr(t, err, apperr.Forbidden, "90 天内有 3 次预约未按时到场，2026-12-21 起方可再次预约")
		// Another person is not barred.
		if _, err := f.svc.Book(ctx, f.people[1], hall.BookInput{GroupID: f.group.ID, ItemID: f.items[0], Start: at(28, 9, 0)}); err != nil {
			t.Fatal(err)
		}
		// The bar lifts when the oldest no-show is 90 days old.
		f.clk.Set(time.Date(2026, 12, 21, 8, 0, 0, 0, clock.China))
		if _, err := f.svc.Book(ctx, p, hall.BookInput{GroupID: f.group.ID, ItemID: f.items[0], Start: time.Date(2026, 12, 22, 9, 0, 0, 0, clock.China)}); err != nil {
			t.Fatalf("after 90 days: %v", err)
		}
	})
}

func TestNumbersAndCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		b, err := f.svc.Book(ctx, f.people[0], hall.BookInput{GroupID: f.group.ID, ItemID: f.items[1], Start: at(18, 10, 0)})
		if err != nil {
			t.Fatal(err)
		}
		// Calling on an empty queue.
		f.clk.Set(at(18, 9, 0))
		_, err = f.svc.CallNext(ctx, f.clerk, f.group.ID, "1号窗口")
		wantErr(t, err, apperr.Conflict, "当前没有等候的号码")
		// Check-in opens 30 minutes before the slot.
		_, err = f.svc.CheckIn(ctx, f.center.ID, b.Number)
		wantErr(t, err, apperr.Conflict, "尚未到签到时间")
		_, err = f.svc.CheckIn(ctx, f.street.ID, b.Number)
		wantErr(t, err, apperr.Invalid, "不在本大厅办理")
		_, err = f.svc.CheckIn(ctx, f.center.ID, "12345")
		wantErr(t, err, apperr.Invalid, "10 位数字")
		// A walk-in at the kiosk first.
		const id = "11010519491231002X"
		_, err = f.svc.TakeNumber(ctx, f.center.ID, f.group.ID, "110105194912310021", 0)
		wantErr(t, err, apperr.Invalid, "")
		walkin, err := f.svc.TakeNumber(ctx, f.center.ID, f.group.ID, id, f.items[0])
		if err != nil {
			t.Fatal(err)
		}
		if walkin.Number != "A001" || walkin.IDMasked != "110105********002X" || walkin.Ahead != 0 {
			t.Fatalf("walk-in %+v", walkin)
		}
		_, err = f.svc.TakeNumber(ctx, f.center.ID, f.group.ID, id, 0)
		wantErr(t, err, apperr.Conflict, "已取得“综合受理”的号码 A001")
		_, err = f.svc.TakeNumber(ctx, f.street.ID, f.group.ID, id, 0)
		wantErr(t, err, apperr.NotFound, "本大厅没有这个窗口组")
		var stored string
		if err := db.Read().QueryRow(ctx, `SELECT id_number_sealed || id_number_index || id_number_masked FROM hall_tickets WHERE id = ?`, walkin.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, id) || strings.Contains(stored, "19491231") {
			t.Fatalf("the ID number is stored in clear: %s", stored)
		}
		f.clk.Advance(35 * time.Minute) // 09:35
		booked, err := f.svc.CheckIn(ctx, f.center.ID, b.Number)
		if err != nil {
			t.Fatal(err)
		}
		if booked.Number != "A002" || booked.Priority != hall.Priority || booked.Ahead != 0 || booked.Item != "个体工商户变更登记" {
			t.Fatalf("checked in %+v", booked)
		}
		_, err = f.svc.CheckIn(ctx, f.center.ID, b.Number)
		wantErr(t, err, apperr.Conflict, "已取号，号码为 A002")
		f.clk.Advance(5 * time.Minute)
		counter, err := f.svc.TakeAtCounter(ctx, f.clerk, f.group.ID, "")
		if err != nil || counter.Number != "A003" || counter.Ahead != 2 {
			t.Fatalf("at the counter: %+v %v", counter, err)
		}
		_, err = f.svc.TakeAtCounter(ctx, f.outsider, f.group.ID, "")
		wantErr(t, err, apperr.Forbidden, "没有权限")
		// Calls: the booked number first, then in the order taken.
		_, err = f.svc.CallNext(ctx, f.outsider, f.group.ID, "1号窗口")
		wantErr(t, err, apperr.Forbidden, "没有权限")
		_, err = f.svc.CallNext(ctx, f.admin, f.group.ID, "1号窗口")
		wantErr(t, err, apperr.Forbidden, "没有权限")
		_, err = f.svc.CallNext(ctx, f.clerk, f.group.ID, "9号窗口")
		wantErr(t, err, apperr.Invalid, "选择您所在的窗口")
		f.clk.Advance(2 * time.Minute) // 09:42
		first, err := f.svc.CallNext(ctx, f.clerk, f.group.ID, "1号窗口")
		if err != nil || first.Number != "A002" || first.Window != "1号窗口" || first.State != hall.Called {
			t.Fatalf("first call %+v %v", first, err)
		}
		_, err = f.svc.CallNext(ctx, f.clerk, f.group.ID, "1号窗口")
		wantErr(t, err, apperr.Conflict, "请先将当前号码 A002")
		screen, err := f.svc.Screen(ctx, f.center.Slug)
		if err != nil || len(screen.Calls) != 1 || screen.Calls[0].Number != "A002" || screen.Calls[0].Window != "1号窗口" || screen.Queues[0].Waiting != 2 {
			t.Fatalf("screen %+v %v", screen, err)
		}
		f.clk.Advance(time.Minute)
		if _, err := f.svc.Recall(ctx, f.clerk, first.ID); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(7 * time.Minute) // 09:50
		if _, err := f.svc.Finish(ctx, f.clerk, first.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Finish(ctx, f.clerk, first.ID, true)
		wantErr(t, err, apperr.Conflict, "已办理")
		second, err := f.svc.CallNext(ctx, f.clerk, f.group.ID, "2号窗口")
		if err != nil || second.Number != "A001" {
			t.Fatalf("second call %+v %v", second, err)
		}
		f.clk.Advance(3 * time.Minute)
		if _, err := f.svc.Finish(ctx, f.clerk, second.ID, false); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(4 * time.Minute)
		third, err := f.svc.CallNext(ctx, f.clerk, f.group.ID, "2号窗口")
		if err != nil || third.Number != "A003" {
			t.Fatalf("third call %+v %v", third, err)
		}
		f.clk.Advance(12*time.Minute + 30*time.Second)
		if _, err := f.svc.Finish(ctx, f.clerk, third.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CallNext(ctx, f.clerk, f.group.ID, "2号窗口")
		wantErr(t, err, apperr.Conflict, "当前没有等候的号码")
		desks, err := f.svc.Desks(ctx, f.clerk)
		if err != nil || len(desks) != 2 || desks[0].Group.ID != f.group.ID || len(desks[0].Done) != 3 || desks[0].Current != nil {
			t.Fatalf("desks %+v %v", desks, err)
		}
		if d, _ := f.svc.Desks(ctx, f.outsider); len(d) != 0 {
			t.Fatalf("an outsider's desks: %+v", d)
		}

		// The figures are what the tickets say.
		waits, err := f.svc.Waits(ctx, f.admin, calendar.NewDate(2026, 9, 18), calendar.NewDate(2026, 9, 18))
		if err != nil || len(waits) != 1 {
			t.Fatalf("waits %+v %v", waits, err)
		}
		rows, err := db.Read().Query(ctx, `SELECT taken_at, called_at, finished_at, status FROM hall_tickets WHERE group_id = ?`, f.group.ID)
		if err != nil {
			t.Fatal(err)
		}
		var called, served, waitSum, waitMax, serveSum, serveMax, absent int
		for rows.Next() {
			var taken, calledAt, finished time.Time
			var status string
			if err := rows.Scan(&taken, &calledAt, &finished, &status); err != nil {
				t.Fatal(err)
			}
			called++
			w := int(calledAt.Sub(taken).Seconds())
			waitSum, waitMax = waitSum+w, max(waitMax, w)
			if status == hall.Served {
				served++
				s := int(finished.Sub(calledAt).Seconds())
				serveSum, serveMax = serveSum+s, max(serveMax, s)
			} else {
				absent++
			}
		}
		rows.Close()
		w := waits[0]
		want := hall.Wait{Hall: f.center.Name, HallSlug: "xzfwzx", Group: "综合受理", Day: "2026-09-18", Called: called, WaitAvg: (waitSum + called/2) / called, WaitMax: waitMax,
			Served: served, ServeAvg: (serveSum + served/2) / served, ServeMax: serveMax, NoShows: absent}
		if w != want {
			t.Fatalf("figures\n%+v, the tickets say\n%+v", w, want)
		}
		// 09:00 → 09:50 was the longest wait; 12 min 30 s the longest service.
		if w.WaitMax != 50*60 || w.ServeMax != 12*60+30 || w.Called != 3 || w.Served != 2 || w.NoShows != 1 {
			t.Fatalf("figures %+v", w)
		}
		if got, _ := f.svc.Waits(ctx, f.clerk, calendar.NewDate(2026, 9, 18), calendar.NewDate(2026, 9, 18)); len(got) != 0 {
			t.Fatalf("a clerk sees figures: %+v", got)
		}
	})
}

// Two clerks calling at once get two numbers, never one twice.
func TestConcurrentCallsTakeDistinctNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		for range 4 {
			if _, err := f.svc.TakeAtCounter(ctx, f.clerk, f.group.ID, ""); err != nil {
				t.Fatal(err)
			}
		}
		clerks := []policy.Subject{f.clerk, f.clerk, f.clerk, f.clerk}
		for i := range clerks {
			var id int64
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at) VALUES ('staff', ?, ?, ?, ?, ?) RETURNING id`,
					fmt.Sprint("clerk", i), fmt.Sprint("c", i), f.clerk.DepartmentID, f.clk.Now(), f.clk.Now()).Scan(&id)
			}); err != nil {
				t.Fatal(err)
			}
			clerks[i].AccountID = id
		}
		numbers := make([]string, len(clerks))
		var wg sync.WaitGroup
		for i, c := range clerks {
			wg.Go(func() {
				tk, err := f.svc.CallNext(ctx, c, f.group.ID, "1号窗口")
				if err != nil {
					t.Error(err)
				}
				numbers[i] = tk.Number
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, n := range numbers {
			if seen[n] {
				t.Fatalf("numbers %v", numbers)
			}
			seen[n] = true
		}
	})
}
