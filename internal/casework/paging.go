package casework

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
)

// PageSize is how many rows a list shows at once.
const PageSize = 50

// Page is one page of a list in keyset order: the rows after a cursor,
// how many rows the whole list has (counted with the same filter), and
// the cursor of the next page. Lists page by keyset rather than offset so
// that a later page costs what the first does, and a row that moves while
// someone pages is neither shown twice nor skipped past its old place.
type Page[T any] struct {
	Rows  []T
	Total int    // rows of the whole list, counted up to CountCap
	More  bool   // the list has more rows than Total (which is then CountCap)
	Next  string // "" on the last page
}

// CountCap bounds a list's count. A count reads every row it counts, so
// an unbounded one made each view of a long list cost in proportion to
// the district's history: at 10 million cases the 已办结 queue of a
// department holding two million took 0.9 s a view, nearly all of it
// counting. Past the cap a list says it has "more than" CountCap, as
// large sites do; its pages and exports are not limited by it.
const CountCap = 10_000

// Count is a list's count as the pages show it: "10000+" past CountCap.
type Count struct {
	N    int
	More bool // the list has more than N (which is CountCap)
}

func (c Count) String() string {
	if c.More {
		return strconv.Itoa(c.N) + "+"
	}
	return strconv.Itoa(c.N)
}

// Count is the page's list's count.
func (p Page[T]) Count() Count { return Count{p.Total, p.More} }

// countUpTo counts the rows of SELECT … from WHERE c, up to CountCap.
func (s *Service) countUpTo(ctx context.Context, from string, c conds) (n int, more bool, err error) {
	args := append(append([]any{}, c.args...), CountCap+1)
	err = s.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1`+from+c.where()+` LIMIT ?) counted`, args...).Scan(&n)
	if n > CountCap {
		return CountCap, true, err
	}
	return n, false, err
}

// conds builds a WHERE clause and its arguments.
type conds struct {
	sql  []string
	args []any
}

func (c *conds) add(cond string, args ...any) {
	c.sql = append(c.sql, cond)
	c.args = append(c.args, args...)
}

func (c conds) where() string {
	if len(c.sql) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.sql, " AND ")
}

// followScope keeps the cases who may follow up (policy.FollowRegion),
// in SQL, before any LIMIT: a supervisor's region subtree, everything for
// an administrator.
func (c *conds) followScope(who policy.Subject) {
	if p := policy.FollowRegion(who); p != "" {
		c.inRegion(p)
	}
}

// inRegion limits c to the cases whose region code starts with prefix
// (policy.RegionPrefix, FollowRegion: six digits for the district, nine
// for a street, twelve for a community). A community is its code, and a
// street the first nine digits of the code, so that the running cases'
// indexes led by them (cases_running_region, cases_running_street) give a
// region's late list in its order and bound its count, however few of
// the district's cases are the region's; a LIKE pattern no index serves
// (PostgreSQL's only in the C collation, SQLite's not while LIKE ignores
// case). A prefix that is not one of these (FollowRegion's "-": no
// region) matches none.
func (c *conds) inRegion(prefix string) {
	switch {
	case strings.Trim(prefix, "0123456789") != "":
		c.add(`1 = 0`)
	case len(prefix) == 12:
		c.add(`c.region_code = ?`, prefix)
	case len(prefix) == 6 || len(prefix) == 9:
		c.add(`substr(c.region_code, 1, `+strconv.Itoa(len(prefix))+`) = ?`, prefix)
	default:
		c.add(`1 = 0`)
	}
}

// cursor is a keyset position: the sort key values of the last row shown,
// comma-separated in the URL (after=2026-12-01,123).
type cursor []string

var errCursor = apperr.New(apperr.Invalid, "翻页参数无效，请从第一页重新查看。")

// parseCursor splits after into n parts; "" is the first page.
func parseCursor(after string, n int) (cursor, error) {
	if after == "" {
		return nil, nil
	}
	parts := strings.Split(after, ",")
	if len(parts) != n {
		return nil, errCursor
	}
	return parts, nil
}

func (c cursor) int(i int) (int64, error) {
	v, err := strconv.ParseInt(c[i], 10, 64)
	if err != nil {
		return 0, errCursor
	}
	return v, nil
}

func (c cursor) time(i int) (time.Time, error) {
	v, err := strconv.ParseInt(c[i], 10, 64)
	if err != nil {
		return time.Time{}, errCursor
	}
	return time.Unix(0, v).UTC(), nil
}

func (c cursor) date(i int) (string, error) {
	if c[i] != "" && len(c[i]) != len("2006-01-02") {
		return "", errCursor
	}
	return c[i], nil
}

// makeCursor joins sort key values into a cursor.
func makeCursor(parts ...any) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		switch v := p.(type) {
		case int64:
			s[i] = strconv.FormatInt(v, 10)
		case int:
			s[i] = strconv.Itoa(v)
		case time.Time:
			s[i] = strconv.FormatInt(v.UnixNano(), 10)
		case string:
			s[i] = v
		}
	}
	return strings.Join(s, ",")
}
