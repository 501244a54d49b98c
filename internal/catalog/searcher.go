package catalog

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/search"
)

// Summary is what a search result or a listing shows of an item.
type Summary struct {
	ID           int64
	Name         string
	Department   string // implementing body's short name
	Level        int
	Type         ItemType
	Depth        Depth
	CaseKind     CaseKind
	Visits       int
	PromiseLimit TimeLimit
	Suspended    bool
	// BaseCode and Name name the service (a 业务办理项 has a name of its
	// own); RegionCode is where this implementation of it is handled.
	BaseCode   string
	RegionCode string
}

// Searcher answers catalog searches from an in-memory index. Each instance
// keeps its own; when the catalog version in the database moves (any
// publication, status change or synonym edit, on any instance), Watch
// rebuilds it, so every instance converges within one poll interval.
//
// It keeps only what the index needs of each item (an entry), never the
// full guides: those are decoded when someone opens one. A rebuild reads
// the list of published items (IDs, versions, status, popularity) and
// decodes only the guides whose published version it has not seen, so a
// publication costs every instance one guide's decoding and an index
// build, not the whole catalog's decoding.
type Searcher struct {
	store *Store
	log   *slog.Logger
	mu    sync.Mutex // one Refresh at a time
	state atomic.Pointer[searchState]
}

type searchState struct {
	version int64
	index   *search.Index
	items   map[int64]Summary
	entries map[int64]entry
	decoded int // guides decoded by the build that made this state
}

// entry is what the index needs of one published item, decoded from its
// guide once.
type entry struct {
	// From the items row: the guide holds the values of when it was saved.
	Version    int    `json:"-"`
	Status     Status `json:"-"`
	Popularity int    `json:"-"`

	Name    string   `json:"name"`
	Aliases []string `json:"aliases"`
	Result  struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"result"`
	BaseCode     string    `json:"base_code"`
	RegionCode   string    `json:"region_code"`
	DepartmentID int64     `json:"department_id"`
	Department   string    `json:"department"`
	Level        int       `json:"level"`
	Type         ItemType  `json:"type"`
	Depth        Depth     `json:"depth"`
	CaseKind     CaseKind  `json:"case_kind"`
	Visits       int       `json:"visits"`
	PromiseLimit TimeLimit `json:"promise_limit"`
	Themes       []string  `json:"themes"`
	Subjects     []string  `json:"subjects"`
}

// entryOf is what the index needs of it (the JSON of a guide decodes into
// an entry too, for items published before entries were kept).
func entryOf(it Item) entry {
	e := entry{Name: it.Name, Aliases: it.Aliases, DepartmentID: it.DepartmentID, Department: it.Department, Level: it.Level,
		Type: it.Type, Depth: it.Depth, CaseKind: it.CaseKind, Visits: it.Visits, PromiseLimit: it.PromiseLimit,
		Themes: it.Themes, Subjects: it.Subjects, BaseCode: it.BaseCode, RegionCode: it.RegionCode}
	e.Result.Name, e.Result.Type = it.Result.Name, it.Result.Type
	return e
}

// SearchEntry is what publishing it writes to items.search_entry, for a
// tool that writes published items itself (catalogtest's benchmarks).
func SearchEntry(it Item) ([]byte, error) { return json.Marshal(entryOf(it)) }

// NewSearcher builds the first index.
func NewSearcher(ctx context.Context, s *Store, log *slog.Logger) (*Searcher, error) {
	sr := &Searcher{store: s, log: log}
	if _, err := sr.Refresh(ctx); err != nil {
		return nil, err
	}
	return sr, nil
}

// Refresh rebuilds the index if the catalog changed since it was built,
// and reports whether it did.
func (sr *Searcher) Refresh(ctx context.Context) (bool, error) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	v, err := sr.store.CatalogVersion(ctx)
	if err != nil {
		return false, err
	}
	cur := sr.state.Load()
	if cur != nil && cur.version == v {
		return false, nil
	}
	start := time.Now()
	var entries map[int64]entry
	decoded := 0
	if cur == nil {
		if entries, err = sr.store.indexEntries(ctx, nil); err != nil {
			return false, err
		}
		decoded = len(entries)
	} else {
		// Everything committed before the version was read is in the list.
		list, err := sr.store.publishedList(ctx)
		if err != nil {
			return false, err
		}
		entries = make(map[int64]entry, len(list))
		var stale []int64
		for _, l := range list {
			e, ok := cur.entries[l.id]
			if !ok || e.Version != l.version {
				stale = append(stale, l.id)
				continue
			}
			e.Status, e.Popularity = l.status, l.popularity
			entries[l.id] = e
		}
		if len(stale) > 0 {
			fresh, err := sr.store.indexEntries(ctx, stale)
			if err != nil {
				return false, err
			}
			for id, e := range fresh {
				entries[id] = e
			}
			decoded = len(fresh)
		}
	}
	syn, err := sr.store.Synonyms(ctx)
	if err != nil {
		return false, err
	}
	depts, err := sr.store.regions.Departments(ctx, region.DepartmentFilter{})
	if err != nil {
		return false, err
	}
	deptNames := map[int64][2]string{}
	for _, d := range depts {
		deptNames[d.ID] = [2]string{d.ShortName, d.Name}
	}
	ids := make([]int64, 0, len(entries))
	for id := range entries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	docs := make([]search.Doc, 0, len(entries))
	summaries := make(map[int64]Summary, len(entries))
	for _, id := range ids {
		it := entries[id]
		names := deptNames[it.DepartmentID]
		docs = append(docs, search.Doc{
			ID: id, Name: it.Name, Aliases: it.Aliases, Popularity: it.Popularity,
			// The result's type (证照) lets a synonym reach every item that
			// issues a licence or certificate (办证 → 证照).
			Text:  names[1] + " " + it.Result.Name + " " + it.Result.Type,
			Tags:  tags(it.Level, it.Department, it.Type, it.Depth, it.Themes, it.Subjects),
			Group: it.BaseCode + "\x00" + it.Name,
		})
		summaries[id] = Summary{ID: id, Name: it.Name, Department: names[0], Level: it.Level, Type: it.Type,
			Depth: it.Depth, CaseKind: it.CaseKind, Visits: it.Visits, PromiseLimit: it.PromiseLimit, Suspended: it.Status == Suspended,
			BaseCode: it.BaseCode, RegionCode: it.RegionCode}
	}
	ix := search.Build(docs, search.Options{Synonyms: syn})
	sr.state.Store(&searchState{version: v, index: ix, items: summaries, entries: entries, decoded: decoded})
	if sr.log != nil {
		sr.log.Info("search index built", "items", len(docs), "decoded", decoded, "catalog_version", v, "elapsed", time.Since(start))
	}
	return true, nil
}

// Watch polls the catalog version every interval until ctx ends.
func (sr *Searcher) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := sr.Refresh(ctx); err != nil && ctx.Err() == nil && sr.log != nil {
				sr.log.Warn("search index refresh failed", "err", err)
			}
		}
	}
}

// Tags are the filter values of an item in the search index.
func Tags(it Item) []string {
	return tags(it.Level, it.Department, it.Type, it.Depth, it.Themes, it.Subjects)
}

func tags(level int, dept string, typ ItemType, depth Depth, themes, subjects []string) []string {
	tags := make([]string, 0, 4+len(themes)+len(subjects))
	tags = append(tags, "level:"+strconv.Itoa(level), "dept:"+dept, "type:"+string(typ), "depth:"+strconv.Itoa(int(depth)))
	for _, th := range themes {
		tags = append(tags, "theme:"+th)
	}
	for _, s := range subjects {
		tags = append(tags, "subject:"+s)
	}
	return tags
}

// Filter narrows a search; zero values match everything.
type Filter struct {
	Level      int
	Department string // slug
	Theme      string
	Type       ItemType
	Depth      Depth
	Subject    string
}

func (f Filter) tags() []string {
	var tags []string
	if f.Level != 0 {
		tags = append(tags, "level:"+strconv.Itoa(f.Level))
	}
	if f.Department != "" {
		tags = append(tags, "dept:"+f.Department)
	}
	if f.Theme != "" {
		tags = append(tags, "theme:"+f.Theme)
	}
	if f.Type != "" {
		tags = append(tags, "type:"+string(f.Type))
	}
	if f.Depth != 0 {
		tags = append(tags, "depth:"+strconv.Itoa(int(f.Depth)))
	}
	if f.Subject != "" {
		tags = append(tags, "subject:"+f.Subject)
	}
	return tags
}

// Hit is one search result.
type Hit struct {
	Summary
	NameMarks [][2]int // rune ranges of Name to highlight
	Via       string   // how it matched: "", alias, pinyin, synonym, typo
}

// Results is a page of search results.
type Results struct {
	Total     int
	Hits      []Hit
	Corrected string // the query as corrected for a typo
}

// Search finds published items. Text may be empty to browse by filter.
func (sr *Searcher) Search(text string, f Filter, offset, limit int) Results {
	st := sr.state.Load()
	res := st.index.Search(search.Query{Text: text, Tags: f.tags(), Offset: offset, Limit: limit})
	out := Results{Total: res.Total, Corrected: res.Corrected}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, Hit{Summary: st.items[h.ID], NameMarks: h.NameMarks, Via: h.Via})
	}
	return out
}

// Version is the catalog version of the index searches are answered from:
// what is worked out from search results can be kept under it.
func (sr *Searcher) Version() int64 { return sr.state.Load().version }

// Len is the number of items in the index.
func (sr *Searcher) Len() int { return sr.state.Load().index.Len() }

// Group is one service in grouped results: the implementations of one
// 基本编码 and name (every street centre's 最低生活保障, say) shown
// once, as the one that serves the person's place.
type Group struct {
	Hit       // the implementation shown
	Count int // implementations of the service that match
	// Local is true when Hit is the implementation for the person's
	// place rather than simply the best-ranked one.
	Local bool
}

// GroupedResults is a page of services.
type GroupedResults struct {
	Total     int // services, not implementations
	Groups    []Group
	Corrected string
}

// SearchGrouped is Search with one result per service. place is the
// 12-digit region code of where the person lives ("" if unknown): of a
// service's implementations it picks the one of the deepest region that
// contains place (the person's community station, else their street
// centre, else the district's); without one, the best-ranked.
func (sr *Searcher) SearchGrouped(text string, f Filter, place string, offset, limit int) GroupedResults {
	st := sr.state.Load()
	// The index collapses the implementations (Doc.Group), so a page
	// costs the page's services, not every match (issue 18.4).
	res := st.index.Search(search.Query{Text: text, Tags: f.tags(), Offset: offset, Limit: limit, Collapse: true})
	out := GroupedResults{Total: res.Total, Corrected: res.Corrected}
	for _, h := range res.Hits {
		g := Group{Hit: Hit{Summary: st.items[h.ID], NameMarks: h.NameMarks, Via: h.Via}, Count: 1 + len(h.Others)}
		if place != "" {
			// The others share the shown one's name, so its marks fit them.
			best, depth := g.Summary, -1
			for _, id := range append([]int64{h.ID}, h.Others...) {
				sum := st.items[id]
				if p := regionPrefix(sum.RegionCode); strings.HasPrefix(place, p) && len(p) > depth {
					best, depth = sum, len(p)
					g.Local = true
				}
			}
			g.Summary = best
		}
		out.Groups = append(out.Groups, g)
	}
	return out
}

// regionPrefix is a region code without its trailing zero parts: the
// prefix every code below it starts with (410411001000 gives 410411001).
func regionPrefix(code string) string {
	for len(code) > 6 && strings.HasSuffix(code, "000") {
		code = code[:len(code)-3]
	}
	return code
}
