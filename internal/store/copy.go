package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// copyTables are the tables of an installation, parents before children.
// schema_migrations is not copied: Open brings both ends to the same version.
var copyTables = []string{
	"regions", "units", "categories", "accounts", "tokens", "counters", "settings", "api_keys",
	"cases", "case_units", "case_people", "steps", "clocks", "overdue_gauge", "audit",
	"rollups", "case_facts", "appeals", "signin_locks", "client_updates", "saved_filters",
	"leader_pairings", "leader_secretaries", "leader_visits", "visit_cases", "leader_lists", "list_items", "projects", "supervisions",
	"training_courses", "training_sessions", "training_attendance", "cadre_postings",
	"enterprises", "enterprise_members", "enterprise_services", "enterprise_requests", "enterprise_classes", "class_attendance",
	"grid_patrols", "grid_visits", "grid_places", "grid_people", "grid_teams", "grid_plans", "grid_messages",
	"party_members", "volunteer_groups", "service_hours", "volunteer_cases",
	"device_kinds", "devices", "sensor_rules", "sensor_rule_versions", "readings", "reading_aggs", "reading_rejects", "sensor_incidents",
	"webhook_subs", "webhook_events", "webhook_outbox", "webhook_log", "hotline_orders",
	"operations", "operation_areas", "operation_tasks", "operation_events",
	"notify_events", "notifications", "notify_prefs", "push_subs", "notify_deliveries",
}

// engineColumns are columns only one engine has, never copied or summed:
// PostgreSQL's steps.xid orders the updates feed there (migration 11) and
// is the writing transaction's, so a copy gets its own.
var engineColumns = map[string]bool{"steps.xid": true, "webhook_events.xid": true, "webhook_subs.cursor_xid": true}

// selectAll is SELECT of a table's columns that both engines share. A
// case's text is read whole as body, wherever the engine keeps it
// (migration 39: PostgreSQL keeps a long one in body_long), so a copy
// writes it as its target keeps it (copyTable) and a checksum is the same
// on both engines.
func selectAll(ctx context.Context, q querier, table string) (string, error) {
	rows, err := q.QueryContext(ctx, `SELECT * FROM `+table+` WHERE 1 = 0`)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", table, translate(err))
	}
	cols, err := rows.Columns()
	rows.Close()
	if err != nil {
		return "", fmt.Errorf("read %s: %w", table, err)
	}
	keep := cols[:0]
	for _, c := range cols {
		switch {
		case engineColumns[table+"."+c], table == "cases" && c == "body_long":
		case table == "cases" && c == "body":
			keep = append(keep, "COALESCE(body, body_long) AS body")
		default:
			keep = append(keep, c)
		}
	}
	return `SELECT ` + strings.Join(keep, ", ") + ` FROM ` + table, nil
}

// TableSum is a table's row count and an order-independent checksum of its
// rows, the same on both engines for the same data.
type TableSum struct {
	Table string
	Rows  int64
	Sum   string
}

// CopyResult compares the source and the target after a copy.
type CopyResult struct {
	Source, Target []TableSum
	// Search holds, for a few words taken from the cases, how many cases
	// the full-text search finds at each end.
	Search []SearchCount
}

// SearchCount is one word's full-text hits at the source and the target.
type SearchCount struct {
	Word           string
	Source, Target int
}

// OK reports whether every table and every search matched.
func (r CopyResult) OK() bool {
	if len(r.Source) != len(r.Target) {
		return false
	}
	for i := range r.Source {
		if r.Source[i] != r.Target[i] {
			return false
		}
	}
	for _, s := range r.Search {
		if s.Source != s.Target {
			return false
		}
	}
	return true
}

// Copy moves a whole installation from one database to another, empty one
// (typically SQLite to PostgreSQL), table by table in one transaction on the
// target, rebuilds the target's full-text index, and compares row counts,
// checksums and full-text search results at both ends. The source is read
// inside one snapshot (snapshot), so a copy of a database that a server is
// writing to is the database as it was at one instant, and the source's
// counts and checksums are those of that instant. progress, if not nil, is
// told each table as it is copied.
func Copy(ctx context.Context, from, to *DB, progress func(table string, rows int64)) (CopyResult, error) {
	var res CopyResult
	if err := to.checkEmpty(ctx); err != nil {
		return res, err
	}
	snap, err := from.snapshot(ctx)
	if err != nil {
		return res, err
	}
	defer snap.Rollback()
	tx, err := to.write.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("begin copy: %w", translate(err))
	}
	defer tx.Rollback()
	for _, table := range copyTables {
		n, err := copyTable(ctx, snap, tx, to.Dialect, table)
		if err != nil {
			return res, err
		}
		if progress != nil {
			progress(table, n)
		}
	}
	if to.Dialect == SQLite {
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_fts(case_fts) VALUES('rebuild')`); err != nil {
			return res, fmt.Errorf("rebuild full-text index: %w", translate(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("commit copy: %w", translate(err))
	}
	if res.Source, err = checksums(ctx, snap); err != nil {
		return res, err
	}
	if res.Target, err = to.Checksums(ctx); err != nil {
		return res, err
	}
	words, err := sampleWords(ctx, snap)
	if err != nil {
		return res, err
	}
	// The source's matches are counted in the snapshot by testing every
	// row, the target's through its search (the full-text index for a rare
	// word), so the target's index is checked against the copied text.
	scan := `SELECT count(*) FROM cases WHERE instr(lower(body), lower($1)) > 0`
	if from.Dialect == Postgres {
		scan = `SELECT count(*) FROM cases WHERE strpos(lower(COALESCE(body, body_long)), lower($1)) > 0`
	}
	for _, w := range words {
		sc := SearchCount{Word: w}
		if err := snap.QueryRowContext(ctx, scan, w).Scan(&sc.Source); err != nil {
			return res, fmt.Errorf("search source: %w", translate(err))
		}
		if sc.Target, err = to.CountCases(ctx, CaseFilter{Scope: Scope{All: true}, Text: w}); err != nil {
			return res, err
		}
		res.Search = append(res.Search, sc)
	}
	return res, nil
}

// checkEmpty refuses a database that holds any row of an installation's
// tables.
func (db *DB) checkEmpty(ctx context.Context) error {
	for _, t := range copyTables {
		var n int64
		if err := db.write.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+t+` LIMIT 1) x`).Scan(&n); err != nil {
			return fmt.Errorf("check target: %w", translate(err))
		}
		if n > 0 {
			return fmt.Errorf("target database is not empty: %s has rows", t)
		}
	}
	return nil
}

// querier is what reading a table needs: a connection pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// snapshot begins a read-only transaction in which every read sees the
// database as it was at one instant, whatever commits meanwhile:
// REPEATABLE READ on PostgreSQL (a snapshot taken at the first statement),
// a read transaction on SQLite (WAL: the snapshot of its first read, held
// until it ends). The first read is made here.
func (db *DB) snapshot(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin snapshot: %w", translate(err))
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("begin snapshot: %w", translate(err))
	}
	return tx, nil
}

// copyTable streams one table's rows into the target (on engine to) in
// multi-row INSERTs.
func copyTable(ctx context.Context, from querier, tx *sql.Tx, to Dialect, table string) (int64, error) {
	sel, err := selectAll(ctx, from, table)
	if err != nil {
		return 0, err
	}
	rows, err := from.QueryContext(ctx, sel)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", table, translate(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", table, err)
	}
	// A case's text (read whole as body, selectAll) is written as the
	// target keeps it: a long one in body_long on PostgreSQL (bodyCols).
	text, read := -1, len(cols)
	if table == "cases" {
		text = slices.Index(cols, "body")
		cols = append(cols[:len(cols):len(cols)], "body_long")
	}
	// At most about 10,000 parameters a statement (PostgreSQL allows 65,535).
	per := max(1, 10000/len(cols))
	head := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES `
	var (
		args []any
		n    int64
		q    strings.Builder
	)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		q.Reset()
		q.WriteString(head)
		for r := 0; r < len(args)/len(cols); r++ {
			if r > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('(')
			for c := range cols {
				if c > 0 {
					q.WriteByte(',')
				}
				q.WriteString("$" + strconv.Itoa(r*len(cols)+c+1))
			}
			q.WriteByte(')')
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("write %s: %w", table, translate(err))
		}
		args = args[:0]
		return nil
	}
	for rows.Next() {
		vals, err := scanValues(rows, read)
		if err != nil {
			return n, fmt.Errorf("read %s: %w", table, err)
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b) // every column holds text or numbers
			}
			args = append(args, v)
		}
		if text >= 0 {
			i := len(args) - read + text
			s, _ := args[i].(string)
			body, long := bodyCols(to, s)
			args[i] = body
			args = append(args, long)
		}
		n++
		if n%int64(per) == 0 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read %s: %w", table, err)
	}
	return n, flush()
}

// Checksums returns every table's row count and checksum. The checksum adds
// up a SHA-256 of each row's values (in a canonical text form, so both
// engines agree), so row order does not matter.
func (db *DB) Checksums(ctx context.Context) ([]TableSum, error) {
	snap, err := db.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Rollback()
	return checksums(ctx, snap)
}

// checksums computes every table's count and checksum through q (a
// snapshot, so that the tables agree with one another).
func checksums(ctx context.Context, q querier) ([]TableSum, error) {
	var out []TableSum
	for _, table := range copyTables {
		sel, err := selectAll(ctx, q, table)
		if err != nil {
			return nil, err
		}
		rows, err := q.QueryContext(ctx, sel)
		if err != nil {
			return nil, fmt.Errorf("checksum %s: %w", table, translate(err))
		}
		cols, _ := rows.Columns()
		names := append([]string(nil), cols...)
		// Columns may come in a different order on each engine (ALTER TABLE
		// ADD COLUMN); hash them by name.
		order := make([]int, len(names))
		for i := range order {
			order[i] = i
		}
		sortByName(order, names)
		var sum [4]uint64
		var n int64
		for rows.Next() {
			vals, err := scanValues(rows, len(cols))
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("checksum %s: %w", table, err)
			}
			h := sha256.New()
			for _, i := range order {
				h.Write([]byte(names[i]))
				h.Write([]byte{0})
				h.Write([]byte(canonical(vals[i])))
				h.Write([]byte{0x1f})
			}
			d := h.Sum(nil)
			for k := range sum {
				sum[k] += binary.BigEndian.Uint64(d[8*k:])
			}
			n++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("checksum %s: %w", table, err)
		}
		out = append(out, TableSum{Table: table, Rows: n, Sum: fmt.Sprintf("%016x%016x%016x%016x", sum[0], sum[1], sum[2], sum[3])})
	}
	return out, nil
}

func sortByName(order []int, names []string) {
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && names[order[j]] < names[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

// canonical is a value's text form, the same whichever driver read it.
func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return "\x00NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case []byte:
		return string(x)
	case string:
		return x
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(v)
}

// sampleWords picks a few words from case descriptions for comparing
// full-text search after a copy: two, three and four characters long.
func sampleWords(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT COALESCE(body, body_long) FROM cases ORDER BY id LIMIT 5`)
	if err != nil {
		return nil, fmt.Errorf("sample words: %w", translate(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("sample words: %w", err)
		}
		// The body starts with the case number; take words from the text.
		f := strings.Fields(body)
		if len(f) < 2 {
			continue
		}
		r := []rune(f[1])
		for _, k := range []int{2, 3, 4} {
			if len(r) >= 4+k {
				out = append(out, string(r[4:4+k]))
			}
		}
	}
	return out, rows.Err()
}

// scanValues reads the current row's n columns as whatever the driver gives.
func scanValues(rows *sql.Rows, n int) ([]any, error) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, rows.Scan(ptrs...)
}
