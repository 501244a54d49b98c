package catalog

import (
	"context"
	"log/slog"
	"strconv"
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
}

// Searcher answers catalog searches from an in-memory index. Each instance
// keeps its own; when the catalog version in the database moves (any
// publication, status change or synonym edit, on any instance), Watch
// rebuilds it, so every instance converges within one poll interval.
type Searcher struct {
	store *Store
	log   *slog.Logger
	state atomic.Pointer[searchState]
}

type searchState struct {
	version int64
	index   *search.Index
	items   map[int64]Summary
}

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
	v, err := sr.store.CatalogVersion(ctx)
	if err != nil {
		return false, err
	}
	if cur := sr.state.Load(); cur != nil && cur.version == v {
		return false, nil
	}
	items, err := sr.store.AllPublished(ctx)
	if err != nil {
		return false, err
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
	docs := make([]search.Doc, 0, len(items))
	summaries := make(map[int64]Summary, len(items))
	for _, it := range items {
		names := deptNames[it.DepartmentID]
		docs = append(docs, search.Doc{
			ID: it.ID, Name: it.Name, Aliases: it.Aliases, Popularity: it.Popularity,
			Text: names[1] + " " + it.Result.Name,
			Tags: Tags(it),
		})
		summaries[it.ID] = Summary{ID: it.ID, Name: it.Name, Department: names[0], Level: it.Level, Type: it.Type,
			Depth: it.Depth, CaseKind: it.CaseKind, Visits: it.Visits, PromiseLimit: it.PromiseLimit, Suspended: it.Status == Suspended}
	}
	start := time.Now()
	ix := search.Build(docs, search.Options{Synonyms: syn})
	sr.state.Store(&searchState{version: v, index: ix, items: summaries})
	if sr.log != nil {
		sr.log.Info("search index built", "items", len(docs), "catalog_version", v, "elapsed", time.Since(start))
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
	tags := []string{"level:" + strconv.Itoa(it.Level), "dept:" + it.Department, "type:" + string(it.Type),
		"depth:" + strconv.Itoa(int(it.Depth))}
	for _, th := range it.Themes {
		tags = append(tags, "theme:"+th)
	}
	for _, s := range it.Subjects {
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

// Len is the number of items in the index.
func (sr *Searcher) Len() int { return sr.state.Load().index.Len() }
