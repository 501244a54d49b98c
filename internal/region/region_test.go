package region_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

var (
	district = region.Region{Code: "410411000000", Name: "湛河区", Level: region.District, Kind: "区"}
	street   = region.Region{Code: "410411001000", Name: "马庄街道", Level: region.Street, ParentCode: district.Code, Kind: "街道"}
	township = region.Region{Code: "410411200000", Name: "曹镇乡", Level: region.Street, ParentCode: district.Code, Kind: "乡"}
	village  = region.Region{Code: "410411200201", Name: "曹北村", Level: region.Community, ParentCode: township.Code, Kind: "村"}
)

func TestValidate(t *testing.T) {
	d, s := district, street
	cases := []struct {
		name   string
		r      region.Region
		parent *region.Region
		ok     bool
	}{
		{"district", d, nil, true},
		{"street", s, &d, true},
		{"village", village, &township, true},
		{"district with a parent", d, &d, false},
		{"district code not ending in zeros", region.Region{Code: "410411001000", Name: "x", Level: 1, Kind: "区"}, nil, false},
		{"street without parent", s, nil, false},
		{"street of another county", region.Region{Code: "410402001000", Name: "x", Level: 2, ParentCode: d.Code, Kind: "街道"}, &d, false},
		{"street with community digits", region.Region{Code: "410411001001", Name: "x", Level: 2, ParentCode: d.Code, Kind: "街道"}, &d, false},
		{"community under the wrong street", region.Region{Code: "410411002001", Name: "x", Level: 3, ParentCode: s.Code, Kind: "社区"}, &s, false},
		{"community under the district", region.Region{Code: "410411001001", Name: "x", Level: 3, ParentCode: d.Code, Kind: "社区"}, &d, false},
		{"short code", region.Region{Code: "410411", Name: "x", Level: 1, Kind: "区"}, nil, false},
		{"letters in code", region.Region{Code: "41041100000A", Name: "x", Level: 1, Kind: "区"}, nil, false},
		{"empty name", region.Region{Code: d.Code, Name: " ", Level: 1, Kind: "区"}, nil, false},
		{"wrong kind for level", region.Region{Code: s.Code, Name: "x", Level: 2, ParentCode: d.Code, Kind: "社区"}, &d, false},
		{"bad level", region.Region{Code: d.Code, Name: "x", Level: 4, Kind: "区"}, nil, false},
	}
	for _, c := range cases {
		err := c.r.Validate(c.parent)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && (!apperr.Is(err, apperr.Invalid) || apperr.MessageOf(err) == "") {
			t.Errorf("%s: %v is not an invalid-input error with a message", c.name, err)
		}
	}
}

func TestContains(t *testing.T) {
	if !district.Contains(village.Code) || !township.Contains(village.Code) || street.Contains(village.Code) || !village.Contains(village.Code) {
		t.Fatal("Contains disagrees with the tree")
	}
}

func TestStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := region.NewStore(db)
		now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		add := func(fn func(tx *store.Tx) error) error { return db.Tx(ctx, fn) }
		if _, err := s.District(ctx); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("district of an empty database: %v", err)
		}
		for _, r := range []region.Region{district, street, township, village} {
			if err := add(func(tx *store.Tx) error { return s.AddRegion(ctx, tx, r) }); err != nil {
				t.Fatalf("%s: %v", r.Name, err)
			}
		}
		bad := []struct {
			r    region.Region
			code apperr.Code
		}{
			{district, apperr.Conflict},
			{region.Region{Code: "410402000000", Name: "卫东区", Level: 1, Kind: "区"}, apperr.Conflict},
			{region.Region{Code: "410411003000", Name: "x", Level: 2, ParentCode: "410411009000", Kind: "街道"}, apperr.Invalid},
		}
		for _, b := range bad {
			if err := add(func(tx *store.Tx) error { return s.AddRegion(ctx, tx, b.r) }); !apperr.Is(err, b.code) {
				t.Errorf("%+v: %v, want %s", b.r, err, b.code)
			}
		}
		if regs, _ := s.Regions(ctx, region.RegionFilter{}); len(regs) != 4 {
			t.Fatalf("a refused region was stored: %d regions", len(regs))
		}

		dept := region.Department{Slug: "bmfw-cz", Name: "曹镇乡便民服务中心", ShortName: "曹镇乡便民服务中心", RegionCode: township.Code, Kind: region.StreetCenter}
		var id int64
		if err := add(func(tx *store.Tx) (err error) { id, err = s.AddDepartment(ctx, tx, dept, now); return err }); err != nil {
			t.Fatal(err)
		}
		station := region.Department{Slug: "bmfw-cb", Name: "曹北村便民服务站", ShortName: "曹北村便民服务站", RegionCode: village.Code, Kind: region.CommunityStation}
		if err := add(func(tx *store.Tx) error { _, err := s.AddDepartment(ctx, tx, station, now); return err }); err != nil {
			t.Fatal(err)
		}
		refused := []region.Department{
			dept, // duplicate
			{Slug: "x", Name: "区民政局", ShortName: "区民政局", RegionCode: street.Code, Kind: region.Bureau},           // bureau on a street
			{Slug: "Bad Slug", Name: "y", ShortName: "y", RegionCode: district.Code, Kind: region.Bureau},        // slug
			{Slug: "z", Name: "z", ShortName: "z", RegionCode: "410411777000", Kind: region.Bureau},              // no region
			{Slug: "w", Name: "w", ShortName: "w", RegionCode: district.Code, Kind: region.DeptKind("ministry")}, // kind
		}
		for _, d := range refused {
			err := add(func(tx *store.Tx) error { _, err := s.AddDepartment(ctx, tx, d, now); return err })
			if err == nil || apperr.CodeOf(err) == apperr.Internal {
				t.Errorf("%+v: %v, want a refusal", d, err)
			}
		}
		got, err := s.Department(ctx, id)
		if err != nil || got.Name != dept.Name || got.RegionCode != township.Code {
			t.Fatalf("%+v %v", got, err)
		}
		within, err := s.Departments(ctx, region.DepartmentFilter{Within: township.Code})
		if err != nil || len(within) != 2 {
			t.Fatalf("within the township: %d, %v", len(within), err)
		}
		within, _ = s.Departments(ctx, region.DepartmentFilter{Within: street.Code})
		if len(within) != 0 {
			t.Fatalf("the neighbour street sees %d departments", len(within))
		}
		found, _ := s.Departments(ctx, region.DepartmentFilter{Query: "曹北"})
		if len(found) != 1 || found[0].Slug != "bmfw-cb" {
			t.Fatalf("query: %+v", found)
		}
		if none, _ := s.Departments(ctx, region.DepartmentFilter{Query: "%"}); len(none) != 0 {
			t.Fatalf("%% is a wildcard in the query: %d found", len(none))
		}
	})
}

// A department's contact details are changed by those the policy lets edit
// it (administrators) and no one else, and the change is audited with the
// clock's time, the request's address and what the details were before.
func TestUpdateContactIsAnAdministratorsAndAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
		if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
			t.Fatal(err)
		}
		s := region.NewStore(db).WithClock(clk)
		d, err := s.DepartmentBySlug(ctx, db.Read(), "mzj")
		if err != nil {
			t.Fatal(err)
		}
		c := region.DepartmentContact{ShortName: "民政局", Phone: "0375-1234567", Address: "湛河区民政路1号", Hours: "工作日 9:00-17:00"}
		at := audit.Meta{IP: "10.0.0.7", Client: "test"}
		head := policy.Subject{AccountID: 5, Kind: policy.Staff, Name: "科长", DepartmentID: d.ID, RegionCode: d.RegionCode,
			Roles: []policy.Role{policy.Head, policy.Supervisor, policy.CatalogManager}}
		if err := s.UpdateContact(ctx, head, at, d.ID, c); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("the department's own head: %v", err)
		}
		if err := s.UpdateContact(ctx, policy.Subject{Kind: policy.Anonymous}, at, d.ID, c); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("anonymous: %v", err)
		}
		if after, _ := s.Department(ctx, d.ID); after.Phone != d.Phone {
			t.Fatalf("changed by a refused request: %+v", after)
		}
		clk.Advance(time.Hour)
		admin := policy.Subject{Kind: policy.Staff, Name: "系统管理员", Roles: []policy.Role{policy.Admin}}
		if err := s.UpdateContact(ctx, admin, at, d.ID, c); err != nil {
			t.Fatal(err)
		}
		if after, _ := s.Department(ctx, d.ID); after.Phone != c.Phone || after.Hours != c.Hours {
			t.Fatalf("after the change: %+v", after)
		}
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Action: "department_update"})
		if err != nil || len(entries) != 1 {
			t.Fatalf("entries %+v, %v", entries, err)
		}
		e := entries[0]
		if e.Actor != admin.Name || e.IP != at.IP || !e.At.Equal(clk.Now()) || !strings.Contains(e.Detail, "电话「"+d.Phone+"」→「"+c.Phone+"」") {
			t.Fatalf("entry %+v", e)
		}
	})
}

// Each instance keeps a copy of the regions and departments; a change
// made through another instance's store is seen by the next read, and the
// copy lists what the database holds in the same order and with the same
// filters.
func TestDirectoryFollowsOtherInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
		if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
			t.Fatal(err)
		}
		a, b := region.NewStore(db).WithClock(clk), region.NewStore(db)
		d, err := a.DepartmentBySlug(ctx, db.Read(), "mzj")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := b.Department(ctx, d.ID); err != nil || got != d {
			t.Fatalf("b's copy: %+v, %v; the database: %+v", got, err, d)
		}
		// The copy's order is the query's: levels, the centre first, region code, ID.
		var want []int64
		rows, err := db.Read().Query(ctx, `SELECT d.id FROM departments d JOIN regions r ON r.code = d.region_code
			ORDER BY r.level, CASE d.kind WHEN 'center' THEN 0 ELSE 1 END, d.region_code, d.id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			want = append(want, id)
		}
		rows.Close()
		all, err := b.Departments(ctx, region.DepartmentFilter{})
		if err != nil || len(all) != len(want) || len(all) < 10 {
			t.Fatalf("%d departments, want %d: %v", len(all), len(want), err)
		}
		for i := range all {
			if all[i].ID != want[i] {
				t.Fatalf("department %d is %d, the query has %d", i, all[i].ID, want[i])
			}
		}
		admin := policy.Subject{Kind: policy.Staff, Name: "系统管理员", Roles: []policy.Role{policy.Admin}}
		c := region.DepartmentContact{ShortName: "区民政", Phone: "0375-7654321", Address: "湛河区民政路2号", Hours: "工作日 9:00-17:00"}
		if err := a.UpdateContact(ctx, admin, audit.Meta{}, d.ID, c); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.Department(ctx, d.ID); got.Phone != c.Phone || got.ShortName != c.ShortName {
			t.Fatalf("b after a's change: %+v", got)
		}
		if found, _ := b.Departments(ctx, region.DepartmentFilter{Query: "区民政"}); len(found) != 1 || found[0].ID != d.ID {
			t.Fatalf("b finds by the new short name: %+v", found)
		}
		district, err := a.District(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			id, err = a.AddDepartment(ctx, tx, region.Department{Slug: "tyj", Name: "区体育局", ShortName: "体育局",
				RegionCode: district.Code, Kind: region.Bureau}, clk.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Department(ctx, id); err != nil || got.Name != "区体育局" {
			t.Fatalf("b after a added a department: %+v, %v", got, err)
		}
	})
}
