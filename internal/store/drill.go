package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"zhizhi/internal/evaluation"
)

// FactFilter selects the cases whose facts, as last applied to the rollups,
// count a measure for one subject on the days FromDay to ToDay (yyyymmdd,
// both included): the cases behind one figure. A case counting the measure
// more than once (a unit summoned by two whistles of the same case) is
// listed once.
type FactFilter struct {
	Kind    evaluation.SubjectKind
	Subject string
	Measure evaluation.Measure
	FromDay int
	ToDay   int
}

// matches reports whether facts count the filter's measure.
func (ff *FactFilter) matches(facts []evaluation.Fact) bool {
	for _, f := range facts {
		if f.Kind == ff.Kind && f.Subject == ff.Subject && f.Day >= ff.FromDay && f.Day <= ff.ToDay && f.Counts[ff.Measure] > 0 {
			return true
		}
	}
	return false
}

// factWindow is how many candidate cases a fact filter reads at a time.
const factWindow = 2000

// factCases walks the cases matching the rest of the filter, newest first, a
// window at a time, and keeps the IDs of those whose facts match, until it
// has limit of them (limit ≤ 0: all). The rest of the filter (scope, region,
// unit, report times) narrows the candidates; the facts decide.
func (db *DB) factCases(ctx context.Context, f CaseFilter, limit int) ([]string, error) {
	ff := f.Fact
	f.Fact = nil
	if err := db.textPlan(ctx, &f); err != nil {
		return nil, err
	}
	var out []string
	for {
		w := db.caseWhere(f)
		w.args = append(w.args, factWindow)
		q := `SELECT c.id, cf.doc FROM (SELECT id` + w.table() + w.sql() + ` ORDER BY id DESC LIMIT $` +
			strconv.Itoa(len(w.args)) + `) c LEFT JOIN case_facts cf ON cf.case_id = c.id ORDER BY c.id DESC`
		rows, err := db.read.QueryContext(ctx, q, w.args...)
		if err != nil {
			return nil, fmt.Errorf("list cases behind a figure: %w", translate(err))
		}
		n, last := 0, ""
		for rows.Next() {
			var id string
			var doc sql.NullString
			if err := rows.Scan(&id, &doc); err != nil {
				rows.Close()
				return nil, fmt.Errorf("list cases behind a figure: %w", translate(err))
			}
			n, last = n+1, id
			if !doc.Valid || (limit > 0 && len(out) >= limit) {
				continue
			}
			facts, err := decodeFacts([]byte(doc.String))
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("decode facts of case %s: %w", id, err)
			}
			if ff.matches(facts) {
				out = append(out, id)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("list cases behind a figure: %w", translate(err))
		}
		if n < factWindow || (limit > 0 && len(out) >= limit) {
			if limit > 0 && len(out) > limit {
				out = out[:limit]
			}
			return out, nil
		}
		f.After = last
	}
}
