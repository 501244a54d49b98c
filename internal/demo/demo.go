// Package demo fills an empty database with the demo district, 湛河区
// (Pingdingshan, Henan), through the same code paths as real data. The
// district's streets and townships are real; entries marked illustrative
// (most communities, every phone and address) are made up: see
// data/zhanhe.json.
package demo

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"hash/fnv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

//go:embed data/zhanhe.json
var districtJSON []byte

type districtFile struct {
	Source  string `json:"source"`
	Regions []struct {
		Code         string `json:"code"`
		Name         string `json:"name"`
		Level        int    `json:"level"`
		Parent       string `json:"parent"`
		Kind         string `json:"kind"`
		Illustrative bool   `json:"illustrative"`
	} `json:"regions"`
	Departments []struct {
		Key          string `json:"key"`
		Name         string `json:"name"`
		ShortName    string `json:"short_name"`
		Region       string `json:"region"`
		Kind         string `json:"kind"`
		Phone        string `json:"phone"`
		Address      string `json:"address"`
		Hours        string `json:"hours"`
		CreditCode   string `json:"credit_code"`
		Illustrative bool   `json:"illustrative"`
	} `json:"departments"`
}

// Summary says what Seed created.
type Summary struct {
	Created     bool // false when the database already held a district
	Regions     int
	Departments int
	Items       int
}

// Seed creates the whole demo district — regions, departments and the
// service catalog — unless the database already has them.
func Seed(ctx context.Context, db *store.DB, clk clock.Clock) (Summary, error) {
	sum, err := SeedDistrict(ctx, db, clk)
	if err != nil {
		return sum, err
	}
	sum.Items, err = SeedCatalog(ctx, db, clk)
	return sum, err
}

// SeedDistrict creates the district's regions and departments unless the
// database already has them. It runs in one transaction: a failure leaves
// the database as it was.
func SeedDistrict(ctx context.Context, db *store.DB, clk clock.Clock) (Summary, error) {
	return importDistrict(ctx, db, clk, districtJSON, true, nil)
}

// ImportDistrict creates a district's regions and departments from a file
// in the format of data/zhanhe.json, on a database that has none yet (it
// refuses otherwise, and changes nothing). Departments take their
// credit_code from the file, if given. It runs in one transaction with
// its audit entry, which audit appends.
func ImportDistrict(ctx context.Context, db *store.DB, clk clock.Clock, data []byte, audit func(tx *store.Tx, sum Summary) error) (Summary, error) {
	return importDistrict(ctx, db, clk, data, false, audit)
}

func importDistrict(ctx context.Context, db *store.DB, clk clock.Clock, data []byte, demo bool, audit func(tx *store.Tx, sum Summary) error) (Summary, error) {
	var f districtFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Summary{}, apperr.Wrap(apperr.Invalid, "区划文件不是有效的JSON："+err.Error(), err)
	}
	regions := region.NewStore(db)
	var sum Summary
	err := db.Tx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM regions`).Scan(&n); err != nil {
			return err
		}
		if n > 0 && demo {
			return nil
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "数据库中已有区划，不再导入；区划和部门只能在空数据库上导入一次")
		}
		sum.Created = true
		// The file lists parents before children.
		for _, r := range f.Regions {
			err := regions.AddRegion(ctx, tx, region.Region{Code: r.Code, Name: r.Name, Level: region.Level(r.Level),
				ParentCode: r.Parent, Kind: r.Kind, Illustrative: r.Illustrative})
			if err != nil {
				return fmt.Errorf("region %s %s: %w", r.Code, r.Name, err)
			}
			sum.Regions++
		}
		now := clk.Now()
		for _, d := range f.Departments {
			_, err := regions.AddDepartment(ctx, tx, region.Department{Slug: d.Key, Name: d.Name, ShortName: d.ShortName,
				RegionCode: d.Region, Kind: region.DeptKind(d.Kind), CreditCode: creditCode(d.CreditCode, d.Key, demo), Phone: d.Phone, Address: d.Address, Hours: d.Hours,
				Illustrative: d.Illustrative}, now)
			if err != nil {
				return fmt.Errorf("department %s: %w", d.Name, err)
			}
			sum.Departments++
		}
		if audit != nil {
			return audit(tx, sum)
		}
		return nil
	})
	return sum, err
}

// creditCode is the department's code from the file; the demo makes one
// up where the file has none.
func creditCode(given, slug string, demo bool) string {
	if given == "" && demo {
		return illustrativeCreditCode(slug)
	}
	return given
}

// illustrativeCreditCode makes a made-up but well-formed 统一社会信用代码
// for a demo body: 1 (机构编制) 1 (机关), the county code, an organisation
// code derived from the slug with its GB 11714 check character, and the
// GB 32100 check character.
func illustrativeCreditCode(slug string) string {
	h := fnv.New32a()
	h.Write([]byte(slug))
	body := fmt.Sprintf("MB%06d", h.Sum32()%1000000)
	org, err := ident.OrgCodeCheckChar(body)
	if err != nil {
		panic(err) // the body above is always valid
	}
	first17 := "11410411" + body + string(org)
	check, err := ident.CreditCodeCheckChar(first17)
	if err != nil {
		panic(err) // the prefix above is always valid
	}
	return first17 + string(check)
}
