package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// Demo complaints (有诉即应): the default categories, routing rules for the
// district, and some thirty complaints of the past three weeks in every
// state, made through the complaint service on a clock moved through those
// days, so that their limits, warnings and statistics are real.

// demoRoutes: category, region (the district, or a street), department.
var demoRoutes = []struct{ category, region, dept string }{
	{"general", "410411000000", "cgj"},
	{"general", "410411001000", "bmfw-410411001000"},
	{"general", "410411002000", "bmfw-410411002000"},
	{"utilities", "410411000000", "zjj"},
	{"emergency", "410411000000", "yjglj"},
}

// demoComplaint is one complaint of the demo and what happens to it:
// steps, in order, each some office hours after the one before.
type demoComplaint struct {
	daysAgo       int
	category      string
	region        string
	title, detail string
	address       string
	channel       complaint.Channel
	steps         string // e.g. "sign contact reply confirm+"
}

var demoComplaints = []demoComplaint{
	{20, "general", "410411001002", "小区门口路灯不亮", "开源社区南门的两盏路灯坏了半个月，晚上出入很不安全。", "开源路南门", complaint.Phone, "sign contact reply confirm+"},
	{19, "general", "410411002001", "夜间施工噪声扰民", "南环路工地每天夜里十一点后还在打桩，影响休息。", "南环路与建设路交叉口", complaint.Hotline, "sign contact progress reply confirm+"},
	{19, "utilities", "410411003002", "小区停水两天未恢复", "电厂社区3号楼停水两天，没有通知何时恢复。", "电厂社区3号楼", complaint.Hotline, "sign contact reply confirm+"},
	{18, "general", "410411004001", "垃圾清运不及时", "九里山社区垃圾点三天没清运，气味很大。", "九里山社区垃圾站", complaint.Window, "sign contact reply confirm+"},
	{17, "complex", "410411005002", "老旧小区加装电梯协调", "沁园社区5号楼想加装电梯，一楼住户不同意，希望街道协调。", "沁园社区5号楼", complaint.Window, "dispatch:zjj sign contact invite:bmfw-410411005000 progress reply confirm+"},
	{17, "general", "410411006001", "办事窗口排队时间长", "区行政服务中心社保窗口排队两个多小时，建议增加窗口。", "区行政服务中心", complaint.Phone, "sign contact reply confirm-"},
	{16, "emergency", "410411007001", "路面塌陷有安全隐患", "碧桂园小区北侧路面塌陷一个大坑，车辆经过很危险。", "碧桂园北侧道路", complaint.Hotline, "sign contact reply confirm+"},
	{15, "general", "410411001001", "占道经营堵塞交通", "马庄社区菜市场门口摊贩占道，早高峰车辆无法通行。", "马庄菜市场", complaint.Phone, "sign contact reply confirm+"},
	{14, "utilities", "410411002003", "冬季供暖温度不达标", "建井社区集中供暖室温只有十四度，老人孩子受不了。", "建井社区12号楼", complaint.Hotline, "sign contact progress reply confirm+"},
	{14, "general", "410411008001", "共享单车乱停放", "荆山社区公交站旁共享单车堆满人行道。", "荆山公交站", complaint.Window, "bounce sign contact reply confirm+"},
	{13, "complex", "410411009001", "小区物业交接纠纷", "河滨社区新旧物业交接，地下车库停车费收取有争议。", "河滨社区", complaint.Phone, "dispatch:zjj bounce dispatch:bmfw-410411009000 sign contact reply"},
	{12, "general", "410411003001", "公园健身器材损坏", "姚孟社区小游园的健身器材有两件断裂，孩子容易受伤。", "姚孟小游园", complaint.Hotline, "sign contact reply confirm+"},
	{12, "general", "410411004003", "餐馆油烟扰民", "翠林社区临街餐馆油烟直排，楼上住户不敢开窗。", "翠林路", complaint.Phone, "sign contact reply reopen contact reply confirm+"},
	{11, "utilities", "410411005001", "燃气表计量异常", "湛南社区家里没人时燃气表也在走，怀疑计量有误。", "湛南社区7号楼", complaint.Window, "sign contact reply"},
	{10, "general", "410411002004", "绿化带杂草丛生", "平安社区门前绿化带很久没人修剪，蚊虫很多。", "平安社区", complaint.Hotline, "sign contact reply confirm+"},
	{9, "general", "410411006200", "村道坑洼积水", "后城村主干道坑洼不平，雨后大面积积水。", "后城村主干道", complaint.Phone, "sign contact progress reply"},
	{9, "complex", "410411007002", "拆迁安置房办证进度", "蓝欣社区安置房交房三年还没办下不动产证。", "蓝欣社区", complaint.Window, "dispatch:zrzyfj sign contact progress"},
	{8, "general", "410411001003", "楼道堆放杂物", "东苑社区2号楼楼道堆满杂物，存在消防隐患。", "东苑社区2号楼", complaint.Hotline, "sign contact reply confirm+"},
	{7, "utilities", "410411009002", "路灯白天常亮", "湖畔社区沿河路灯白天也亮着，浪费电。", "湖畔沿河路", complaint.Phone, "sign contact reply confirm+"},
	{6, "general", "410411003003", "流浪犬伤人隐患", "湖光社区附近有几只流浪犬，经常追咬行人。", "湖光社区", complaint.Window, "sign contact progress"},
	{5, "general", "410411008200", "农田灌溉渠堵塞", "荆山村灌溉渠被垃圾堵塞，影响小麦浇水。", "荆山村东", complaint.Phone, "sign contact"},
	{5, "emergency", "410411002002", "高空坠物隐患", "光明社区一栋楼外墙瓷砖松动，随时可能掉落。", "光明社区8号楼", complaint.Hotline, "sign contact reply confirm+"},
	{4, "general", "410411006201", "公交站牌缺失", "小营村公交站牌被撞倒后一直没有恢复。", "小营村口", complaint.Hotline, "sign"},
	{4, "complex", "410411200201", "宅基地界址纠纷", "曹北村两户宅基地界址有争议，希望乡里调解。", "曹北村", complaint.Window, ""},
	{3, "general", "410411005003", "违规改建车库住人", "锦绣花园社区地下车库被改成出租屋。", "锦绣花园", complaint.Phone, "sign"},
	{3, "utilities", "410411004002", "电梯频繁故障", "矿建社区4号楼电梯一周坏了三次。", "矿建社区4号楼", complaint.Hotline, ""},
	{2, "general", "410411007200", "秸秆焚烧烟雾", "北渡村田间有人焚烧秸秆，烟雾很大。", "北渡村西", complaint.Phone, ""},
	{2, "general", "410411001004", "小区门禁损坏", "建设社区东门门禁坏了一个月，外来人员随意进出。", "建设社区东门", complaint.Window, "bounce"},
	{1, "complex", "410411003200", "土地流转租金拖欠", "姚孟村流转土地的租金去年的还没付清。", "姚孟村", complaint.Hotline, ""},
	{0, "general", "410411009003", "广场舞音响扰民", "清风社区广场晚上九点后还在放音乐。", "清风广场", complaint.Phone, ""},
}

// SeedComplaints adds the categories, the routing rules, a dispatcher
// account and the demo complaints, unless there are complaints already.
// svc counts on clk, which it moves through the past days (on cal's
// working days, in office hours) and leaves at the time it was given.
func SeedComplaints(ctx context.Context, db *store.DB, ids *identity.Service, svc *complaint.Service, clk *clock.Manual, cal *calendar.Calendar) (int, error) {
	var existing int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM complaints`).Scan(&existing); err != nil || existing > 0 {
		return 0, err
	}
	end := clk.Now()
	defer clk.Set(end)
	if err := svc.SeedDefaults(ctx, builder, demoMeta); err != nil {
		return 0, err
	}
	cats := map[string]int64{}
	all, err := svc.Categories(ctx, true)
	if err != nil {
		return 0, err
	}
	for _, c := range all {
		cats[c.Code] = c.ID
	}
	regions := region.NewStore(db)
	dept := func(slug string) (region.Department, error) { return regions.DepartmentBySlug(ctx, db.Read(), slug) }
	for _, r := range demoRoutes {
		d, err := dept(r.dept)
		if err != nil {
			return 0, err
		}
		if err := svc.SaveRoute(ctx, builder, demoMeta, cats[r.category], r.region, d.ID); err != nil {
			return 0, fmt.Errorf("demo route %s %s: %w", r.category, r.region, err)
		}
	}
	zwfwj, err := dept("zwfwj")
	if err != nil {
		return 0, err
	}
	dispatcher, err := demoAccount(ctx, db, ids, "dispatcher", "派单员周洁", zwfwj, policy.Dispatcher)
	if err != nil {
		return 0, err
	}
	xzfwzx, err := dept("xzfwzx")
	if err != nil {
		return 0, err
	}
	window, err := demoAccount(ctx, db, ids, "complaint.window", "有诉即应窗口郑红", xzfwzx, policy.Window)
	if err != nil {
		return 0, err
	}
	surnames := []rune("王李张刘陈杨赵黄周吴")
	made := 0
	for i, dc := range demoComplaints {
		// Received in office hours on a working day (the hotline's too, so
		// that the demo's limits read simply), never after now.
		day := calendar.DateOf(end).AddDays(-dc.daysAgo)
		for !cal.IsWorkday(day) {
			day = day.AddDays(-1)
		}
		at := day.Time().Add(time.Duration(9*60+(i*37)%420) * time.Minute)
		if at.After(end) {
			at = end.Add(-time.Duration(30+i) * time.Minute)
		}
		clk.Set(at)
		taker := window
		if dc.channel != complaint.Window {
			taker = dispatcher
		}
		n := complaint.Filing{CategoryID: cats[dc.category], Title: dc.title, Description: dc.detail, Address: dc.address, RegionCode: dc.region,
			Channel: dc.channel, Name: string(surnames[i%len(surnames)]) + "先生", Mobile: fmt.Sprintf("139%08d", 37510000+i)}
		if dc.channel == complaint.Hotline {
			n.ExternalID = fmt.Sprintf("12345-%s-%03d", day.String(), i+1)
		}
		c, _, err := svc.Create(ctx, taker, demoMeta, n)
		if err != nil {
			return made, fmt.Errorf("demo complaint %q: %w", dc.title, err)
		}
		made++
		if err := playSteps(ctx, db, ids, svc, clk, end, c, dispatcher, dc.steps); err != nil {
			return made, fmt.Errorf("demo complaint %q: %w", dc.title, err)
		}
	}
	return made, nil
}

// playSteps takes a demo complaint through its steps, each two office
// hours after the one before, stopping at now.
func playSteps(ctx context.Context, db *store.DB, ids *identity.Service, svc *complaint.Service, clk *clock.Manual, end time.Time,
	c complaint.Complaint, dispatcher policy.Subject, steps string) error {
	unit := func() (policy.Subject, error) { return DepartmentStaff(ctx, db, ids, c.DepartmentID) }
	for _, st := range strings.Fields(steps) {
		next := clk.Now().Add(2 * time.Hour)
		if h := next.In(clock.China).Hour(); h >= 17 || h < 9 {
			next = calendar.DateOf(next).AddDays(1).Time().Add(9*time.Hour + 30*time.Minute)
		}
		if next.After(end) {
			return nil
		}
		clk.Set(next)
		op, arg, _ := strings.Cut(st, ":")
		var err error
		switch op {
		case "dispatch":
			var d region.Department
			if d, err = region.NewStore(db).DepartmentBySlug(ctx, db.Read(), arg); err == nil {
				c, err = svc.Dispatch(ctx, dispatcher, demoMeta, c.ID, c.Version, d.ID, "请按职责办理")
			}
		case "bounce":
			var u policy.Subject
			if u, err = unit(); err == nil {
				c, err = svc.Bounce(ctx, u, demoMeta, c.ID, c.Version, "该事项不属于本单位职责，请重新派单")
			}
		case "sign", "contact", "progress", "reply", "invite":
			if op == "sign" && c.Status == complaint.Pending { // bounced: the dispatcher sends it on first
				var d region.Department
				if d, err = region.NewStore(db).DepartmentBySlug(ctx, db.Read(), "zjj"); err != nil {
					break
				}
				if c, err = svc.Dispatch(ctx, dispatcher, demoMeta, c.ID, c.Version, d.ID, "经核实属住建部门职责"); err != nil {
					break
				}
			}
			var u policy.Subject
			if u, err = unit(); err != nil {
				break
			}
			switch op {
			case "sign":
				c, err = svc.Sign(ctx, u, demoMeta, c.ID, c.Version)
			case "contact":
				c, err = svc.RecordContact(ctx, u, demoMeta, c.ID, "已电话联系诉求人，了解具体情况并约定现场查看时间")
			case "progress":
				c, err = svc.RecordProgress(ctx, u, demoMeta, c.ID, "工作人员已到现场查看，正在协调相关方处理", true)
			case "invite":
				var d region.Department
				if d, err = region.NewStore(db).DepartmentBySlug(ctx, db.Read(), arg); err == nil {
					c, err = svc.InviteHelper(ctx, u, demoMeta, c.ID, d.ID)
				}
			case "reply":
				c, err = svc.Reply(ctx, u, demoMeta, c.ID, c.Version, "经现场核实，问题已安排专人处理完毕，后续将加强巡查。如仍有问题请再次反映。")
			}
		case "reopen":
			// The person says it is not solved: back to the unit.
			c, err = svc.ConfirmFor(ctx, dispatcher, demoMeta, c.ID, c.Version, complaint.Confirmation{Resolved: false, Satisfied: false, Comment: "问题没有彻底解决，又出现了"})
		case "confirm+", "confirm-":
			c, err = svc.ConfirmFor(ctx, dispatcher, demoMeta, c.ID, c.Version, complaint.Confirmation{Resolved: true, Satisfied: op == "confirm+"})
		default:
			err = fmt.Errorf("unknown step %q", st)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// demoAccount opens a demo staff account unless it exists.
func demoAccount(ctx context.Context, db *store.DB, ids *identity.Service, username, name string, d region.Department, roles ...policy.Role) (policy.Subject, error) {
	var id int64
	err := db.Read().QueryRow(ctx, `SELECT id FROM accounts WHERE username = ?`, username).Scan(&id)
	if err != nil {
		acc, _, cerr := ids.CreateStaff(ctx, builder, demoMeta, identity.NewStaff{Username: username, Name: name, DepartmentID: d.ID, Roles: roles, Password: StaffPassword})
		if cerr != nil {
			return policy.Subject{}, cerr
		}
		id = acc.ID
	}
	return policy.Subject{AccountID: id, Kind: policy.Staff, Name: name, DepartmentID: d.ID, DepartmentKind: string(d.Kind), RegionCode: d.RegionCode, Roles: roles}, nil
}
