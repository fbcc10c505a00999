package store

import "zhizhi/internal/evaluation"

// RollupAgg sums facts into rollup rows in memory, for a bulk load that
// writes cases without the service (internal/scale): each fact counts in
// its day row and its month row, as ApplyFacts counts it.
type RollupAgg struct {
	rows map[rollupKey][]int32
}

// NewRollupAgg returns an empty aggregate.
func NewRollupAgg() *RollupAgg { return &RollupAgg{rows: map[rollupKey][]int32{}} }

// Add counts one case's facts.
func (a *RollupAgg) Add(facts []evaluation.Fact) {
	for _, f := range facts {
		for _, k := range []rollupKey{{f.Kind, f.Subject, f.Day}, {f.Kind, f.Subject, monthKey(f.Day)}} {
			row := a.rows[k]
			if row == nil {
				row = make([]int32, len(evaluation.RollupMeasures))
				a.rows[k] = row
			}
			for i, m := range evaluation.RollupMeasures {
				row[i] += int32(f.Counts[m])
			}
		}
	}
}

// Merge adds another aggregate's rows into this one.
func (a *RollupAgg) Merge(b *RollupAgg) {
	for k, r := range b.rows {
		row := a.rows[k]
		if row == nil {
			a.rows[k] = r
			continue
		}
		for i, v := range r {
			row[i] += v
		}
	}
}

// Len is the number of rows.
func (a *RollupAgg) Len() int { return len(a.rows) }

// RollupCols are the rollups table's columns as Rows writes them.
func RollupCols() []string {
	return append([]string{"kind", "subject", "day", "grain"}, rollupCols...)
}

// Rows hands every row to emit in batches of n, in key order, for
// Bulk.Write, and empties the aggregate as it goes.
func (a *RollupAgg) Rows(n int, emit func(Rows) error) error {
	return a.Flush(99999999, n, emit)
}

// Flush hands to emit, and forgets, the rows complete before a day: the day
// rows of earlier days and the month rows of earlier months. A load that
// adds cases in the order of their report days flushes before the day of
// the next case: every fact of a case is on its report day or later, so no
// later case can add to those rows.
func (a *RollupAgg) Flush(beforeDay, n int, emit func(Rows) error) error {
	keys := make([]rollupKey, 0, len(a.rows))
	for k := range a.rows {
		if (grainOf(k.day) == "d" && k.day < beforeDay) || (grainOf(k.day) == "m" && k.day < monthKey(beforeDay)) {
			keys = append(keys, k)
		}
	}
	sortRollupKeys(keys)
	cols := RollupCols()
	batch := make([][]any, 0, n)
	for _, k := range keys {
		r := a.rows[k]
		row := make([]any, 0, len(cols))
		row = append(row, string(k.kind), k.subject, int32(k.day), grainOf(k.day))
		for _, v := range r {
			row = append(row, v)
		}
		batch = append(batch, row)
		delete(a.rows, k)
		if len(batch) == n {
			if err := emit(Rows{Table: "rollups", Cols: cols, Rows: batch}); err != nil {
				return err
			}
			batch = make([][]any, 0, n)
		}
	}
	if len(batch) > 0 {
		return emit(Rows{Table: "rollups", Cols: cols, Rows: batch})
	}
	return nil
}

// FactsDoc is a case's case_facts document, as ApplyFacts stores it.
func FactsDoc(facts []evaluation.Fact) (string, error) {
	b, err := encodeFacts(facts)
	return string(b), err
}
