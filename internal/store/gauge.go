package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/routing"
)

// The overdue gauge (migration 33, issue 11): how many red cases
// (cases.Case.Red: open, not held, a running clock due by the case's last
// change) each district holds, kept by the write path. The command board's
// overdue figure for a city or a district reads a district's row, or sums
// the districts' rows, instead of counting a city's 100,000 and more overdue
// open cases; a street's or a grid's is counted live (CountOverdue).
//
// A case write moves the gauge by the difference between the case before
// and after (Tx.moveGauge); the deltas of a batch's jobs that succeed are
// added at the end of the batch, one row per district in key order, so two
// nodes' batches take the rows' locks in the same order. The gauge is
// rebuilt from the cases by RebuildGauge (zhizhi rollup rebuild, and after a
// bulk load), with the same statement migration 33 filled it with.

// gaugeKey is the gauge's row of a region path: the path cut at the district
// ("/500000/500103/"), or the path itself above that (a case kept under the
// city).
func gaugeKey(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) < 2 {
		return path
	}
	return "/" + segs[0] + "/" + segs[1] + "/"
}

// gaugeScope reports whether the gauge answers a region's scope: a city's
// or a district's.
func gaugeScope(path string) bool {
	d := routing.Depth(path)
	return d == 1 || d == 2
}

// sqlGaugeRows counts the red cases by the gauge's key (gaugeKey in SQL:
// the region path up to its third slash, or the whole path when it has
// fewer). Red is cases.Case.Red in SQL: due_at is the earliest running
// clock's due, updated_at the last change.
func sqlGaugeRows(d Dialect) string {
	key := `COALESCE(substring(region_path from '^/[^/]*/[^/]*/'), region_path)`
	if d == SQLite {
		key = gaugeKeyLite
	}
	return `SELECT ` + key + `, COUNT(*) FROM cases
	WHERE closed_at IS NULL AND state <> 'held' AND due_at <= updated_at
	GROUP BY ` + key
}

// gaugeKeyLite is gaugeKey in SQLite's SQL, which has no regular
// expressions: i1 is the second slash's place in the path after its first
// character, i2 the third's after the second.
const gaugeKeyLite = `(CASE WHEN instr(substr(region_path, instr(substr(region_path, 2), '/') + 2), '/') > 0
	THEN substr(region_path, 1, instr(substr(region_path, 2), '/') + 1 + instr(substr(region_path, instr(substr(region_path, 2), '/') + 2), '/'))
	ELSE region_path END)`

const sqlGaugeAdd = `INSERT INTO overdue_gauge (region_path, n) VALUES ($1, $2)
	ON CONFLICT (region_path) DO UPDATE SET n = overdue_gauge.n + excluded.n`

// moveGauge records the gauge's change from old to c (old nil: a new case).
func (t *Tx) moveGauge(old, c *cases.Case) {
	was, is := old != nil && old.Red(), c.Red()
	if was == is && (!is || gaugeKey(old.RegionPath) == gaugeKey(c.RegionPath)) {
		return
	}
	if t.gauge == nil {
		t.gauge = map[string]int64{}
	}
	if was {
		t.gauge[gaugeKey(old.RegionPath)]--
	}
	if is {
		t.gauge[gaugeKey(c.RegionPath)]++
	}
}

// addGauge adds the deltas of a batch's jobs, in key order.
func addGauge(ctx context.Context, q *sql.Tx, deltas map[string]int64) error {
	keys := make([]string, 0, len(deltas))
	for k, d := range deltas {
		if d != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, err := q.ExecContext(ctx, sqlGaugeAdd, k, deltas[k]); err != nil {
			return fmt.Errorf("overdue gauge: %w", translate(err))
		}
	}
	return nil
}

// RebuildGauge counts the gauge again from the cases, in one write.
func (db *DB) RebuildGauge(ctx context.Context) error {
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM overdue_gauge`); err != nil {
			return fmt.Errorf("clear overdue gauge: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO overdue_gauge (region_path, n) `+sqlGaugeRows(db.Dialect)); err != nil {
			return fmt.Errorf("rebuild overdue gauge: %w", err)
		}
		return nil
	})
}

// Gauge returns the overdue gauge's rows with a count (tests, the rebuild
// check).
func (db *DB) Gauge(ctx context.Context) (map[string]int64, error) {
	return db.gaugeRows(ctx, `SELECT region_path, n FROM overdue_gauge WHERE n <> 0`)
}

// RecountGauge counts what the gauge should hold, from the cases.
func (db *DB) RecountGauge(ctx context.Context) (map[string]int64, error) {
	return db.gaugeRows(ctx, sqlGaugeRows(db.Dialect))
}

func (db *DB) gaugeRows(ctx context.Context, q string) (map[string]int64, error) {
	rows, err := db.read.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("overdue gauge: %w", translate(err))
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("overdue gauge: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}

// countGauge is the gauge's count for a city's or a district's path.
func (db *DB) countGauge(ctx context.Context, path string) (int, error) {
	lo, hi := prefixRange(path)
	var n int64
	if err := db.read.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM overdue_gauge WHERE region_path >= $1 AND region_path < $2`, lo, hi).Scan(&n); err != nil {
		return 0, fmt.Errorf("overdue gauge: %w", translate(err))
	}
	return int(n), nil
}

// CountRed counts the red cases in a region's scope, as the command board
// shows them (超期未结): from the overdue gauge for a city or a district, as
// of the sweeper's red warnings (a case turns red within a sweep of falling
// due); counted live for any other scope (CountOverdue: due before now).
func (db *DB) CountRed(ctx context.Context, s Scope, now time.Time) (int, error) {
	if s.All || s.AccountID != "" || s.UnitID != "" || s.AlsoUnit != "" || len(s.Units) > 0 || s.Person != "" || !gaugeScope(s.RegionPath) {
		return db.CountOverdue(ctx, s, now)
	}
	return db.countGauge(ctx, s.RegionPath)
}
