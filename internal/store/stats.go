package store

import (
	"context"
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

// CaseStatsBy counts the cases matching q.Filter grouped by each of dims,
// reading them once: one statement groups by every dimension's key together
// and the groups are summed here into each dimension's (a dashboard's five
// tables cost one pass over the period's cases instead of five). Each
// dimension's groups come as CaseStats gives them: largest first, or by day;
// ByTotal is one row, zeros when nothing matches. q.Dim and q.Top are
// ignored.
func (db *DB) CaseStatsBy(ctx context.Context, q StatsQuery, dims ...StatsDim) (map[StatsDim][]CaseStat, error) {
	f := q.Filter
	f.After, f.Limit = "", 0
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	if err := db.textPlan(ctx, &f); err != nil {
		return nil, err
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
			return nil, fmt.Errorf("case stats: unknown dimension %q", d)
		}
		cols[d] = len(keys) - 1
	}
	w.args = append(w.args, ms(f.Now))
	now := "$" + strconv.Itoa(len(w.args))
	sel := ""
	for i, k := range keys {
		sel += k + ` AS k` + strconv.Itoa(i) + `, `
	}
	sql := `SELECT ` + sel + `COUNT(*),
		SUM(CASE WHEN state = 'closed' THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'closed' AND was_overdue = 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN closed_at IS NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN closed_at IS NULL AND due_at < ` + now + ` THEN 1 ELSE 0 END)` + w.table() + w.sql()
	if len(keys) > 0 {
		sql += ` GROUP BY ` + strings.Join(keys, ", ")
	}
	rows, err := db.read.QueryContext(ctx, sql, w.args...)
	if err != nil {
		return nil, fmt.Errorf("case stats: %w", translate(err))
	}
	defer rows.Close()
	groups := map[StatsDim]map[string]*CaseStat{}
	for _, d := range dims {
		groups[d] = map[string]*CaseStat{}
	}
	k := make([]*string, len(keys))
	var n int
	var closed, onTime, open, overdue *int64
	dest := make([]any, 0, len(keys)+5)
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
