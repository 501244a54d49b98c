// Package region holds the district's administrative tree (区 → 街道/乡镇 →
// 社区/村) and the departments and service centres attached to it. Every
// item, staff member and case belongs to a department, and so to a region.
package region

import (
	"slices"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/ident"
)

// Level is a tier of the three-level service system.
type Level int

const (
	District  Level = 1 // 区/县
	Street    Level = 2 // 街道/乡镇
	Community Level = 3 // 社区/村
)

// Levels lists the three levels from the top.
var Levels = []Level{District, Street, Community}

// Name is the level's name as the portal shows it.
func (l Level) Name() string {
	switch l {
	case District:
		return "区级"
	case Street:
		return "街道(乡镇)级"
	case Community:
		return "社区(村)级"
	}
	return "未知层级"
}

// Slug is the level's name in URLs and the API.
func (l Level) Slug() string {
	switch l {
	case District:
		return "district"
	case Street:
		return "street"
	case Community:
		return "community"
	}
	return ""
}

// ParseLevel accepts a slug ("street") or a number ("2").
func ParseLevel(s string) (Level, error) {
	for _, l := range Levels {
		if s == l.Slug() || s == string(rune('0'+int(l))) {
			return l, nil
		}
	}
	return 0, apperr.New(apperr.Invalid, "层级应为 district、street 或 community")
}

// Region is one node of the tree. Codes follow the 12-digit statistical
// scheme: 6 digits of county (GB/T 2260), 3 of township, 3 of community.
type Region struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Level      Level  `json:"level"`
	ParentCode string `json:"parent_code,omitempty"`
	Kind       string `json:"kind"` // 区, 街道, 镇, 乡, 社区, 村
	// Illustrative marks demo data that is made up or unverified.
	Illustrative bool `json:"illustrative"`
}

// Contains reports whether code is r itself or lies below r in the tree:
// a street contains its communities, the district contains everything.
func (r Region) Contains(code string) bool {
	return strings.HasPrefix(code, r.prefix())
}

// prefix is the part of the code that every region under r shares.
func (r Region) prefix() string {
	switch r.Level {
	case District:
		return r.Code[:6]
	case Street:
		return r.Code[:9]
	}
	return r.Code
}

var kindsByLevel = map[Level][]string{
	District:  {"区", "县", "县级市"},
	Street:    {"街道", "镇", "乡"},
	Community: {"社区", "村"},
}

// Validate checks a region on its own and against its parent (nil for the
// district).
func (r Region) Validate(parent *Region) error {
	if !isDigits(r.Code, 12) {
		return apperr.New(apperr.Invalid, "区划代码应为12位数字")
	}
	if strings.TrimSpace(r.Name) == "" {
		return apperr.New(apperr.Invalid, "区划名称不能为空")
	}
	kinds, ok := kindsByLevel[r.Level]
	if !ok {
		return apperr.New(apperr.Invalid, "区划层级应为1、2或3")
	}
	if !slices.Contains(kinds, r.Kind) {
		return apperr.New(apperr.Invalid, r.Level.Name()+"区划类型应为"+strings.Join(kinds, "、")+"之一")
	}
	switch r.Level {
	case District:
		if parent != nil || r.Code[6:] != "000000" {
			return apperr.New(apperr.Invalid, "区县代码应为6位县级代码加000000，且没有上级")
		}
	case Street:
		if parent == nil || parent.Level != District || !parent.Contains(r.Code) || r.Code[9:] != "000" || r.Code[6:9] == "000" {
			return apperr.New(apperr.Invalid, "街道(乡镇)代码应以所属区县代码开头，第7-9位非000，末3位为000")
		}
	case Community:
		if parent == nil || parent.Level != Street || !parent.Contains(r.Code) || r.Code[9:] == "000" {
			return apperr.New(apperr.Invalid, "社区(村)代码应以所属街道(乡镇)代码前9位开头，末3位非000")
		}
	}
	return nil
}

// DeptKind says what sort of body a department is.
type DeptKind string

const (
	ServiceCenter    DeptKind = "center"            // 政务(行政)服务中心
	Bureau           DeptKind = "bureau"            // 区直部门
	StreetCenter     DeptKind = "street_center"     // 街道(乡镇)便民服务中心
	CommunityStation DeptKind = "community_station" // 社区(村)便民服务站
)

// Name is the kind's Chinese name.
func (k DeptKind) Name() string {
	switch k {
	case ServiceCenter:
		return "政务服务中心"
	case Bureau:
		return "区直部门"
	case StreetCenter:
		return "便民服务中心"
	case CommunityStation:
		return "便民服务站"
	}
	return "其他"
}

// Department is a government body or service centre that handles items.
type Department struct {
	ID           int64    `json:"id"`
	Slug         string   `json:"slug"`
	Name         string   `json:"name"`
	ShortName    string   `json:"short_name"`
	RegionCode   string   `json:"region_code"`
	Kind         DeptKind `json:"kind"`
	CreditCode   string   `json:"credit_code"` // 统一社会信用代码; part of every 实施编码
	Phone        string   `json:"phone"`
	Address      string   `json:"address"`
	Hours        string   `json:"hours"`
	Illustrative bool     `json:"illustrative"`
}

// Validate checks a department's own fields.
func (d Department) Validate() error {
	switch {
	case !isSlug(d.Slug):
		return apperr.New(apperr.Invalid, "部门标识只能由小写字母、数字和连字符组成")
	case strings.TrimSpace(d.Name) == "":
		return apperr.New(apperr.Invalid, "部门名称不能为空")
	case strings.TrimSpace(d.ShortName) == "":
		return apperr.New(apperr.Invalid, "部门简称不能为空")
	case !isDigits(d.RegionCode, 12):
		return apperr.New(apperr.Invalid, "部门所属区划代码应为12位数字")
	case d.Kind.Name() == "其他":
		return apperr.New(apperr.Invalid, "部门类型无效")
	}
	if d.CreditCode != "" {
		if _, err := ident.ParseCreditCode(d.CreditCode); err != nil {
			return apperr.Wrap(apperr.Invalid, "部门"+err.Error(), err)
		}
	}
	return nil
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isSlug(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
