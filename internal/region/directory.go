package region

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/store"
)

// directory is every region and department, read at once and kept until
// the 'regions' row of cache_versions moves: every change to a region or
// a department bumps it in its transaction, on whichever instance. A
// district has some hundreds of each, and the public pages list or count
// them on every view (the home page made eight queries for its counts);
// now a view costs one point read of the version.
type directory struct {
	version     int64
	regions     []Region // code order
	departments []Department
	levels      map[string]Level // region code → level
	byID        map[int64]int    // department ID → index
	byCode      map[string]int   // region code → index
	// The names in lower case, by index, for searches (LIKE '%term%' as
	// both databases agree on it for names): folding each name on every
	// search was a tenth of the search page's time.
	regionFolds []string
	depFolds    [][2]string // name, short name
}

type directoryCache struct {
	mu  sync.Mutex // one reload at a time
	cur *directory
}

func bumpDirectory(ctx context.Context, tx *store.Tx) error {
	return store.BumpVersion(ctx, tx, "regions")
}

// directory returns the current directory, reading it again if the
// version moved.
func (s *Store) directory(ctx context.Context) (*directory, error) {
	v, err := s.db.CacheVersion(ctx, "regions")
	if err != nil {
		return nil, err
	}
	c := s.dir
	c.mu.Lock()
	defer c.mu.Unlock()
	// A copy newer than the version the request read serves it too.
	if c.cur != nil && c.cur.version >= v {
		return c.cur, nil
	}
	d := &directory{levels: map[string]Level{}, byID: map[int64]int{}, byCode: map[string]int{}}
	err = s.db.Snapshot(ctx, func(q store.Querier) error {
		if err := q.QueryRow(ctx, `SELECT version FROM cache_versions WHERE name = 'regions'`).Scan(&d.version); err != nil {
			return err
		}
		rows, err := q.Query(ctx, `SELECT `+regionColumns+` FROM regions ORDER BY code`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRegion(rows)
			if err != nil {
				return err
			}
			d.byCode[r.Code], d.levels[r.Code] = len(d.regions), r.Level
			d.regions = append(d.regions, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		drows, err := q.Query(ctx, `SELECT `+departmentColumns+` FROM departments d`)
		if err != nil {
			return err
		}
		defer drows.Close()
		for drows.Next() {
			dep, err := scanDepartment(drows)
			if err != nil {
				return err
			}
			d.departments = append(d.departments, dep)
		}
		return drows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read regions and departments: %w", err)
	}
	// The service centre first, then bureaus, then the street and
	// community centres in region order.
	slices.SortFunc(d.departments, func(a, b Department) int {
		center := func(x Department) int {
			if x.Kind == ServiceCenter {
				return 0
			}
			return 1
		}
		if c := int(d.levels[a.RegionCode]) - int(d.levels[b.RegionCode]); c != 0 {
			return c
		}
		if c := center(a) - center(b); c != 0 {
			return c
		}
		if c := strings.Compare(a.RegionCode, b.RegionCode); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	for i, dep := range d.departments {
		d.byID[dep.ID] = i
		d.depFolds = append(d.depFolds, [2]string{strings.ToLower(dep.Name), strings.ToLower(dep.ShortName)})
	}
	for _, r := range d.regions {
		d.regionFolds = append(d.regionFolds, strings.ToLower(r.Name))
	}
	c.cur = d
	return d, nil
}

// Version is the version of the directory this request reads: at least
// the one it read from cache_versions. What is worked out from regions and
// departments can be kept under it (the search page's results are).
func (s *Store) Version(ctx context.Context) (int64, error) {
	d, err := s.directory(ctx)
	if err != nil {
		return 0, err
	}
	return d.version, nil
}

func (d *directory) region(code string) (Region, error) {
	i, ok := d.byCode[code]
	if !ok {
		return Region{}, apperr.New(apperr.NotFound, "区划 "+code+" 不存在")
	}
	return d.regions[i], nil
}

func (d *directory) listRegions(f RegionFilter) []Region {
	term := strings.ToLower(strings.TrimSpace(f.Query))
	var out []Region
	for i, r := range d.regions {
		if (f.Level == 0 || r.Level == f.Level) && (f.Parent == "" || r.ParentCode == f.Parent) && (term == "" || strings.Contains(d.regionFolds[i], term)) {
			out = append(out, r)
		}
	}
	return out
}

func (d *directory) listDepartments(f DepartmentFilter) ([]Department, error) {
	prefix := ""
	if f.Within != "" {
		w, err := d.region(f.Within)
		if err != nil {
			return nil, err
		}
		prefix = w.prefix()
	}
	term := strings.ToLower(strings.TrimSpace(f.Query))
	var out []Department
	for i, dep := range d.departments {
		if (f.Region == "" || dep.RegionCode == f.Region) && strings.HasPrefix(dep.RegionCode, prefix) &&
			(f.Level == 0 || d.levels[dep.RegionCode] == f.Level) && (f.Kind == "" || dep.Kind == f.Kind) &&
			(term == "" || strings.Contains(d.depFolds[i][0], term) || strings.Contains(d.depFolds[i][1], term)) {
			out = append(out, dep)
		}
	}
	return out, nil
}

// LevelCount is how many regions and departments one level has.
type LevelCount struct {
	Level                Level
	Regions, Departments int
}

// Overview counts the regions and departments of each level and lists the
// district's departments, for the portal's home page: one read.
func (s *Store) Overview(ctx context.Context) ([]LevelCount, []Department, error) {
	d, err := s.directory(ctx)
	if err != nil {
		return nil, nil, err
	}
	counts := make([]LevelCount, len(Levels))
	for i, l := range Levels {
		counts[i].Level = l
		for _, r := range d.regions {
			if r.Level == l {
				counts[i].Regions++
			}
		}
		for _, dep := range d.departments {
			if d.levels[dep.RegionCode] == l {
				counts[i].Departments++
			}
		}
	}
	district, err := d.listDepartments(DepartmentFilter{Level: District})
	return counts, district, err
}
