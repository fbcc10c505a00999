package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Aggregates for dashboards and the map: counted by the database (GROUP BY),
// in the same scope and with the same filters as listings (caseWhere), on
// both engines with the same SQL.

// StatsDim is what a dashboard groups cases by.
type StatsDim string

// The dimensions of CaseStats.
const (
	ByTotal     StatsDim = ""          // one row for everything
	ByBoard     StatsDim = "board"     // the four boards
	ByCategory  StatsDim = "category"  // category codes
	ByDistrict  StatsDim = "district"  // district codes
	ByStreet    StatsDim = "street"    // street codes
	ByCommunity StatsDim = "community" // community codes
	ByGrid      StatsDim = "grid"      // grid codes
	ByDay       StatsDim = "day"       // local calendar days (see StatsQuery.Offset)
)

// dimColumn is the grouping expression of each dimension but ByDay.
var dimColumn = map[StatsDim]string{
	ByBoard: "board", ByCategory: "category", ByDistrict: "district_code", ByStreet: "street_code",
	ByCommunity: "community_code", ByGrid: "grid_code",
}

// StatsQuery asks for case counts grouped by one dimension.
type StatsQuery struct {
	Filter CaseFilter // scope and filters; Limit and After are ignored
	Dim    StatsDim
	// Offset is the local zone's offset from UTC, for ByDay: days start at
	// local midnight. Asia/Shanghai has had no daylight saving since 1991,
	// so one offset serves any period.
	Offset time.Duration
	// Top keeps only the largest groups (by reported count); 0 keeps all.
	Top int
}

// CaseStat is one group's counts. Closed counts cases that reached the
// closed state (not rejected or merged ones); OnTime those of them that were
// never overdue; Open those not yet closed, rejected or merged; OpenOverdue
// the open ones with a running clock past due now.
type CaseStat struct {
	Key         string // the group: a board, a code, or a day as YYYY-MM-DD
	Reported    int
	Closed      int
	OnTime      int
	Open        int
	OpenOverdue int
}

// CaseStats counts cases matching the filter, grouped by q.Dim: largest
// groups first, or by day. The filter's Now says what is overdue.
func (db *DB) CaseStats(ctx context.Context, q StatsQuery) ([]CaseStat, error) {
	by, err := db.CaseStatsBy(ctx, q, q.Dim)
	if err != nil {
		return nil, err
	}
	out := by[q.Dim]
	if q.Top > 0 && q.Dim != ByTotal && len(out) > q.Top {
		out = out[:q.Top]
	}
	return out, nil
}

// statsSQL is CaseStatsBy's statement and arguments, and the column of
// each dimension's key in its rows. Grouped, a row is a group of the keys
// with its count and four sums; not grouped (summed in Go: sumRows), a row
// is a case with its keys and its flags (flagClosed…).
func (db *DB) statsSQL(ctx context.Context, q StatsQuery, dims []StatsDim, grouped bool) (string, []any, map[StatsDim]int, error) {
	f := q.Filter
	f.After, f.Limit = "", 0
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	if err := db.textPlan(ctx, &f); err != nil {
		return "", nil, nil, err
	}
	w := db.caseWhere(f)
	if len(f.States) == 0 {
		// Held reports (待甄别) are outside the loop until released.
		w.add(`state <> 'held'`)
	}
	// keys are the grouping expressions, one per distinct dimension but
	// ByTotal, in the order of cols.
	var keys []string
	cols := map[StatsDim]int{}
	for _, d := range dims {
		if _, seen := cols[d]; seen || d == ByTotal {
			continue
		}
		switch col, ok := dimColumn[d]; {
		case d == ByDay:
			// Whole milliseconds per day: integer division on both engines.
			off := strconv.FormatInt(q.Offset.Milliseconds(), 10)
			keys = append(keys, `CAST((reported_at + `+off+`) / 86400000 AS TEXT)`)
		case ok:
			keys = append(keys, col)
		default:
			return "", nil, nil, fmt.Errorf("case stats: unknown dimension %q", d)
		}
		cols[d] = len(keys) - 1
	}
	w.args = append(w.args, ms(f.Now))
	now := "$" + strconv.Itoa(len(w.args))
	sel := ""
	for i, k := range keys {
		sel += k + ` AS k` + strconv.Itoa(i) + `, `
	}
	if !grouped {
		return `SELECT ` + sel + `(CASE WHEN state = 'closed' THEN ` + strconv.Itoa(flagClosed) + ` ELSE 0 END)
		+ (CASE WHEN state = 'closed' AND was_overdue = 0 THEN ` + strconv.Itoa(flagOnTime) + ` ELSE 0 END)
		+ (CASE WHEN closed_at IS NULL THEN ` + strconv.Itoa(flagOpen) + ` ELSE 0 END)
		+ (CASE WHEN closed_at IS NULL AND due_at < ` + now + ` THEN ` + strconv.Itoa(flagOverdue) + ` ELSE 0 END)` + w.table() + w.sql(), w.args, cols, nil
	}
	stmt := `SELECT ` + sel + `COUNT(*),
		SUM(CASE WHEN state = 'closed' THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'closed' AND was_overdue = 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN closed_at IS NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN closed_at IS NULL AND due_at < ` + now + ` THEN 1 ELSE 0 END)` + w.table() + w.sql()
	if len(keys) > 0 {
		stmt += ` GROUP BY ` + strings.Join(keys, ", ")
	}
	return stmt, w.args, cols, nil
}

// A case's flags in CaseStatsBy's rows read one by one (statsSQL, not
// grouped).
const (
	flagClosed = 1 << iota
	flagOnTime
	flagOpen
	flagOverdue
)

// CaseStatsBy counts the cases matching q.Filter grouped by each of dims,
// reading them once (a dashboard's five tables cost one pass over the
// period's cases instead of five). Each dimension's groups come as
// CaseStats gives them: largest first, or by day; ByTotal is one row, zeros
// when nothing matches. q.Dim and q.Top are ignored.
//
// On PostgreSQL one statement groups by every dimension's key together and
// the groups are summed here into each dimension's. On SQLite each case is
// summed here into its group of every dimension as it is read, not grouped
// by the statement: SQLite groups by sorting every row first, and a district's
// year (about 500,000 cases in 180,000 groups of board, category, street
// and day at 1 M cases) spent 1.8 s of 1.9 in that sort, where reading
// the rows from the district's period index took 70 ms
// (docs/benchmarks-journal.md, section 2e; measured while another job ran).
// PostgreSQL groups in the statement (a hash aggregate in the plans seen)
// and sends the groups.
func (db *DB) CaseStatsBy(ctx context.Context, q StatsQuery, dims ...StatsDim) (map[StatsDim][]CaseStat, error) {
	return db.caseStatsBy(ctx, q, dims, db.Dialect == SQLite)
}

// caseStatsBy is CaseStatsBy, summing the cases in Go (inGo) or reading the
// statement's groups (the tests compare the two).
func (db *DB) caseStatsBy(ctx context.Context, q StatsQuery, dims []StatsDim, inGo bool) (map[StatsDim][]CaseStat, error) {
	stmt, args, cols, err := db.statsSQL(ctx, q, dims, !inGo)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("case stats: %w", translate(err))
	}
	defer rows.Close()
	groups := map[StatsDim]map[string]*CaseStat{}
	for _, d := range dims {
		groups[d] = map[string]*CaseStat{}
	}
	if inGo {
		if err := sumRows(rows, cols, groups); err != nil {
			return nil, err
		}
		return statsOut(groups)
	}
	k := make([]*string, len(cols)) // the keys' columns: one per dimension but ByTotal
	var n int
	var closed, onTime, open, overdue *int64
	dest := make([]any, 0, len(k)+5)
	for i := range k {
		dest = append(dest, &k[i])
	}
	dest = append(dest, &n, &closed, &onTime, &open, &overdue)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("case stats: %w", err)
		}
		if n == 0 {
			continue // no GROUP BY over no rows: one row of zeros and NULLs
		}
		for d, g := range groups {
			key := ""
			if i, ok := cols[d]; ok && k[i] != nil {
				key = *k[i]
			}
			s := g[key]
			if s == nil {
				s = &CaseStat{Key: key}
				g[key] = s
			}
			s.Reported += n
			s.Closed += intOf(closed)
			s.OnTime += intOf(onTime)
			s.Open += intOf(open)
			s.OpenOverdue += intOf(overdue)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("case stats: %w", err)
	}
	return statsOut(groups)
}

// sumRows adds each case of rows (statsSQL, not grouped: the keys, then the
// flags) to its group of every dimension. The keys are read into
// sql.RawBytes, not copied into strings of their own for each case; a
// group's key is copied once, when the group is made.
func sumRows(rows *sql.Rows, cols map[StatsDim]int, groups map[StatsDim]map[string]*CaseStat) error {
	type dimGroups struct {
		col int // the key's column; -1: ByTotal, one group
		g   map[string]*CaseStat
	}
	var dims []dimGroups
	for d, g := range groups {
		col := -1
		if i, ok := cols[d]; ok {
			col = i
		}
		dims = append(dims, dimGroups{col, g})
	}
	k := make([]sql.RawBytes, len(cols))
	var flags int64
	dest := make([]any, 0, len(k)+1)
	for i := range k {
		dest = append(dest, &k[i])
	}
	dest = append(dest, &flags)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("case stats: %w", err)
		}
		for _, d := range dims {
			var key []byte
			if d.col >= 0 {
				key = k[d.col]
			}
			s := d.g[string(key)]
			if s == nil {
				s = &CaseStat{Key: string(key)}
				d.g[s.Key] = s
			}
			s.Reported++
			s.Closed += flagged(flags, flagClosed)
			s.OnTime += flagged(flags, flagOnTime)
			s.Open += flagged(flags, flagOpen)
			s.OpenOverdue += flagged(flags, flagOverdue)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("case stats: %w", err)
	}
	return nil
}

// flagged is 1 when flags has flag, else 0.
func flagged(flags, flag int64) int {
	if flags&flag != 0 {
		return 1
	}
	return 0
}

// statsOut orders each dimension's groups as CaseStatsBy gives them.
func statsOut(groups map[StatsDim]map[string]*CaseStat) (map[StatsDim][]CaseStat, error) {
	out := make(map[StatsDim][]CaseStat, len(groups))
	for d, g := range groups {
		list := make([]CaseStat, 0, len(g))
		for _, s := range g {
			list = append(list, *s)
		}
		if d == ByDay {
			for i := range list {
				day, err := strconv.ParseInt(list[i].Key, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("case stats: day %q: %w", list[i].Key, err)
				}
				list[i].Key = time.UnixMilli(day * 86400000).UTC().Format("2006-01-02")
			}
			sort.Slice(list, func(i, j int) bool { return list[i].Key < list[j].Key })
		} else {
			sort.Slice(list, func(i, j int) bool {
				if list[i].Reported != list[j].Reported {
					return list[i].Reported > list[j].Reported
				}
				return list[i].Key < list[j].Key
			})
		}
		if d == ByTotal && len(list) == 0 {
			list = []CaseStat{{}}
		}
		out[d] = list
	}
	return out, nil
}

func intOf(p *int64) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

// AreaLoad is one region's open cases, for shading a map.
type AreaLoad struct {
	Open     int // open cases (not closed, rejected or merged)
	Overdue  int // of them, with a running clock past due now
	Critical int // of them, of critical severity
}

// OpenLoad counts the open cases in scope grouped by the region code of one
// level (ByDistrict, ByStreet, ByCommunity or ByGrid); cases with no code at
// that level are left out.
func (db *DB) OpenLoad(ctx context.Context, scope Scope, dim StatsDim, now time.Time) (map[string]AreaLoad, error) {
	col, ok := dimColumn[dim]
	if !ok || dim == ByBoard || dim == ByCategory {
		return nil, fmt.Errorf("open load: not a region level: %q", dim)
	}
	open := true
	w := db.caseWhere(CaseFilter{Scope: scope, Open: &open})
	w.add(col+` <> ?`, "")
	w.args = append(w.args, ms(now))
	q := `SELECT ` + col + `, COUNT(*), SUM(CASE WHEN due_at < $` + strconv.Itoa(len(w.args)) + ` THEN 1 ELSE 0 END),
		SUM(CASE WHEN severity = 'critical' THEN 1 ELSE 0 END)` + w.table() + w.sql() + ` GROUP BY ` + col
	rows, err := db.read.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("open load by %s: %w", dim, translate(err))
	}
	defer rows.Close()
	out := map[string]AreaLoad{}
	for rows.Next() {
		var code string
		var l AreaLoad
		var overdue, critical *int64
		if err := rows.Scan(&code, &l.Open, &overdue, &critical); err != nil {
			return nil, fmt.Errorf("open load: %w", err)
		}
		l.Overdue, l.Critical = intOf(overdue), intOf(critical)
		out[code] = l
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("open load: %w", err)
	}
	return out, nil
}
