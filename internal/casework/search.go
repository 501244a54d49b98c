package casework

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/store"
)

// The staff's search box (QueueFilter.Query) matches a case by
//
//   - its number, when the query is digits only: the whole 20-digit number
//     or a prefix of it longer than the county code (15–20 digits); its date
//     and serial without the county code, or a prefix of them at least a
//     whole date long (8–14 digits: 20261125, 20261125000123); or its serial
//     of the day (1–6 digits, leading zeros optional: 123 is 000123);
//   - otherwise (at least two characters): a part of its item's name; the
//     start of its applicant's name (names are surname first: 张三 finds 张三
//     and 张三丰); the start of its enterprise's name, or the enterprise's
//     统一社会信用代码.
//
// It used to match a substring of all four (LIKE '%…%'), which no index
// serves, so every search read the department's whole history with its
// joins (8.6 s at 10 million cases). Each of these is an index range of
// its own (migration 0034), so a search costs what it finds: Queue counts
// the matches, up to CountCap, from those ranges; when there are no more
// than CountCap it reads the matches' sort keys and sorts them; when there
// are more (a common item word), they are at least CountCap of the
// department's cases, and walking the department's queue in order
// (cases_department_due) finds a page of them soon. Dropped on purpose:
// a number's digits in the middle (a serial's inner digits, a date
// without its year), a name's inner characters, and one-character text
// queries, which no index bounds (pg_trgm and SQLite's trigrams take no
// term shorter than three characters, and most Chinese names and words
// are two).
//
// A search's values that steer its plan (the department, the ids of the
// items, applicants and enterprises it names, a number's digits: integers
// and digits only) are written into its SQL rather than bound: PostgreSQL
// reuses a generic plan for a prepared statement after five runs, and the
// generic plan took the department for one of average size and joined all
// its cases to a serial's few (0.6 s at a million cases, against 1 ms).
// Each search is then a statement of its own, planned for its values.
type search struct {
	arms []cond // the ways a case matches, each an index range of its own
	// walk is the arms OR-ed, with their columns spelt so that no index of
	// theirs serves them: the walk along the queue tests them on its rows.
	// Empty for a number: its matches are few (a day's cases at most, or
	// a serial's one a day), so they are always sorted.
	walk cond
}

// cond is an SQL condition on the cases c and its arguments; for a
// number, also the query of the ids it names, read as a table (n).
type cond struct {
	sql  string
	args []any
	ids  string
}

// from is what an arm reads: the cases, or for a number the cases of its
// ids. CROSS JOIN keeps SQLite's planner from reading the department's
// cases and testing each (it guesses a range's size without a histogram);
// to PostgreSQL it is a join like any other.
func (arm cond) from(where conds) (string, []any) {
	c := byKey(where)
	if arm.ids == "" {
		c.add(arm.sql, arm.args...)
		return ` FROM cases c` + c.where(), c.args
	}
	c.add(`c.id = n.id`)
	return ` FROM (` + arm.ids + `) n CROSS JOIN cases c` + c.where(), append(append([]any{}, arm.args...), c.args...)
}

var (
	errSearchEmpty  = apperr.New(apperr.Invalid, "请输入办件编号、事项名称、申请人姓名或企业名称。")
	errSearchShort  = apperr.New(apperr.Invalid, "请至少输入两个字：事项名称中的词、申请人姓名或企业名称的开头；或输入办件编号。")
	errSearchNumber = apperr.New(apperr.Invalid, "按办件编号查找：请输入完整的 20 位编号、日期加流水号（8 至 14 位，如 20261125000123）或流水号（1 至 6 位）。")
)

// maxSearchKeys bounds the items, applicants and enterprises one text
// query may name: a search reads each one's cases along its index, a few
// milliseconds per thousand. A common full name (张伟) may be shared by a
// few thousand people of a large district, and must still be found.
const maxSearchKeys = 10000

// parseSearch reads a search box's query (trimmed, not empty). A text
// query's items, applicants and enterprises are read first and named in
// the arms by their ids: PostgreSQL then plans each arm with the ids'
// statistics (a rare item's few cases along its index) rather than
// guessing an equal share for whatever a subquery returns, which read a
// rare item's cases by scanning the department's (2.2 s at a million).
func (s *Service) parseSearch(ctx context.Context, q string) (search, error) {
	if strings.IndexFunc(q, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
		return search{}, errSearchEmpty
	}
	// A scanned or copied number may come with spaces.
	if digits := strings.Join(strings.Fields(q), ""); strings.Trim(digits, "0123456789") == "" {
		arm, err := numberArm(digits)
		return search{arms: []cond{arm}}, err
	}
	if utf8.RuneCountInString(q) < 2 {
		return search{}, errSearchShort
	}
	var m search
	var walk []string
	lo, hi := q, prefixEnd(q)
	// A name's start is a range in code point order: SQLite's BINARY, and
	// on PostgreSQL the C collation, named here and in the index (0034)
	// because a database made with a Chinese locale orders names by
	// pinyin, where the range from 王五 to 王井 holds nothing.
	name := `name`
	if s.db.Dialect == store.Postgres {
		name = `name COLLATE "C"`
	}
	for _, k := range []struct {
		column, keys string
		args         []any
		what         string
	}{
		{"item_id", `SELECT id FROM items WHERE name LIKE ? ESCAPE '\'`, []any{store.Contains(q)}, "事项"},
		{"applicant_id", `SELECT id FROM accounts WHERE ` + name + ` >= ? AND ` + name + ` < ?`, []any{lo, hi}, "申请人"},
		{"enterprise_id", `SELECT id FROM enterprises WHERE ` + name + ` >= ? AND ` + name + ` < ? OR credit_code = ?`, []any{lo, hi, strings.ToUpper(q)}, "企业"},
	} {
		ids, err := s.searchKeys(ctx, k.keys+` LIMIT ?`, append(k.args, maxSearchKeys+1))
		if err != nil {
			return m, err
		}
		if len(ids) > maxSearchKeys {
			return m, apperr.New(apperr.Invalid, fmt.Sprintf("符合“%s”的%s超过 %d 个，请输入更完整的名称，或按办件编号查找。", q, k.what, maxSearchKeys))
		}
		if len(ids) == 0 {
			continue
		}
		in := ` IN (` + strings.Join(ids, `, `) + `)`
		m.arms = append(m.arms, cond{sql: `c.` + k.column + in})
		// A unary plus makes it an expression that no index is led by.
		walk = append(walk, `+c.`+k.column+in)
	}
	if len(walk) > 0 {
		m.walk.sql = `(` + strings.Join(walk, ` OR `) + `)`
	}
	return m, nil
}

// searchKeys reads the ids a text query names, as SQL literals.
func (s *Service) searchKeys(ctx context.Context, q string, args []any) ([]string, error) {
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	return ids, rows.Err()
}

// numberArm is the index range of the case numbers a digit query names
// (numbering.go: county code, date, serial of the day).
func numberArm(d string) (cond, error) {
	if strings.Trim(d, "0123456789") != "" { // they are written into the SQL
		return cond{}, errSearchNumber
	}
	var where string
	switch n := len(d); {
	case n <= 6:
		where = `substr(number, 15) = '` + strings.Repeat("0", 6-n) + d + `'`
	case n >= 8 && n <= 14:
		where = `substr(number, 7) BETWEEN '` + d + strings.Repeat("0", 14-n) + `' AND '` + d + strings.Repeat("9", 14-n) + `'`
	case n >= 15 && n <= 20:
		where = `number BETWEEN '` + d + strings.Repeat("0", 20-n) + `' AND '` + d + strings.Repeat("9", 20-n) + `'`
	default:
		return cond{}, errSearchNumber
	}
	ids := `SELECT id FROM cases WHERE ` + where
	return cond{sql: `c.id IN (` + ids + `)`, ids: ids}, nil
}

// prefixEnd is the least string above every string that starts with p,
// in code point order (SQLite's BINARY, PostgreSQL's C collation): p with
// its last character the next one.
func prefixEnd(p string) string {
	r, size := utf8.DecodeLastRuneInString(p)
	next := r + 1
	if next >= 0xD800 && next <= 0xDFFF { // no character is a surrogate
		next = 0xE000
	}
	if next > unicode.MaxRune {
		return p + string(unicode.MaxRune)
	}
	return p[:len(p)-size] + string(next)
}

// byKey spells the list's conditions on the status and the due date as
// expressions, which no index serves, so that an arm is read from its own
// key's index. SQLite's statistics give the department's cases of one due
// date as few (an average over the dates), and its planner read the
// undated run (an empty due date: every case not yet accepted) for every arm from
// cases_department_due, or a later page from the cursor on.
func byKey(where conds) conds {
	out := conds{args: where.args}
	for _, s := range where.sql {
		out.sql = append(out.sql, keyedColumns.Replace(s))
	}
	return out
}

var keyedColumns = strings.NewReplacer("c.due_on", "(c.due_on || '')", "c.status", "(c.status || '')")

// searchCount counts the cases that match where and one of the search's
// arms, up to CountCap: each arm reads at most CountCap+1 of its own
// index range, and their union drops a case two arms find. live is the
// arms that find any.
func (s *Service) searchCount(ctx context.Context, where conds, m search) (n int, more bool, live []cond, err error) {
	// Each arm alone first: one past the cap is the answer, and one arm
	// alone finding anything (the usual search) is the count, without the
	// union's sort of up to CountCap ids per arm.
	var parts []string
	var args []any
	for _, arm := range m.arms {
		from, a := arm.from(where)
		a = append(a, CountCap+1)
		var k int
		if err := s.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1`+from+` LIMIT ?) a`, a...).Scan(&k); err != nil {
			return 0, false, nil, err
		}
		if k > CountCap {
			return CountCap, true, m.arms, nil
		}
		if k > 0 {
			n, live = k, append(live, arm)
			parts = append(parts, `SELECT id FROM (SELECT c.id`+from+` LIMIT ?) a`)
			args = append(args, a...)
		}
	}
	if len(live) < 2 {
		return n, false, live, nil
	}
	err = s.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM (`+strings.Join(parts, ` UNION `)+`) matched`, args...).Scan(&n)
	if n > CountCap {
		return CountCap, true, live, err
	}
	return n, false, live, err
}

// searchPage is the condition that picks a page of limit cases of the
// list where that match the search, in the queue's order: the cases read
// from the arms' ranges and sorted when they are few, the department's
// queue walked in order when they are many (dense).
func searchPage(where conds, m search, dense bool, limit int) cond {
	// Sorted by an expression, so that PostgreSQL does not walk an index
	// in this order instead of reading the arm's range: it guesses the
	// items a word names to have an equal share of the department's cases.
	const order = ` ORDER BY due_on || '', updated_at, id LIMIT ?`
	if dense && m.walk.sql != "" {
		c := where
		c.add(m.walk.sql, m.walk.args...)
		return cond{sql: `c.id IN (SELECT c.id FROM cases c` + c.where() + ` ORDER BY c.due_on, c.updated_at, c.id LIMIT ?)`, args: append(c.args, limit)}
	}
	var parts []string
	var args []any
	for _, arm := range m.arms {
		from, a := arm.from(where)
		parts = append(parts, `SELECT c.id, c.due_on, c.updated_at`+from)
		args = append(args, a...)
	}
	return cond{sql: `c.id IN (SELECT id FROM (` + strings.Join(parts, ` UNION `) + `) matched` + order + `)`, args: append(args, limit)}
}
