// Package evaluation is the platform's self-evaluation (绩效自评): an
// indicator system kept as configuration — first-level indicators 决策,
// 过程, 产出 and 效益 after the Ministry of Finance's framework for
// project expenditure (财预〔2020〕10号), each leaf with its weight and
// scoring rule — scored from live data where the platform holds it
// (sources registered by the wiring) and from entries made by hand with
// their evidence where it does not. The total is graded by configurable
// bands, and the whole is printed on A4 and exported as an evidence pack.
package evaluation

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
)

//go:embed default.json
var defaultSystem []byte

// System is an indicator system: what is scored, how, and the grades.
type System struct {
	Name       string      `json:"name"`
	Basis      string      `json:"basis"` // where the system comes from, printed on the report
	Bands      []Band      `json:"bands"` // highest first; the last starts at 0
	Indicators []Indicator `json:"indicators"`
}

// Band is a grade and the lowest total that earns it.
type Band struct {
	Grade string  `json:"grade"`
	Min   float64 `json:"min"`
}

// Hand is the source of indicators entered by hand with evidence.
const Hand = "hand"

// Indicator is one indicator; a leaf has a source and a rule, a parent
// children whose weights add up to its own.
type Indicator struct {
	Code     string      `json:"code"`
	Name     string      `json:"name"`
	Weight   float64     `json:"weight"` // points
	Source   string      `json:"source,omitempty"`
	Unit     string      `json:"unit,omitempty"` // "%" for rates, "分" for a score entered as such
	Rule     *Rule       `json:"rule,omitempty"`
	Explain  string      `json:"explain,omitempty"` // what is counted and how it is scored, in words
	Children []Indicator `json:"children,omitempty"`
}

// Rule kinds.
const (
	Linear = "linear" // all points at Full or better, none at Zero or worse, in proportion between
	Steps  = "steps"  // the share of the first step whose Min the value reaches; none below all
	Score  = "score"  // the value is the score itself, entered by hand (0 … weight)
)

// Rule says how a value becomes points.
type Rule struct {
	Kind  string  `json:"kind"`
	Zero  float64 `json:"zero,omitempty"`
	Full  float64 `json:"full,omitempty"`
	Steps []Step  `json:"steps,omitempty"`
}

// Step is a threshold of a Steps rule.
type Step struct {
	Min   float64 `json:"min"`
	Share float64 `json:"share"` // of the weight, 0 … 1
}

// Points is what value scores on an indicator of weight, rounded to two
// decimals.
func (r Rule) Points(value, weight float64) float64 {
	var p float64
	switch r.Kind {
	case Linear:
		t := (value - r.Zero) / (r.Full - r.Zero)
		p = weight * min(max(t, 0), 1)
	case Steps:
		for _, s := range r.Steps {
			if value >= s.Min {
				p = weight * s.Share
				break
			}
		}
	case Score:
		p = min(max(value, 0), weight)
	}
	return round2(p)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Grade is the band total falls in.
func (s System) Grade(total float64) string {
	for _, b := range s.Bands {
		if total >= b.Min {
			return b.Grade
		}
	}
	return ""
}

// Default is the built-in system (default.json).
func Default() System {
	s, err := Parse(defaultSystem)
	if err != nil {
		panic("evaluation: the built-in indicator system is invalid: " + err.Error())
	}
	return s
}

// Load reads the system from path ("": the built-in one).
func Load(path string) (System, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return System{}, fmt.Errorf("无法读取绩效指标体系文件 %s：%w", path, err)
	}
	s, err := Parse(b)
	if err != nil {
		return System{}, fmt.Errorf("绩效指标体系文件 %s：%w", path, err)
	}
	return s, nil
}

// Parse reads a system from JSON and checks it (Check).
func Parse(b []byte) (System, error) {
	var s System
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&s); err != nil {
		return System{}, apperr.New(apperr.Invalid, "格式有误："+err.Error())
	}
	return s, s.Check()
}

// Check refuses a system that cannot be scored: codes missing or
// repeated, a leaf without source or rule, children whose weights do not
// add up to their parent's, first-level weights that do not add up to
// 100, bands out of order or leaving some totals without a grade.
func (s System) Check() error {
	bad := func(format string, a ...any) error { return apperr.New(apperr.Invalid, fmt.Sprintf(format, a...)) }
	if strings.TrimSpace(s.Name) == "" {
		return bad("指标体系缺少名称。")
	}
	if len(s.Bands) == 0 {
		return bad("缺少等级（bands）。")
	}
	for i, b := range s.Bands {
		if b.Grade == "" || b.Min < 0 || b.Min > 100 || i > 0 && b.Min >= s.Bands[i-1].Min {
			return bad("等级应从高到低排列，每级有名称，最低分在 0 到 100 之间且逐级降低：第 %d 级有误。", i+1)
		}
	}
	if s.Bands[len(s.Bands)-1].Min != 0 {
		return bad("最低一级等级的最低分应为 0，使任何总分都有等级。")
	}
	if len(s.Indicators) == 0 {
		return bad("没有指标。")
	}
	seen := map[string]bool{}
	var check func(list []Indicator, parent string, want float64) error
	check = func(list []Indicator, parent string, want float64) error {
		sum := 0.0
		for _, in := range list {
			if in.Code == "" || in.Name == "" {
				return bad("指标缺少编号或名称（%s 下）。", parent)
			}
			if seen[in.Code] {
				return bad("指标编号 %s 重复。", in.Code)
			}
			seen[in.Code] = true
			if in.Weight <= 0 {
				return bad("指标 %s 的分值应大于 0。", in.Code)
			}
			sum += in.Weight
			if len(in.Children) > 0 {
				if in.Source != "" || in.Rule != nil {
					return bad("指标 %s 有下级指标，不应再有数据来源或评分规则。", in.Code)
				}
				if err := check(in.Children, in.Code, in.Weight); err != nil {
					return err
				}
				continue
			}
			if in.Source == "" || in.Rule == nil {
				return bad("末级指标 %s 缺少数据来源（source）或评分规则（rule）。", in.Code)
			}
			if err := in.Rule.check(in); err != nil {
				return err
			}
		}
		if math.Abs(sum-want) > 1e-6 {
			return bad("%s 的下级指标分值合计 %g，应为 %g。", parent, sum, want)
		}
		return nil
	}
	return check(s.Indicators, "指标体系", 100)
}

func (r Rule) check(in Indicator) error {
	bad := func(msg string) error { return apperr.New(apperr.Invalid, "指标 "+in.Code+" 的评分规则"+msg) }
	switch r.Kind {
	case Linear:
		if r.Zero == r.Full {
			return bad("：zero 与 full 不能相等。")
		}
	case Steps:
		if len(r.Steps) == 0 {
			return bad("没有档次（steps）。")
		}
		for i, s := range r.Steps {
			if s.Share < 0 || s.Share > 1 || i > 0 && s.Min >= r.Steps[i-1].Min {
				return bad("的档次应按 min 从高到低排列，share 在 0 到 1 之间。")
			}
		}
	case Score:
		if in.Source != Hand {
			return bad("为直接打分（score），只能用于手工录入（hand）的指标。")
		}
	default:
		return bad("种类应为 linear、steps 或 score。")
	}
	return nil
}

// leaves calls fn on every leaf in order.
func (s System) leaves(fn func(Indicator)) {
	var walk func([]Indicator)
	walk = func(list []Indicator) {
		for _, in := range list {
			if len(in.Children) == 0 {
				fn(in)
			}
			walk(in.Children)
		}
	}
	walk(s.Indicators)
}

// Leaf is the leaf indicator with code.
func (s System) Leaf(code string) (Indicator, bool) {
	var out Indicator
	found := false
	s.leaves(func(in Indicator) {
		if in.Code == code {
			out, found = in, true
		}
	})
	return out, found
}
