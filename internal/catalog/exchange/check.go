package exchange

// Checking: every row, against the departments, without the database.

import (
	"cmp"
	"io"
	"slices"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog/item"
)

// check completes and checks every row: the department, the 实施编码 (built
// from the department's credit code when the file leaves it empty), the
// XLSX rows joined to their items, hard validation, the quality rules, and
// duplicates within the file. It returns every problem.
func (f *importFile) check(departments map[string]Department) []RowError {
	resolved := make([]bool, len(f.rows))
	for i, row := range f.rows {
		it := &row.Item
		if it.Department == "" {
			continue // Validate says so
		}
		d, ok := departments[it.Department]
		if !ok {
			f.fail(row.Sheet, row.Line, "实施部门", "实施部门“%s”不存在（应填写部门标识，如 scjgj）", it.Department)
			continue
		}
		resolved[i] = true
		if it.ImplCode == "" {
			if d.CreditCode == "" {
				f.fail(row.Sheet, row.Line, "实施编码", "实施部门“%s”未登记统一社会信用代码，须填写实施编码", d.Name)
				row.broken = true
				continue
			}
			it.ImplCode = item.ImplCode(d.CreditCode, it.BaseCode, it.HandlingKind)
		}
	}

	// XLSX: join the steps, materials and form fields to their items.
	if len(f.children) > 0 {
		byCode := map[string]*Row{}
		for _, row := range f.rows {
			if c := row.Item.ImplCode; c != "" && byCode[c] == nil {
				byCode[c] = row
			}
		}
		type sortable struct {
			seq int
			c   child
		}
		steps := map[*Row][]sortable{}
		materials := map[*Row][]sortable{}
		for _, c := range f.children {
			row := byCode[c.key]
			if row == nil {
				if c.key == "" {
					f.fail(c.sheet, c.line, "实施编码", "未填写实施编码，不知道属于哪个事项")
				} else {
					f.fail(c.sheet, c.line, "实施编码", "实施编码“%s”在“事项”工作表中不存在", c.key)
				}
				continue
			}
			switch {
			case c.step != nil:
				steps[row] = append(steps[row], sortable{c.seq, c})
			case c.material != nil:
				materials[row] = append(materials[row], sortable{c.seq, c})
			default:
				it := &row.Item
				at := slices.IndexFunc(it.Form, func(s item.FormSection) bool { return s.Title == c.section })
				if at < 0 {
					it.Form = append(it.Form, item.FormSection{Title: c.section, Fields: []item.FormField{}})
					at = len(it.Form) - 1
				}
				if c.field != nil {
					it.Form[at].Fields = append(it.Form[at].Fields, *c.field)
				}
			}
		}
		bySeq := func(a, b sortable) int { return cmp.Compare(a.seq, b.seq) }
		for row, list := range steps {
			slices.SortStableFunc(list, bySeq)
			for _, s := range list {
				row.Item.Steps = append(row.Item.Steps, *s.c.step)
			}
		}
		for row, list := range materials {
			slices.SortStableFunc(list, bySeq)
			for _, s := range list {
				row.Item.Materials = append(row.Item.Materials, *s.c.material)
			}
		}
	}

	checkBundles(f)

	// Duplicates: the 实施编码, and what it is made of.
	type triple struct{ dept, base, kind string }
	codes := map[string]*Row{}
	triples := map[triple]*Row{}
	for _, row := range f.rows {
		it := &row.Item
		if it.ImplCode != "" {
			if first := codes[it.ImplCode]; first != nil {
				f.fail(row.Sheet, row.Line, "实施编码", "实施编码“%s”与第%d行重复", it.ImplCode, first.Line)
			} else {
				codes[it.ImplCode] = row
			}
		}
		if it.Department != "" && it.BaseCode != "" {
			t := triple{it.Department, it.BaseCode, it.HandlingKind}
			if first := triples[t]; first != nil {
				f.fail(row.Sheet, row.Line, "基本编码", "与第%d行的实施部门、基本编码和业务办理项都相同，是同一事项", first.Line)
			} else {
				triples[t] = row
			}
		}
	}

	// Each item: what an item must have, and what a published one must.
	for i, row := range f.rows {
		if row.broken {
			continue
		}
		it := &row.Item
		for _, e := range it.Invalid() {
			f.fail(row.Sheet, row.Line, e.Field, "%s", e.Message)
		}
		for _, p := range it.Problems() {
			if p.Rule == "impl_code" && it.ImplCode == "" && !resolved[i] {
				continue // the department is unknown: already said
			}
			msg := p.Message
			if p.Rule == "base_code" && it.BaseCode != "" && len(it.BaseCode) < 12 && strings.Trim(it.BaseCode, "0123456789") == "" {
				msg += "（用Excel打开过的CSV文件会丢掉开头的0，编辑时请改用XLSX格式）"
			}
			f.fail(row.Sheet, row.Line, problemFields[p.Rule], "%s", msg)
		}
	}
	return f.errs
}

// sheetOrder sorts errors sheet by sheet, as the workbook lists them.
var sheetOrder = map[string]int{"": 0, sheetItems: 0, sheetSteps: 1, sheetMaterials: 2, sheetForm: 3,
	sheetBundles: 4, sheetBundleItems: 5, sheetBundleFields: 6}

func sortRowErrors(errs []RowError) {
	slices.SortStableFunc(errs, func(a, b RowError) int {
		return cmp.Or(cmp.Compare(sheetOrder[a.Sheet], sheetOrder[b.Sheet]), cmp.Compare(a.Line, b.Line))
	})
}

// Department is what the checks need of an implementing body, which
// files name by its slug.
type Department struct {
	Slug       string
	Name       string
	CreditCode string // builds the 实施编码 a file leaves empty
}

// Checked is a parsed and checked import file.
type Checked struct {
	Rows    []Row       // its items, complete with their 实施编码
	Bundles []BundleRow // its bundles, checked as far as the file can tell
	Errs    []RowError  // every problem found
}

// Check parses a file and checks every row against the departments,
// without a database. It returns the items and bundles and every problem
// of every row; the error is for a file that cannot be read at all (an
// apperr.Invalid error).
func Check(r io.Reader, f Format, departments []Department) (Checked, error) {
	file, err := decode(r, f)
	if err != nil {
		return Checked{}, err
	}
	bySlug := make(map[string]Department, len(departments))
	for _, d := range departments {
		bySlug[d.Slug] = d
	}
	errs := file.check(bySlug)
	// Number the items' problems by record, as people count them.
	type at struct {
		sheet string
		line  int
	}
	record := make(map[at]int, len(file.rows))
	for i, row := range file.rows {
		record[at{row.Sheet, row.Line}] = i + 1
	}
	for i := range errs {
		if n, ok := record[at{errs[i].Sheet, errs[i].Line}]; ok {
			errs[i].Record = n
		}
	}
	rows := make([]Row, len(file.rows))
	for i, row := range file.rows {
		rows[i] = *row
	}
	return Checked{Rows: rows, Bundles: file.bundleRows(), Errs: errs}, nil
}

// Refusal is why a checked file cannot be applied: an *ImportError
// listing every problem, sheet by sheet and line by line, or a file with
// neither items nor bundles. It is nil when it can.
func (c Checked) Refusal() error {
	if len(c.Errs) > 0 {
		errs := slices.Clone(c.Errs)
		sortRowErrors(errs)
		return &ImportError{Rows: errs}
	}
	if len(c.Rows) == 0 && len(c.Bundles) == 0 {
		return apperr.New(apperr.Invalid, "文件中没有事项")
	}
	return nil
}

// CheckImport parses and checks a file, as Import does before it changes
// anything. It returns the items, complete with their 实施编码, and the
// bundles, or an *ImportError listing every bad row (or an apperr.Invalid
// error for a file that cannot be read at all).
func CheckImport(r io.Reader, f Format, departments []Department) ([]item.Item, []BundleRow, error) {
	c, err := Check(r, f, departments)
	if err != nil {
		return nil, nil, err
	}
	if err := c.Refusal(); err != nil {
		return nil, nil, err
	}
	items := make([]item.Item, len(c.Rows))
	for i, row := range c.Rows {
		items[i] = row.Item
	}
	return items, c.Bundles, nil
}
