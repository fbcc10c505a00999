package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"zhizhi/internal/cases"
)

// A group commit holds back the rows a case write adds (the case row, its
// steps, clocks, units and people) and writes them together: on PostgreSQL
// one INSERT … SELECT FROM unnest(arrays) per table for the whole batch
// instead of a round trip per row, which is what bounded intake. On SQLite
// (in process, no round trips) the held rows are written one by one with the
// prepared single-row statements. Every other statement of the transaction
// first writes what is held, so statements run in the order the jobs issued
// them; reads of a held case are answered from the held rows.
//
// A failure while writing held rows cannot be pinned on one job, so the
// writer rolls the batch back and runs it again without holding (each row
// written at once), which finds the job at fault as before.

// colType is a column's type in the unnest arrays.
type colType int

const (
	colText colType = iota
	colInt
	colFloat
)

// rowKind is one table the writer holds rows for: its columns, from which
// both the single-row statement and the many-row statement are made.
type rowKind struct {
	table    string
	cols     []string
	types    []colType
	conflict string // ON CONFLICT … clause, or empty
	one      string // the single-row INSERT ($1 … $n)
	many     string // the many-row INSERT (one array per column)
}

func (k *rowKind) oneSQL() string {
	ph := make([]string, len(k.cols))
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	return `INSERT INTO ` + k.table + ` (` + strings.Join(k.cols, ", ") + `) VALUES (` + strings.Join(ph, ",") + `)` + k.conflict
}

func (k *rowKind) manySQL() string {
	arrays := make([]string, len(k.cols))
	for i, t := range k.types {
		arrays[i] = "$" + strconv.Itoa(i+1) + [...]string{"::text[]", "::int8[]", "::float8[]"}[t]
	}
	return `INSERT INTO ` + k.table + ` (` + strings.Join(k.cols, ", ") + `) SELECT * FROM unnest(` + strings.Join(arrays, ", ") + `)` + k.conflict
}

func kind(table, cols string, types []colType, conflict string) *rowKind {
	k := &rowKind{table: table, cols: strings.Split(cols, ", "), types: types, conflict: conflict}
	if len(k.cols) != len(k.types) {
		panic("rowKind " + table + ": columns and types differ")
	}
	k.one, k.many = k.oneSQL(), k.manySQL()
	return k
}

// Short names for the column lists below.
const (
	ct, ci, cf = colText, colInt, colFloat
)

// The held tables, in the order a flush writes them (cases before the rows
// that refer to them).
var (
	caseRows = kind("cases", "district_code, street_code, community_code, id, number, version, state, source, category, board, severity, "+
		"grid_code, region_path, center_path, lng, lat, reporter_account, reported_at, updated_at, closed_at, due_at, was_overdue, body, client_ref, doc, item, body_long",
		[]colType{ct, ct, ct, ct, ct, ci, ct, ct, ct, ct, ct, ct, ct, ct, cf, cf, ct, ci, ci, ci, ci, ci, ct, ct, ct, ct, ct}, "")
	unitRows = kind("case_units", "case_id, unit_id, role, state", []colType{ct, ct, ct, ct},
		` ON CONFLICT (case_id, unit_id) DO UPDATE SET role = excluded.role, state = excluded.state`)
	personRows = kind("case_people", "case_id, account_id", []colType{ct, ct}, ` ON CONFLICT (case_id, account_id) DO NOTHING`)
	// A clock whose due time moved (extension, resume) is re-armed; one whose
	// times are unchanged keeps its fired flags. next_at (given as the yellow
	// time for a new clock) is recomputed from the new flags: the first of
	// yellow, red, escalate not yet fired.
	clockRows = kind("clocks", "case_id, key, due_at, yellow_at, escalate_at, escalated, next_at", []colType{ct, ct, ci, ci, ci, ci, ci},
		` ON CONFLICT (case_id, key) DO UPDATE SET
				yellow_fired = `+keepYellow+`, red_fired = `+keepRed+`, escalated = `+keepEsc+`,
				next_at = CASE WHEN `+keepYellow+` = 0 THEN excluded.yellow_at WHEN `+keepRed+` = 0 THEN excluded.due_at
					WHEN `+keepEsc+` = 0 THEN excluded.escalate_at END,
				due_at = excluded.due_at, yellow_at = excluded.yellow_at, escalate_at = excluded.escalate_at`)
	stepRows = kind("steps", "id, case_id, seq, at, action, doc", []colType{ct, ct, ci, ci, ct, ct}, "")

	// notifyRows are the notification outbox (notifications.go).
	notifyRows = kind("notify_events", "id, case_id, at, doc", []colType{ct, ct, ci, ct}, "")

	heldKinds = []*rowKind{caseRows, unitRows, personRows, clockRows, stepRows, hookEventRows, outboxRows, notifyRows}
)

// heldSQL are the statements that write the held rows on SQLite, one row
// each: every kind's, prepared on the writer at open (prepareHot).
func heldSQL() []string {
	out := make([]string, len(heldKinds))
	for i, k := range heldKinds {
		out[i] = k.one
	}
	return out
}

// jsonSQL is SQLite's many-row INSERT: the rows as one JSON array of
// arrays, read with jsonb_each (one statement text for any number of rows;
// each row reaches ->> as parsed JSONB, not as text parsed again per column).
func (k *rowKind) jsonSQL() string {
	sel := make([]string, len(k.cols))
	for i := range sel {
		sel[i] = "j.value->>" + strconv.Itoa(i)
	}
	return `INSERT INTO ` + k.table + ` (` + strings.Join(k.cols, ", ") + `) SELECT ` + strings.Join(sel, ", ") +
		` FROM jsonb_each($1) AS j WHERE true` + k.conflict
}

// insertMany inserts rows of k in one statement: on PostgreSQL the
// unnest statement (k.many), on SQLite lite (k.jsonSQL(), prepared once).
// Values are strings and integers (int, int64).
func (t *Tx) insertMany(ctx context.Context, k *rowKind, lite string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if t.dialect == Postgres {
		arrays, err := columnArrays(k, rows)
		if err != nil {
			return err
		}
		_, err = t.Exec(ctx, k.many, arrays...)
		return err
	}
	var j jsonRows
	for _, r := range rows {
		j.row()
		for i, v := range r {
			switch v := v.(type) {
			case string:
				j.str(v, i == 0)
			case int:
				j.intAt(int64(v), i == 0)
			case int64:
				j.intAt(v, i == 0)
			default:
				return fmt.Errorf("%s.%s: %T is neither text nor an integer", k.table, k.cols[i], v)
			}
		}
		j.end()
	}
	_, err := t.Exec(ctx, lite, j.String())
	return err
}

const (
	keepYellow = `(CASE WHEN clocks.yellow_at = excluded.yellow_at THEN clocks.yellow_fired ELSE 0 END)`
	keepRed    = `(CASE WHEN clocks.due_at = excluded.due_at THEN clocks.red_fired ELSE 0 END)`
	keepEsc    = `(CASE WHEN clocks.escalate_at = excluded.escalate_at THEN clocks.escalated ELSE excluded.escalated END)`
)

// writeSet is what one attempt at a batch holds, shared by its jobs' Tx.
type writeSet struct {
	hold     bool // false: rows are written at once (the batch's retry after a failed flush)
	rows     map[*rowKind][][]any
	docs     map[string]string // case ID → document of a held case
	refs     map[string]string // reporter + "\x00" + client_ref → ID of a held case
	counters map[string]*counter
	failed   error // writing held rows failed: the attempt must roll back
}

// counter is a named counter read once in the batch and then counted in
// memory; its final value is stored before the commit.
type counter struct{ value, stored int64 }

func newWriteSet(hold bool) *writeSet {
	return &writeSet{hold: hold, rows: map[*rowKind][][]any{}, docs: map[string]string{}, refs: map[string]string{}, counters: map[string]*counter{}}
}

func (w *writeSet) held() bool {
	for _, r := range w.rows {
		if len(r) > 0 {
			return true
		}
	}
	return false
}

// put writes one row of k, or holds it for the batch's next flush.
func (t *Tx) put(ctx context.Context, k *rowKind, args ...any) error {
	if t.w.hold {
		t.w.rows[k] = append(t.w.rows[k], args)
		t.wrote = true
		return nil
	}
	_, err := t.Exec(ctx, k.one, args...)
	return err
}

// holdCase records a held case's document, so reads in the same batch find it.
func (t *Tx) holdCase(c *cases.Case, doc []byte) {
	if !t.w.hold {
		return
	}
	t.w.docs[c.ID] = string(doc)
	if c.ClientRef != "" {
		t.w.refs[c.Reporter.AccountID+"\x00"+c.ClientRef] = c.ID
	}
}

// heldCase returns a case held in this batch, if it is one.
func (t *Tx) heldCase(id string) (cases.Case, bool, error) {
	doc, ok := t.w.docs[id]
	if !ok {
		return cases.Case{}, false, nil
	}
	var c cases.Case
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return cases.Case{}, true, fmt.Errorf("decode case: %w", err)
	}
	return c, true, nil
}

// flush writes the held rows. A failure is recorded for the writer, which
// runs the batch again without holding.
func (t *Tx) flush(ctx context.Context) error {
	w := t.w
	if w == nil || !w.held() {
		return nil
	}
	for _, k := range heldKinds {
		rows := w.rows[k]
		if len(rows) == 0 {
			continue
		}
		if err := t.writeRows(ctx, k, rows); err != nil {
			w.failed = fmt.Errorf("write %s: %w", k.table, translate(err))
			t.sqlErr = true
			return w.failed
		}
		w.rows[k] = rows[:0]
	}
	clear(w.docs)
	clear(w.refs)
	return nil
}

func (t *Tx) writeRows(ctx context.Context, k *rowKind, rows [][]any) error {
	if t.dialect == SQLite {
		q := k.one
		st := t.stmt(ctx, q)
		for _, args := range rows {
			var err error
			if st != nil {
				_, err = st.ExecContext(ctx, args...)
			} else {
				_, err = t.tx.ExecContext(ctx, q, args...)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	arrays, err := columnArrays(k, rows)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, k.many, arrays...)
	return err
}

// columnArrays turns rows into one array per column for unnest; nil values
// become NULL elements.
func columnArrays(k *rowKind, rows [][]any) ([]any, error) {
	out := make([]any, len(k.cols))
	for j, typ := range k.types {
		switch typ {
		case colText:
			a := make([]*string, len(rows))
			for i, r := range rows {
				switch v := r[j].(type) {
				case nil:
				case string:
					a[i] = &v
				default:
					return nil, fmt.Errorf("%s.%s: %T is not text", k.table, k.cols[j], v)
				}
			}
			out[j] = a
		case colInt:
			a := make([]*int64, len(rows))
			for i, r := range rows {
				var n int64
				switch v := r[j].(type) {
				case nil:
					continue
				case int:
					n = int64(v)
				case int64:
					n = v
				default:
					return nil, fmt.Errorf("%s.%s: %T is not an integer", k.table, k.cols[j], v)
				}
				a[i] = &n
			}
			out[j] = a
		case colFloat:
			a := make([]*float64, len(rows))
			for i, r := range rows {
				switch v := r[j].(type) {
				case nil:
				case float64:
					a[i] = &v
				default:
					return nil, fmt.Errorf("%s.%s: %T is not a float", k.table, k.cols[j], v)
				}
			}
			out[j] = a
		}
	}
	return out, nil
}

// reserve takes, for the counters the batch's jobs named, one number per
// job in one statement (one per counter on SQLite, in process), locking the
// counter rows in name order, so two nodes' batches never wait on each other
// in a cycle. The jobs' NextNumber then counts in memory from the reserved
// range; storeCounters gives back what was not used.
func reserve(ctx context.Context, tx *sql.Tx, dialect Dialect, w *writeSet, batch []job, excluded []bool) error {
	want := map[string]int64{}
	for i, j := range batch {
		if excluded[i] {
			continue
		}
		for _, name := range j.counters {
			want[name]++
		}
	}
	if len(want) == 0 {
		return nil
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	took := func(name string, value int64) {
		w.counters[name] = &counter{value: value - want[name], stored: value}
	}
	if dialect == SQLite {
		for _, name := range names {
			var v int64
			if err := tx.QueryRowContext(ctx, sqlReserve, name, want[name]).Scan(&v); err != nil {
				return fmt.Errorf("reserve %s: %w", name, translate(err))
			}
			took(name, v)
		}
		return nil
	}
	counts := make([]int64, len(names))
	for i, name := range names {
		counts[i] = want[name]
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO counters (name, value)
		SELECT * FROM unnest($1::text[], $2::int8[]) AS u(name, n) ORDER BY name
		ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING name, value`, names, counts)
	if err != nil {
		return fmt.Errorf("reserve numbers: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return fmt.Errorf("reserve numbers: %w", err)
		}
		took(name, v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reserve numbers: %w", translate(err))
	}
	return nil
}

const sqlReserve = `INSERT INTO counters (name, value) VALUES ($1, $2)
	ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value`

const sqlStoreCounter = `UPDATE counters SET value = $1 WHERE name = $2`

// storeCounters writes back the counters counted in memory.
func (t *Tx) storeCounters(ctx context.Context) error {
	for name, c := range t.w.counters {
		if c.value == c.stored {
			continue
		}
		if _, err := t.Exec(ctx, sqlStoreCounter, c.value, name); err != nil {
			return fmt.Errorf("store counter %s: %w", name, err)
		}
		c.stored = c.value
	}
	return nil
}
