package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// StaffPassword is the password of every demo staff account. It is printed
// by `zwfw demo` and must never be used outside a demonstration.
const StaffPassword = "Zwfw-Demo-2026"

// StaffAccount describes a demo staff account for the start-up message.
type StaffAccount struct {
	Username, Name, Department, Roles string
}

// demoStaff covers every role, in district bureaus, a street centre and a
// community station, so that each view of the platform can be tried.
var demoStaff = []struct {
	username, name, dept string
	roles                []policy.Role
}{
	{"admin", "系统管理员", "xzfwzx", []policy.Role{policy.Admin}},
	{"supervisor", "督查员刘敏", "zwfwj", []policy.Role{policy.Supervisor}},
	{"scjg.window", "窗口人员王芳", "scjgj", []policy.Role{policy.Window}},
	{"scjg.reviewer", "审批人员李强", "scjgj", []policy.Role{policy.Reviewer}},
	{"scjg.head", "科长赵伟", "scjgj", []policy.Role{policy.Head, policy.Reviewer}},
	{"scjg.catalog", "事项管理员陈静", "scjgj", []policy.Role{policy.CatalogManager}},
	{"mzj.reviewer", "审批人员孙丽", "mzj", []policy.Role{policy.Reviewer, policy.Window}},
	{"mazhuang.window", "便民服务中心周涛", "", []policy.Role{policy.Window, policy.Reviewer}},
	{"community.window", "便民服务站吴霞", "", []policy.Role{policy.Window}},
	// 帮办代办: a worker of the same community station who applies for
	// elderly residents (seedAssisted).
	{AssistantUsername, "社区帮办代办员郑秀梅", "", []policy.Role{policy.Assistant}},
	// 一件事一次办: a clerk of each department of 出生一件事, who takes
	// every step of their part (small units: window, review, decision).
	{"wjw.window", "出生医学证明签发员何静", "wjw", []policy.Role{policy.Window, policy.Reviewer, policy.Head}},
	{"gafj.window", "户籍民警马军", "gafj", []policy.Role{policy.Window, policy.Reviewer, policy.Head}},
	{"ybj.window", "医保经办员郭敏", "ybj", []policy.Role{policy.Window, policy.Reviewer, policy.Head}},
	{"rsj.window", "社保经办员林涛", "rsj", []policy.Role{policy.Window, policy.Reviewer, policy.Head}},
}

// builder is who makes the demo's data, acting as an administrator;
// demoMeta is where its changes come from, for the audit log.
var (
	builder  = policy.Subject{Kind: policy.Staff, Name: "演示数据", Roles: []policy.Role{policy.Admin}}
	demoMeta = identity.Meta{IP: "demo", Client: "zwfw demo"}
)

// SeedStaff opens the demo staff accounts unless they exist, and lists them.
func SeedStaff(ctx context.Context, db *store.DB, ids *identity.Service) ([]StaffAccount, error) {
	regions := region.NewStore(db)
	streets, err := regions.Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
	if err != nil || len(streets) == 0 {
		return nil, fmt.Errorf("demo staff: no street centre (%v)", err)
	}
	stations, err := regions.Departments(ctx, region.DepartmentFilter{Kind: region.CommunityStation, Within: streets[0].RegionCode})
	if err != nil || len(stations) == 0 {
		return nil, fmt.Errorf("demo staff: no community station (%v)", err)
	}
	var out []StaffAccount
	for _, st := range demoStaff {
		var dept region.Department
		switch st.username {
		case "mazhuang.window":
			dept = streets[0]
		case "community.window", AssistantUsername:
			dept = stations[0]
		default:
			if dept, err = regions.DepartmentBySlug(ctx, db.Read(), st.dept); err != nil {
				return nil, err
			}
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE username = ?`, st.username).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			if _, _, err := ids.CreateStaff(ctx, builder, demoMeta, identity.NewStaff{Username: st.username, Name: st.name, DepartmentID: dept.ID,
				Roles: st.roles, Password: StaffPassword}); err != nil {
				return nil, fmt.Errorf("%s: %w", st.username, err)
			}
		}
		names := make([]string, len(st.roles))
		for i, r := range st.roles {
			names[i] = r.Name()
		}
		out = append(out, StaffAccount{Username: st.username, Name: st.name, Department: dept.ShortName, Roles: strings.Join(names, "、")})
	}
	return out, nil
}
