// Package bundle is 一件事一次办 (高效办成一件事): a life event — a birth,
// opening a restaurant, retirement, a death in the family — whose several
// items a person applies for once, with one combined form and one set of
// materials, each item then handled as its own case by its own department.
// A bundle is catalog data (its items in order, how the combined form's
// fields fill each item's form, which item waits for another's result);
// applying makes one bundle case and a case per item through
// casework.ApplyParts, in one transaction; casework starts or closes the
// parts that wait when their prerequisite ends.
package bundle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
)

// Status of a bundle: citizens see only the published ones.
type Status string

const (
	Draft     Status = "draft"
	Published Status = "published"
)

// Name is the status's Chinese name.
func (s Status) Name() string {
	if s == Published {
		return "已发布"
	}
	return "未发布"
}

// Bundle is one life event's definition.
type Bundle struct {
	ID      int64
	Name    string // 出生一件事
	Theme   string // 主题, as the catalog's themes: 生育收养, 准营准办 …
	Summary string // what the life event is, for the guide
	Status  Status
	Items   []int64 // in the order they are handled and listed
	// Fields maps a field of one item's form to the combined field that
	// fills it, where the keys differ; fields of the same key are merged
	// without a mapping.
	Fields []Field
	// Dependencies: items that wait for another's result.
	Dependencies []Dependency
	UpdatedAt    time.Time
}

// Field says that field ItemKey of item ItemID is filled by the combined
// form's field From (another item's field key).
type Field struct {
	ItemID  int64
	ItemKey string
	From    string
}

// Dependency says that item ItemID starts only when item Requires is
// completed, and that Requires's result is its material named Material
// (免提交): 户口登记 waits for 出生医学证明.
type Dependency struct {
	ItemID   int64
	Requires int64
	Material string
}

// requires returns the prerequisite of item id, if any.
func (b Bundle) requires(id int64) (Dependency, bool) {
	for _, d := range b.Dependencies {
		if d.ItemID == id {
			return d, true
		}
	}
	return Dependency{}, false
}

// Guide is a bundle as one complete 办事指南: its items with their
// departments, the combined form and materials, and how long it takes.
type Guide struct {
	Bundle
	Parts     []GuidePart
	Form      []catalog.FormSection // the combined form: every field asked once
	Materials []Merged              // the union of the items' materials, by name
	// Longest is the longest chain of promised limits (承诺时限) in
	// working days — a dependent item starts when its prerequisite ends —
	// and Others notes the limits in other units, which it cannot add.
	Longest int
	Others  []string
	// fill: per part, the combined key of each of its item's field keys.
	fill []map[string]string
}

// GuidePart is one item of the guide.
type GuidePart struct {
	Item       catalog.Item
	Department string
	Requires   int    // index of the part whose result it needs, or -1
	Filled     string // the material that result fills (免提交)
	filled     int    // its position, or -1
}

// Merged is a material asked once for every item that needs it.
type Merged struct {
	Name      string
	Necessity string // the strictest of the items': 必需 before 容缺 before 非必需
	Form      string
	Source    string
	Notes     string
	ItemNames []string // the items that need it
	uses      [][2]int // (part, position in its item's materials)
}

// Required reports whether the material must be handed in to apply.
func (m Merged) Required() bool { return m.Necessity == "必需" }

var necessityRank = map[string]int{"必需": 3, "容缺": 2, "非必需": 1}

// compose builds the guide of b from its items' published versions
// (items, in b.Items' order) and their departments' names. It assumes b
// valid (check).
func compose(b Bundle, items []catalog.Item, departments []string) Guide {
	g := Guide{Bundle: b}
	index := map[int64]int{}
	for i, it := range items {
		index[it.ID] = i
	}
	for i, it := range items {
		p := GuidePart{Item: it, Department: departments[i], Requires: -1, filled: -1}
		if d, ok := b.requires(it.ID); ok {
			p.Requires, p.Filled = index[d.Requires], d.Material
			p.filled = materialPosition(it, d.Material)
		}
		g.Parts = append(g.Parts, p)
	}
	// The combined form: sections merged by title, fields by key (or by
	// the mapping), in the items' order.
	mapped := map[[2]string]string{}
	for _, f := range b.Fields {
		mapped[[2]string{fmt.Sprint(f.ItemID), f.ItemKey}] = f.From
	}
	sections := map[string]int{}
	fields := map[string][2]int{}
	for _, it := range items {
		fill := map[string]string{}
		for _, sec := range it.Form {
			for _, f := range sec.Fields {
				key := f.Key
				if from, ok := mapped[[2]string{fmt.Sprint(it.ID), f.Key}]; ok {
					key = from
				}
				fill[f.Key] = key
				if at, ok := fields[key]; ok {
					if f.Required {
						g.Form[at[0]].Fields[at[1]].Required = true
					}
					continue
				}
				if key != f.Key {
					continue // asked where its own item has it
				}
				s, ok := sections[sec.Title]
				if !ok {
					s = len(g.Form)
					sections[sec.Title] = s
					g.Form = append(g.Form, catalog.FormSection{Title: sec.Title})
				}
				fields[key] = [2]int{s, len(g.Form[s].Fields)}
				g.Form[s].Fields = append(g.Form[s].Fields, f)
			}
		}
		g.fill = append(g.fill, fill)
	}
	// The materials: one per name, but the one a prerequisite's result fills.
	byName := map[string]int{}
	for i, p := range g.Parts {
		for pos, m := range p.Item.Materials {
			if pos == p.filled {
				continue
			}
			name := strings.TrimSpace(m.Name)
			at, ok := byName[name]
			if !ok {
				at = len(g.Materials)
				byName[name] = at
				g.Materials = append(g.Materials, Merged{Name: name, Necessity: m.Necessity, Form: m.Form, Source: m.Source, Notes: m.Notes})
			}
			mm := &g.Materials[at]
			if necessityRank[m.Necessity] > necessityRank[mm.Necessity] {
				mm.Necessity = m.Necessity
			}
			if !slices.Contains(mm.ItemNames, p.Item.Name) {
				mm.ItemNames = append(mm.ItemNames, p.Item.Name)
			}
			mm.uses = append(mm.uses, [2]int{i, pos})
		}
	}
	// How long: the longest chain of working-day limits.
	ends := make([]int, len(g.Parts))
	for i, p := range g.Parts {
		l := p.Item.PromiseLimit.Limit()
		days := 0
		if l.Unit == calendar.WorkingDays {
			days = l.Value
		} else if l.Value > 0 {
			g.Others = append(g.Others, fmt.Sprintf("%s %d %s", p.Item.Name, l.Value, l.Unit))
		}
		if p.Requires >= 0 {
			days += ends[p.Requires]
		}
		ends[i] = days
		g.Longest = max(g.Longest, days)
	}
	return g
}

// materialPosition is the position of item it's material named name, or -1.
func materialPosition(it catalog.Item, name string) int {
	for i, m := range it.Materials {
		if strings.TrimSpace(m.Name) == strings.TrimSpace(name) {
			return i
		}
	}
	return -1
}

// formKeys lists every field key of item it's form.
func formKeys(it catalog.Item) map[string]bool {
	out := map[string]bool{}
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			out[f.Key] = true
		}
	}
	return out
}

// check lists what is wrong with b given its items as the catalog has
// them (by id; missing: unknown), in Chinese; publishing asks every item
// to be published and applicable online.
func check(b Bundle, items map[int64]catalog.Item, publishing bool) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if strings.TrimSpace(b.Name) == "" {
		add("请填写一件事的名称")
	} else if len([]rune(b.Name)) > 40 {
		add("名称不能超过 40 个字")
	}
	if len(b.Items) < 2 {
		add("一件事至少包含两个事项")
	}
	name := func(id int64) string {
		if it, ok := items[id]; ok {
			return "「" + it.Name + "」"
		}
		return fmt.Sprintf("（编号 %d）", id)
	}
	seen := map[int64]int{}
	for i, id := range b.Items {
		if _, dup := seen[id]; dup {
			add("事项%s重复列出", name(id))
			continue
		}
		seen[id] = i
		it, ok := items[id]
		switch {
		case !ok:
			add("没有编号为 %d 的事项", id)
		case publishing && it.Status != catalog.Published:
			add("事项%s未发布或已暂停，不能纳入已发布的一件事", name(id))
		case publishing && !it.Depth.Online():
			add("事项%s不支持网上申请", name(id))
		}
	}
	for _, f := range b.Fields {
		it, ok := items[f.ItemID]
		if _, in := seen[f.ItemID]; !in || !ok {
			add("字段映射中的事项%s不在本件事中", name(f.ItemID))
			continue
		}
		if !formKeys(it)[f.ItemKey] {
			add("事项%s的申请表没有字段「%s」", name(f.ItemID), f.ItemKey)
		}
		found := false
		for _, id := range b.Items {
			if o, ok := items[id]; ok && id != f.ItemID && formKeys(o)[f.From] {
				found = true
			}
		}
		if !found {
			add("字段「%s」映射到的「%s」不在其他事项的申请表中", f.ItemKey, f.From)
		}
	}
	deps := map[int64]int64{}
	for _, d := range b.Dependencies {
		_, in := seen[d.ItemID]
		_, rin := seen[d.Requires]
		switch {
		case !in:
			add("前置关系中的事项%s不在本件事中", name(d.ItemID))
		case !rin:
			add("前置事项%s不在本件事中", name(d.Requires))
		case d.ItemID == d.Requires:
			add("事项%s不能以自己为前置事项", name(d.ItemID))
		case deps[d.ItemID] != 0:
			add("事项%s只能有一个前置事项", name(d.ItemID))
		default:
			deps[d.ItemID] = d.Requires
			if it, ok := items[d.ItemID]; ok && materialPosition(it, d.Material) < 0 {
				add("事项%s没有名为「%s」的材料，前置事项的办理结果无处可填", name(d.ItemID), d.Material)
			}
		}
	}
	// A cycle: follow each item's prerequisites back.
	for _, id := range b.Items {
		path := []string{name(id)}
		for at, n := id, 0; deps[at] != 0; n++ {
			at = deps[at]
			path = append(path, name(at))
			if at == id {
				add("前置关系形成循环：%s", strings.Join(path, " → "))
				return problems
			}
			if n > len(b.Items) {
				break // a cycle elsewhere, found from its own items
			}
		}
	}
	for id, r := range deps {
		if seen[r] > seen[id] {
			add("前置事项%s应排在依赖它的事项%s之前", name(r), name(id))
		}
	}
	slices.Sort(problems)
	return problems
}
