package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"rsc.io/qr"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/catalog/item"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/region"
)

const pageSize = 20

// itemFilter reads the browse filters from the query string; unknown
// values are refused rather than silently ignored.
func itemFilter(r *http.Request) (catalog.Filter, error) {
	q := r.URL.Query()
	var f catalog.Filter
	if v := q.Get("level"); v != "" {
		l, err := region.ParseLevel(v)
		if err != nil {
			return f, err
		}
		f.Level = int(l)
	}
	f.Department = q.Get("dept")
	f.Theme = q.Get("theme")
	if v := q.Get("type"); v != "" {
		f.Type = catalog.ItemType(v)
		if f.Type.Name() == "" {
			return f, apperr.New(apperr.Invalid, "事项类型无效")
		}
	}
	if v := q.Get("depth"); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || catalog.Depth(d).Name() == "" {
			return f, apperr.New(apperr.Invalid, "网上办理深度应为1至4")
		}
		f.Depth = catalog.Depth(d)
	}
	f.Subject = q.Get("subject")
	return f, nil
}

func pageNumber(r *http.Request) int {
	p, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || p < 1 || p > 1000 {
		return 1
	}
	return p
}

// markName renders an item name with its matched characters in <mark>.
func markName(name string, marks [][2]int) template.HTML {
	runes := []rune(name)
	var b strings.Builder
	pos := 0
	for _, m := range marks {
		start, end := max(m[0], pos), min(m[1], len(runes))
		if start >= end {
			continue
		}
		b.WriteString(template.HTMLEscapeString(string(runes[pos:start])))
		b.WriteString("<mark>" + template.HTMLEscapeString(string(runes[start:end])) + "</mark>")
		pos = end
	}
	b.WriteString(template.HTMLEscapeString(string(runes[pos:])))
	return template.HTML(b.String())
}

// itemResult is a search result as the item list shows it: one row,
// written here as one escaped fragment. The list is the search page's
// bulk, and html/template passes each value it prints through its
// escaping functions by reflection (issue 18.4): ten values a row once,
// one now. The markup is the list's (.items in app.css); what a row says
// comes from the result alone, every string escaped.
type itemResult struct {
	Row template.HTML
}

func newItemResult(g catalog.Group, place region.Region) itemResult {
	var b strings.Builder
	b.WriteString(`<a class="item-name" href="/items/` + strconv.FormatInt(g.ID, 10) + `">`)
	b.WriteString(string(markName(g.Name, g.NameMarks)))
	b.WriteString("</a>\n    <span class=\"item-meta\">")
	b.WriteString(template.HTMLEscapeString(g.Department + " · " + levelName(g.Level) + " · " + g.Type.Name()))
	if g.Suspended {
		b.WriteString(" · <strong>暂停办理</strong>")
	}
	b.WriteString("</span>")
	if g.Count > 1 {
		note := fmt.Sprintf("请在上方选择居住地，查看为您办理的地方；全区共 %d 个办理点", g.Count)
		if g.Local {
			note = fmt.Sprintf("为您所在地（%s）办理的地方；全区共 %d 个办理点", place.Name, g.Count)
		}
		b.WriteString("\n    <span class=\"item-meta place-note\">" + template.HTMLEscapeString(note) + "</span>")
	}
	b.WriteString("\n    <span class=\"item-badges\">")
	badge := func(class, text string) {
		b.WriteString(`<span class="` + class + `">` + template.HTMLEscapeString(text) + `</span> `)
	}
	if g.Depth.Online() {
		badge("badge online", g.Depth.Name())
	} else {
		badge("badge", g.Depth.Name())
	}
	if g.Visits != 0 {
		badge("badge", fmt.Sprintf("跑动 %d 次", g.Visits))
	} else {
		badge("badge", "零跑腿")
	}
	if g.CaseKind != catalog.Immediate {
		badge("badge", fmt.Sprintf("承诺 %d %s", g.PromiseLimit.Value, g.PromiseLimit.Unit))
	} else {
		badge("badge", "即办")
	}
	switch g.Via {
	case "alias":
		badge("badge muted-badge", "按常用名称匹配")
	case "pinyin":
		badge("badge muted-badge", "按拼音匹配")
	}
	b.WriteString("</span>")
	return itemResult{Row: template.HTML(b.String())}
}

type itemsPage struct {
	Error     string
	Filter    catalog.Filter
	Total     int
	Items     []itemResult
	Corrected string
	Page      int
	Pages     int
	PrevURL   string
	NextURL   string
	// Place is where the person said they live, which picks each
	// service's implementation; Places offers the choice when a service
	// on the page has several.
	Place  region.Region
	Places []placeChoice
	Back   string
	// Choices for the filter form.
	Departments []region.Department
	Themes      map[string][]string
	Types       []struct {
		Type catalog.ItemType
		Name string
	}
	Levels []region.Level
	Depths []catalog.Depth
}

// searchQuery is what a search asks, read from its URL once: the words,
// the filters and the page.
type searchQuery struct {
	Text   string
	Filter catalog.Filter
	Page   int
}

// readSearch reads the words, the filters and the page of r; the message
// says in Chinese what is wrong with them.
func readSearch(r *http.Request) (searchQuery, string) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > maxQueryRunes {
		return searchQuery{}, fmt.Sprintf("搜索词太长了，请控制在 %d 个字以内。", maxQueryRunes)
	}
	f, err := itemFilter(r)
	if err != nil {
		return searchQuery{}, apperr.MessageOf(err)
	}
	return searchQuery{Text: q, Filter: f, Page: pageNumber(r)}, ""
}

// url is path with the search's parameters at page, spelled one way
// whatever the request's spelling: the results' links are the same for
// every request that asks the same, so the results can be kept.
func (q searchQuery) url(path string, page int) string {
	v := url.Values{}
	set := func(name, value string) {
		if value != "" {
			v.Set(name, value)
		}
	}
	set("q", q.Text)
	if q.Filter.Level != 0 {
		set("level", region.Level(q.Filter.Level).Slug())
	}
	set("dept", q.Filter.Department)
	set("theme", q.Filter.Theme)
	set("type", string(q.Filter.Type))
	if q.Filter.Depth != 0 {
		set("depth", strconv.Itoa(int(q.Filter.Depth)))
	}
	set("subject", q.Filter.Subject)
	if page > 1 {
		set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// searchItems runs a catalog search for the items page and the search
// page, for a person who lives at place (the zero Region if unknown).
func (s *Server) searchItems(r *http.Request, sq searchQuery, place region.Region) (itemsPage, error) {
	p := itemsPage{Filter: sq.Filter, Page: sq.Page, Place: place}
	res := s.searcher.SearchGrouped(sq.Text, sq.Filter, place.Code, (p.Page-1)*pageSize, pageSize)
	p.Total, p.Corrected = res.Total, res.Corrected
	several := false
	for _, g := range res.Groups {
		p.Items = append(p.Items, newItemResult(g, place))
		several = several || g.Count > 1
	}
	if several {
		var err error
		if p.Places, err = s.placeChoices(r); err != nil {
			return p, err
		}
		p.Back = sq.url(r.URL.Path, p.Page)
	}
	p.Pages = (p.Total + pageSize - 1) / pageSize
	if p.Page > 1 {
		p.PrevURL = sq.url(r.URL.Path, p.Page-1)
	}
	if p.Page < p.Pages {
		p.NextURL = sq.url(r.URL.Path, p.Page+1)
	}
	return p, nil
}

func (s *Server) items(w http.ResponseWriter, r *http.Request) error {
	var p itemsPage
	status := http.StatusOK
	sq, msg := readSearch(r)
	if msg != "" {
		p.Error, status = msg, http.StatusBadRequest
	} else {
		place, err := s.place(r)
		if err != nil {
			return err
		}
		if p, err = s.searchItems(r, sq, place); err != nil {
			return err
		}
	}
	var err error
	if p.Departments, err = s.regions.Departments(r.Context(), region.DepartmentFilter{Level: region.District}); err != nil {
		return err
	}
	p.Themes, p.Types, p.Levels = item.Themes, item.ItemTypes, region.Levels
	p.Depths = []catalog.Depth{catalog.DepthPublic, catalog.DepthPrecheck, catalog.DepthApply, catalog.DepthFull}
	return s.render(w, r, status, "items", "items", p)
}

type guidePage struct {
	Item         catalog.Item
	Suspended    string // the reason, when suspended
	Department   region.Department
	Region       region.Region
	Required     int
	URL          string
	QR           string
	Printed      string // today in Beijing, 2026年12月3日: the printed guide says when it was printed
	Materials    []materialRow
	OnlineDepths []catalog.Depth
}

type materialRow struct {
	catalog.Material
	N int
}

func (s *Server) item(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "事项不存在。")
	}
	it, reason, err := s.catalog.PublishedView(r.Context(), id)
	if err != nil {
		return err
	}
	p := guidePage{Item: it, URL: fmt.Sprintf("%s/items/%d", s.publicURL, id), QR: fmt.Sprintf("/items/%d/qr.svg", id),
		Printed: s.clock.Now().In(clock.China).Format("2006年1月2日")}
	if it.Status == catalog.Suspended {
		p.Suspended = reason
	}
	if p.Department, err = s.regions.Department(r.Context(), it.DepartmentID); err != nil {
		return err
	}
	if p.Region, err = s.regions.Region(r.Context(), it.RegionCode); err != nil {
		return err
	}
	for i, m := range it.Materials {
		p.Materials = append(p.Materials, materialRow{Material: m, N: i + 1})
		if m.Necessity == "必需" {
			p.Required++
		}
	}
	return s.render(w, r, http.StatusOK, "item", "items", p)
}

// itemQR draws the QR code of an item's guide URL as SVG, so that a
// printed guide leads back to its online page.
func (s *Server) itemQR(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "事项不存在。")
	}
	if _, _, err := s.catalog.PublishedView(r.Context(), id); err != nil {
		return err
	}
	svg, err := qrSVG(fmt.Sprintf("%s/items/%d", s.publicURL, id))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err = w.Write([]byte(svg))
	return err
}

// qrSVG draws text as a QR code in SVG.
func qrSVG(text string) (string, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	const quiet = 4
	size := code.Size + 2*quiet
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, size, size, size, size)
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if code.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}

// blankForm renders a material's blank form (or, with ?sample=1, a filled
// example) from the item's application form, ready to print.
func (s *Server) blankForm(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "事项不存在。")
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	it, _, ierr := s.catalog.Published(r.Context(), id)
	if ierr != nil {
		return ierr
	}
	if err != nil || n < 1 || n > len(it.Materials) || it.Materials[n-1].BlankForm == "" {
		return apperr.New(apperr.NotFound, "该材料没有空白表格。")
	}
	sample := r.URL.Query().Get("sample") == "1"
	type field struct {
		catalog.FormField
		Example string
	}
	type section struct {
		Title  string
		Fields []field
	}
	var sections []section
	for _, sec := range it.Form {
		out := section{Title: sec.Title}
		for _, f := range sec.Fields {
			ex := ""
			if sample {
				ex = exampleValue(f)
			}
			out.Fields = append(out.Fields, field{FormField: f, Example: ex})
		}
		sections = append(sections, out)
	}
	return s.render(w, r, http.StatusOK, "form", "items", struct {
		Item     catalog.Item
		Material catalog.Material
		Sample   bool
		Sections []section
	}{it, it.Materials[n-1], sample, sections})
}

// exampleValue is what a filled-in example shows for a field.
func exampleValue(f catalog.FormField) string {
	switch f.Type {
	case "idcard":
		return "11010519491231002X"
	case "mobile":
		return "13800000000"
	case "creditcode":
		return "91350100M000100Y43"
	case "email":
		return "zhangsan@example.com"
	case "date":
		return "2026-01-15"
	case "number":
		return "1"
	case "select", "radio", "checkbox":
		if len(f.Options) > 0 {
			return f.Options[0]
		}
	}
	if strings.Contains(f.Label, "姓名") || strings.Contains(f.Label, "名称") && strings.Contains(f.Label, "人") {
		return "张三"
	}
	if strings.Contains(f.Label, "地址") || strings.Contains(f.Label, "场所") {
		return "平顶山市湛河区示例路1号"
	}
	return "（按实际情况填写）"
}
