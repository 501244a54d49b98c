package demo

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/store"
)

// What the demo's applicants write, by how they rated, and what the units
// answer to a 差评.
var (
	goodComments = []string{"办理很快，工作人员解答耐心。", "网上提交很方便，不用跑腿。", "材料清单写得清楚，一次就办成了。",
		"进度短信提醒及时，很贴心。", "比预想的快，点赞。", "", "", ""}
	fairComments = []string{"等待时间稍长，希望能再快一些。", "办事指南有几处写得不够清楚，打电话问了才明白。", ""}
	badComments  = []string{"窗口告知的材料与网上指南不一致，多跑了一趟。", "审批时间超出预期，咨询电话一直无人接听。",
		"网上填报页面多次提交失败，只好到窗口办理。", "工作人员态度生硬，问问题不耐烦。"}
	callNotes = []string{"已电话联系申请人，核实情况属实，已致歉并说明整改措施。", "已电话回访，申请人反映的问题已记录，正在整改。"}
	fixes     = []string{"已核对并统一窗口与网上办事指南的材料清单，对窗口人员进行业务培训。",
		"已调整咨询电话值守安排，工作时间专人接听，并在办事指南中公布备用电话。",
		"已修复填报页面的提交问题，并在办事指南中补充填报说明。", "已对相关窗口人员进行服务规范教育，纳入月度考核。"}
)

// ratingEvent is one thing done to the demo's ratings, at its time.
type ratingEvent struct {
	at time.Time
	do func() error
}

// SeedRatings rates the demo's finished cases through the rating service
// on clk, as their applicants would have: most rate within a few days of
// the invitation, some never (and are reminded after three days); about
// one in twelve is a 差评, whose follow-up the unit takes on — called back,
// rectified on time or late, appealed (one upheld by the supervisor, one
// waiting), some still open. svc is the rating service on clk, which
// SeedRatings moves through those days up to now, never after it. It does
// nothing if there are ratings already, and returns how many it made.
func SeedRatings(ctx context.Context, db *store.DB, ids *identity.Service, svc *rating.Service, clk *clock.Manual, cal *calendar.Calendar, now time.Time) (int, error) {
	var existing int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM ratings`).Scan(&existing); err != nil || existing > 0 {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(2026, 12345))
	office := officeHours{cal: cal}
	type invited struct {
		id, account, enterprise, dept int64
		at                            time.Time
		name, scene                   string
	}
	rows, err := db.Read().Query(ctx, `SELECT i.id, i.account_id, COALESCE(i.enterprise_id, 0), i.department_id, i.invited_at, a.name, i.scene
		FROM rating_invitations i JOIN accounts a ON a.id = i.account_id WHERE i.rating_id IS NULL ORDER BY i.invited_at, i.id`)
	if err != nil {
		return 0, err
	}
	var list []invited
	for rows.Next() {
		var i invited
		if err := rows.Scan(&i.id, &i.account, &i.enterprise, &i.dept, &i.at, &i.name, &i.scene); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	supervisor, hasSupervisor, err := demoSupervisor(ctx, db)
	if err != nil {
		return 0, err
	}
	var events []ratingEvent
	at := func(t time.Time, do func() error) {
		if !t.After(now) {
			events = append(events, ratingEvent{t, do})
		}
	}
	made, bad := 0, 0
	for n, inv := range list {
		if rng.IntN(100) >= 75 {
			continue // never rated: reminded after three days
		}
		level := rating.Level(5)
		comment := goodComments[rng.IntN(len(goodComments))]
		switch r := rng.IntN(100); {
		case n%12 == 7:
			level, comment = rating.Level(1+rng.IntN(2)), badComments[rng.IntN(len(badComments))]
		case r < 25:
			level = 4
		case r < 35:
			level, comment = 3, fairComments[rng.IntN(len(fairComments))]
		}
		who := policy.Subject{Kind: policy.Person, AccountID: inv.account, Name: inv.name, ActingFor: inv.enterprise}
		ratedAt := office.after(inv.at, 20+rng.IntN(3*8*60))
		var followUp int64
		plan := -1
		if level.Bad() {
			plan, bad = bad, bad+1
		}
		at(ratedAt, func() error {
			in := rating.Input{Level: level, Comment: comment, Channel: rating.ByWeb, Scores: map[string]rating.Level{}}
			if rng.IntN(3) == 0 {
				in.Channel = rating.ByMessage
			}
			got, err := svc.Rate(ctx, who, demoMeta, inv.id, scored(in, inv.scene, rng))
			followUp = got.FollowUpID
			made++
			return err
		})
		if plan < 0 {
			continue
		}
		staff, err := DepartmentStaff(ctx, db, ids, inv.dept)
		if err != nil {
			return made, err
		}
		called := office.after(ratedAt, 60+rng.IntN(8*60))
		step := func(t time.Time, do func(id int64) error) {
			at(t, func() error { return do(followUp) })
		}
		switch {
		case plan == 3 && hasSupervisor || plan == 4 && hasSupervisor:
			// Appealed as a mistaken rating: upheld for one, waiting for the other.
			appealed := office.after(ratedAt, 120)
			step(appealed, func(id int64) error {
				return svc.Appeal(ctx, staff, demoMeta, id, "评价内容反映的是其他部门办理的事项，与本办件无关，属误评。")
			})
			if plan == 3 {
				step(office.after(appealed, 8*60), func(id int64) error {
					return svc.DecideAppeal(ctx, supervisor, demoMeta, id, true, "经核查，评价人反映的问题不属于本部门本办件，申诉成立。")
				})
			}
		case plan == 5:
			// Not yet called back.
		default:
			step(called, func(id int64) error {
				return svc.CallBack(ctx, staff, demoMeta, id, rng.IntN(5) > 0, callNotes[rng.IntN(len(callNotes))])
			})
			if plan == 2 {
				break // called back, rectification under way
			}
			// Rectified within the limit, or (one in four) some days late.
			days := 1 + rng.IntN(3)
			if plan%4 == 1 {
				days = svc.RectifyDays() + 2
			}
			step(office.after(called, days*8*60), func(id int64) error {
				return svc.Rectify(ctx, staff, demoMeta, id, fixes[rng.IntN(len(fixes))])
			})
		}
	}
	slices.SortStableFunc(events, func(a, b ratingEvent) int { return cmp.Compare(a.at.UnixNano(), b.at.UnixNano()) })
	for _, e := range events {
		clk.Set(e.at)
		// The reminders owed by then go out first, as the hourly check
		// would have sent them.
		if _, err := svc.CheckReminders(ctx); err != nil {
			return made, err
		}
		if err := e.do(); err != nil {
			return made, err
		}
	}
	clk.Set(now)
	_, err = svc.CheckReminders(ctx)
	return made, err
}

// scored gives each of a scene's dimensions a level near the overall one.
func scored(in rating.Input, scene string, rng *rand.Rand) rating.Input {
	for _, d := range rating.Dimensions(scene) {
		l := in.Level + rating.Level(rng.IntN(3)-1)
		if in.Level.Bad() {
			l = rating.Level(1 + rng.IntN(2)) // a 差评 scores low throughout
		}
		in.Scores[d.Key] = min(max(l, 1), 5)
	}
	return in
}

// demoSupervisor is the demo's district supervisor, who decides appeals;
// false when the demo staff were not made.
func demoSupervisor(ctx context.Context, db *store.DB) (policy.Subject, bool, error) {
	who := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Supervisor}}
	err := db.Read().QueryRow(ctx, `SELECT a.id, a.name, d.id, d.kind, d.region_code FROM accounts a JOIN departments d ON d.id = a.department_id
		WHERE a.username = 'supervisor'`).Scan(&who.AccountID, &who.Name, &who.DepartmentID, &who.DepartmentKind, &who.RegionCode)
	if errors.Is(err, sql.ErrNoRows) {
		return who, false, nil
	}
	return who, err == nil, err
}
