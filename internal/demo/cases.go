package demo

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// demoPDF is the scanned material every demo case hands in (one file: the
// store keeps it once).
var demoPDF = []byte("%PDF-1.4\n% zwfw 演示材料 demo material\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

// SeedCases makes n cases in the demo district through the same service
// methods as real ones, spread over the last weeks so that the queues hold
// every state, some cases due soon and some late. svc is the case service
// on clk, which SeedCases moves through those weeks from clk's now: staff
// act in office hours on working days (cal says which), never after now,
// and a 即办件 is done within the hour. It does nothing if the district
// already has cases.
func SeedCases(ctx context.Context, db *store.DB, ids *identity.Service, svc *casework.Service, clk *clock.Manual, cal *calendar.Calendar, files filestore.Store, n int) (int, error) {
	var existing int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&existing); err != nil || existing > 0 || n <= 0 {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(2026, 410411))
	now := clk.Now()
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, clk)
	pdf, err := files.Put(ctx, bytes.NewReader(demoPDF), 1<<20)
	if err != nil {
		return 0, err
	}
	// The items that can be applied for online, and a clerk and reviewer per department.
	published, err := items.AllPublished(ctx)
	if err != nil {
		return 0, err
	}
	var online []catalog.Item
	for _, it := range published {
		if it.Depth.Online() && it.Status == catalog.Published {
			online = append(online, it)
		}
	}
	if len(online) == 0 {
		return 0, nil
	}
	staff := map[int64]policy.Subject{}
	staffFor := func(deptID int64) (policy.Subject, error) {
		if s, ok := staff[deptID]; ok {
			return s, nil
		}
		s, err := DepartmentStaff(ctx, db, ids, deptID)
		staff[deptID] = s
		return s, err
	}
	// Demo citizens: made-up people with well-formed numbers.
	var people []policy.Subject
	var details []person
	surnames := []rune("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗")
	given := []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平"}
	for i := range 40 {
		first17 := fmt.Sprintf("410411%04d%02d%02d%03d", 1950+rng.IntN(55), 1+rng.IntN(12), 1+rng.IntN(28), 100+i)
		check, err := ident.IDCardCheckChar(first17)
		if err != nil {
			return 0, err
		}
		name := string(surnames[rng.IntN(len(surnames))]) + given[rng.IntN(len(given))]
		id, err := ids.PersonAtCounter(ctx, 0, name, first17+string(check), fmt.Sprintf("1390375%04d", i), identity.Meta{IP: "demo"})
		if err != nil {
			return 0, err
		}
		people = append(people, policy.Subject{AccountID: id, Kind: policy.Person, Name: name})
		details = append(details, person{name: name, idNumber: first17 + string(check), mobile: fmt.Sprintf("1390375%04d", i)})
	}
	office := officeHours{cal: cal}
	// 帮办代办: the first cases are the community worker's, for elderly
	// residents (on a generator of their own: the others stay as they were).
	made, err := seedAssisted(ctx, db, ids, svc, clk, online, office, rand.New(rand.NewPCG(2026, 11)), files, pdf, n)
	if err != nil {
		return made, err
	}
	for i := range n - made {
		it := online[rng.IntN(len(online))]
		k := rng.IntN(len(people))
		who := people[k]
		clerk, err := staffFor(it.DepartmentID)
		if err != nil {
			return made, err
		}
		// Created in office hours on a working day of the last 40 days;
		// each later step some working hours on (minutes for a 即办件).
		clk.Set(office.random(rng, now, 40))
		next := func() bool {
			minutes := 30 + rng.IntN(600)
			if it.CaseKind == catalog.Immediate {
				minutes = 3 + rng.IntN(20)
			}
			t := office.after(clk.Now(), minutes)
			if t.After(now) {
				return false // the future has not happened yet
			}
			clk.Set(t)
			return true
		}
		answers := map[string]string{}
		for _, sec := range it.Form {
			for _, f := range sec.Fields {
				answers[f.Key] = demoAnswer(rng, f, details[k])
			}
		}
		c, err := svc.CreateDraft(ctx, who, it.ID, answers)
		if err != nil {
			return made, fmt.Errorf("demo case %d (%s): %w", i, it.Name, err)
		}
		made++
		if rng.IntN(20) == 0 {
			continue // some stay drafts
		}
		for pos, m := range it.Materials {
			if m.Necessity == "必需" {
				if c, err = svc.Attach(ctx, who, c.ID, c.Version, pos, pdf, m.Name+".pdf", 0); err != nil {
					return made, err
				}
			}
		}
		if !next() {
			continue // still being filled in
		}
		if c, err = svc.Act(ctx, who, c.ID, c.Version, casework.Submit, ""); err != nil {
			return made, err
		}
		// Then as far along the workflow as chance says. A 即办件 accepted
		// is decided and completed at once: it never waits in review.
		plan := rng.IntN(10)
		if it.CaseKind == catalog.Immediate && plan >= 3 && plan <= 6 {
			plan = 7 + rng.IntN(3)
		}
		act := func(a casework.Action, reason string) bool {
			if !next() {
				return false
			}
			var err2 error
			switch a {
			case casework.Decide:
				// One decision in ten is a denial, which states its own reason.
				approve := rng.IntN(10) > 0
				if !approve {
					reason = "申请不符合本事项规定的受理条件"
				}
				c, err2 = svc.Decide(ctx, clerk, c.ID, c.Version, approve, reason, "")
			case casework.Deliver:
				c, err2 = svc.Deliver(ctx, clerk, c.ID, c.Version, casework.DeliverOnline, "申请人已在线下载")
			case casework.AskCorrect:
				c, err2 = svc.AskCorrection(ctx, clerk, c.ID, c.Version, reason, []int{0})
			default:
				c, err2 = svc.Act(ctx, clerk, c.ID, c.Version, a, reason)
			}
			return err2 == nil
		}
		switch {
		case plan == 0:
			if rng.IntN(2) == 0 {
				act(casework.Precheck, "") // the other half waits for 预审
			}
			continue
		case plan == 1:
			if act(casework.AskCorrect, "所提交材料的扫描件不清晰，请重新提交清晰的扫描件") && rng.IntN(4) == 0 && next() {
				c, _ = svc.Act(ctx, who, c.ID, c.Version, casework.Withdraw, "") // some give up
			}
			continue
		case plan == 2:
			act(casework.Refuse, "申请事项不属于本机关职权范围")
			continue
		}
		if !act(casework.Accept, "") || plan == 3 {
			continue
		}
		if plan == 4 {
			act(casework.Pause, "需要现场核查")
			continue
		}
		// 审查 by the reviewer, 决定 by the head (the demo clerk holds both).
		if plan == 5 || !act(casework.Review, "经审查，材料齐全，符合条件，建议准予") || plan == 6 || !act(casework.Decide, "经审查，符合条件，准予办理") || plan == 7 {
			continue
		}
		if !next() {
			continue
		}
		result := pdf
		if c.Decision == casework.Denied {
			result = filestore.Object{} // a denial ends with its decision
		}
		if c, err = svc.Complete(ctx, clerk, c.ID, c.Version, result, it.Result.Name+".pdf"); err != nil {
			return made, err
		}
		if plan == 9 {
			act(casework.Deliver, "")
		}
	}
	return made, nil
}

// officeHours are when the demo's staff and people act: 9:00 to 17:00,
// Beijing time, on working days.
type officeHours struct {
	cal *calendar.Calendar
}

const openAt, closeAt = 9 * 60, 17 * 60 // minutes after midnight

// random is a time in office hours within the days before now, not after it.
func (o officeHours) random(rng *rand.Rand, now time.Time, days int) time.Time {
	for {
		day := calendar.DateOf(now).AddDays(-rng.IntN(days))
		if !o.cal.IsWorkday(day) {
			continue
		}
		t := day.Time().Add(time.Duration(openAt+rng.IntN(closeAt-openAt)) * time.Minute)
		if !t.After(now) {
			return t
		}
	}
}

// after is t moved on by minutes of office time.
func (o officeHours) after(t time.Time, minutes int) time.Time {
	for {
		day := calendar.DateOf(t)
		start := day.Time()
		at := int(t.Sub(start) / time.Minute)
		switch {
		case !o.cal.IsWorkday(day) || at >= closeAt:
			t = start.AddDate(0, 0, 1).Add(openAt * time.Minute)
			continue
		case at < openAt:
			t, at = start.Add(openAt*time.Minute), openAt
		}
		left := closeAt - at
		if minutes < left {
			return t.Add(time.Duration(minutes) * time.Minute)
		}
		minutes -= left
		t = start.AddDate(0, 0, 1).Add(openAt * time.Minute)
	}
}

// person is what a demo applicant's answers are made of.
type person struct {
	name, idNumber, mobile string
}

var (
	demoRoads     = []string{"开源路", "湛河北路", "姚孟大街", "曹镇大街", "光明路", "建设路", "南环路", "轻工路", "高阳路", "九里山路"}
	demoCompanies = []string{"鑫源商贸", "豫通物流", "湛河百货", "恒达建筑工程", "新城餐饮管理", "康宁大药房", "鹰城科技", "瑞丰农业发展"}
	demoSurnames  = []rune("王李张刘陈杨赵黄周吴")
	demoGiven     = []string{"建国", "丽娟", "海涛", "秀兰", "志强", "春梅", "子涵", "浩然"}
)

// demoAnswer fills a form field as a person would: their own name, number
// and phone; an address on a real road of the district; a company name
// that looks registered; numbers that fit the label.
func demoAnswer(rng *rand.Rand, f catalog.FormField, p person) string {
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	otherName := func() string { return string(demoSurnames[rng.IntN(len(demoSurnames))]) + pick(demoGiven) }
	address := func() string {
		return fmt.Sprintf("平顶山市湛河区%s%d号%d号楼%d单元%d室", pick(demoRoads), 1+rng.IntN(300), 1+rng.IntN(20), 1+rng.IntN(4), 101+rng.IntN(18)*100+rng.IntN(4))
	}
	company := func() string { return "平顶山市湛河区" + pick(demoCompanies) + "有限公司" }
	l := f.Label
	switch f.Type {
	case "idcard":
		return p.idNumber
	case "mobile":
		return p.mobile
	case "creditcode":
		return demoCreditCode(rng)
	case "date":
		return time.Date(2026, time.Month(1+rng.IntN(10)), 1+rng.IntN(28), 0, 0, 0, 0, clock.China).Format(time.DateOnly)
	case "email":
		return p.mobile + "@139.com"
	case "select", "radio", "checkbox":
		if len(f.Options) > 0 {
			return f.Options[rng.IntN(len(f.Options))]
		}
	case "number":
		switch {
		case strings.Contains(l, "面积"):
			return strconv.Itoa(20 + rng.IntN(300))
		case strings.Contains(l, "万元"):
			return strconv.Itoa(10 + rng.IntN(490))
		case strings.Contains(l, "（元）"):
			return strconv.Itoa(500 + rng.IntN(50000))
		case strings.Contains(l, "年份"):
			return strconv.Itoa(2010 + rng.IntN(15))
		}
		return strconv.Itoa(1 + rng.IntN(30))
	}
	switch {
	case l == "申请人姓名" || strings.HasPrefix(l, "申请人（") || strings.Contains(l, "经办人"):
		return p.name
	case strings.HasSuffix(l, "识别号"):
		return demoCreditCode(rng)
	case strings.Contains(l, "姓名") || strings.Contains(l, "联系人") || strings.Contains(l, "负责人") || strings.Contains(l, "代表人") ||
		strings.Contains(l, "管理员") || strings.Contains(l, "人员") || strings.Contains(l, "代办人") || strings.Contains(l, "当事人") ||
		strings.Contains(l, "被投诉人"):
		return otherName()
	case strings.Contains(l, "地址") || strings.Contains(l, "住址") || strings.Contains(l, "住所") || strings.Contains(l, "场所") ||
		strings.Contains(l, "地点") || strings.Contains(l, "坐落") || strings.Contains(l, "位置"):
		return address()
	case strings.Contains(l, "单位") || strings.Contains(l, "企业") || strings.Contains(l, "名称") && !strings.Contains(l, "项目") && !strings.Contains(l, "工程"):
		return company()
	case strings.Contains(l, "项目") || strings.Contains(l, "工程"):
		return "湛河区" + pick(demoRoads) + "片区改造项目"
	case strings.Contains(l, "编码") || strings.HasSuffix(l, "号") && !strings.Contains(l, "房号") && !strings.Contains(l, "文号") && !strings.Contains(l, "型号") && !strings.Contains(l, "机号") && !strings.Contains(l, "）号"):
		return fmt.Sprintf("4104112026%06d", rng.IntN(1000000))
	case strings.Contains(l, "经营范围") || strings.Contains(l, "业务范围") || strings.Contains(l, "品种"):
		return "日用百货、预包装食品、文具用品销售"
	case f.Type == "textarea" || strings.Contains(l, "理由") || strings.Contains(l, "原因") || strings.Contains(l, "情况") || strings.Contains(l, "经过"):
		return "因家庭生活需要申请办理，所填情况属实，相关材料已按要求提交。"
	}
	for _, kv := range [][2]string{{"关系", "父女"}, {"学校", "湛河区实验小学"}, {"年级", "三年级"}, {"学科", "小学语文"},
		{"转出地", "河南省洛阳市涧西区"}, {"转入地", "河南省平顶山市湛河区"}, {"就医地", "河南省郑州市"}, {"医院", "平顶山市第一人民医院"},
		{"类别", "批发和零售业"}, {"性质", "商业"}, {"种类", "生猪"}, {"意向", "仓储物流"}, {"病种", "高血压"}, {"用途", "出国探亲"},
		{"区域", "湛河区"}, {"工种", "电工"}, {"银行", "中国工商银行平顶山湛河支行"}, {"部位", "左手腕"}, {"规模", "年产500吨"},
		{"型号", "东方红LX904"}, {"品目", "拖拉机"}, {"树种", "法国梧桐"}, {"规格", "6×2"}, {"村组", "曹镇乡北李庄村三组"},
		{"内容", "经营者姓名变更"}, {"文号", "平湛消审字〔2026〕第018号"}, {"机关", "湛河区市场监督管理局"}, {"房号", "3号楼2单元1102室"},
		{"发动机号", "YC4D1203M5021"}, {"机架", "LZFF31R64KD019823"}, {"范围", "内科"}, {"机构", "湛河区人民医院"}, {"楼栋", "3号楼"}} {
		if strings.Contains(l, kv[0]) {
			return kv[1]
		}
	}
	return "无"
}

// demoCreditCode is a made-up but well-formed 统一社会信用代码 of an
// enterprise (91) registered in the district.
func demoCreditCode(rng *rand.Rand) string {
	body := fmt.Sprintf("MA%06d", rng.IntN(1000000))
	org, err := ident.OrgCodeCheckChar(body)
	if err != nil {
		panic(err) // the body above is always valid
	}
	first17 := "91410411" + body + string(org)
	check, err := ident.CreditCodeCheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(check)
}

// DepartmentStaff is the demo's clerk of a department, who takes every
// step of its cases (窗口、审批、负责人): the account demo.<slug>, opened
// unless it exists.
func DepartmentStaff(ctx context.Context, db *store.DB, ids *identity.Service, deptID int64) (policy.Subject, error) {
	d, err := region.NewStore(db).Department(ctx, deptID)
	if err != nil {
		return policy.Subject{}, err
	}
	roles := []policy.Role{policy.Window, policy.Reviewer, policy.Head}
	var id int64
	err = db.Read().QueryRow(ctx, `SELECT id FROM accounts WHERE username = ?`, "demo."+d.Slug).Scan(&id)
	if err != nil {
		acc, _, cerr := ids.CreateStaff(ctx, builder, demoMeta, identity.NewStaff{Username: "demo." + d.Slug, Name: d.ShortName + "演示办理员",
			DepartmentID: d.ID, Roles: roles, Password: StaffPassword})
		if cerr != nil {
			return policy.Subject{}, cerr
		}
		id = acc.ID
	}
	return policy.Subject{AccountID: id, Kind: policy.Staff, Name: d.ShortName + "演示办理员", DepartmentID: d.ID,
		DepartmentKind: string(d.Kind), RegionCode: d.RegionCode, Roles: roles}, nil
}
