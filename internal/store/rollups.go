package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"zhizhi/internal/evaluation"
)

// rollupKey is one row of rollups: a day row (grain 'd', day = yyyymmdd)
// or a month row (grain 'm', day = yyyymm00).
type rollupKey struct {
	kind    evaluation.SubjectKind
	subject string
	day     int
}

// monthKey is the month row's day number of a day: yyyymm00.
func monthKey(day int) int { return day / 100 * 100 }

// grainOf is the grain of a row: 'm' for a month row, 'd' for a day row.
func grainOf(day int) string {
	if day%100 == 0 {
		return "m"
	}
	return "d"
}

// rollupCols are the measure columns of rollups, in table order.
var rollupCols = func() []string {
	out := make([]string, len(evaluation.RollupMeasures))
	for i, m := range evaluation.RollupMeasures {
		out[i] = string(m)
	}
	return out
}()

// factMeasures and factKinds are the codes of case_facts documents: a
// measure or a kind is stored as its index here. Append-only: never reorder
// or remove an entry, only add at the end (a new entry needs no migration).
var (
	factMeasures = []evaluation.Measure{
		evaluation.Reported, evaluation.Registered, evaluation.Rejected, evaluation.PublicVerified,
		evaluation.Closed, evaluation.ClosedOnTime, evaluation.DueClose, evaluation.OnSpot,
		evaluation.Rated, evaluation.Satisfied, evaluation.Dispatched, evaluation.SignedOnTime,
		evaluation.Handled, evaluation.HandledOnTime, evaluation.HandledLate, evaluation.DueHandle,
		evaluation.Reworked, evaluation.Accepted, evaluation.Summoned, evaluation.ReportInOnTime,
		evaluation.ReportInLate, evaluation.ReportInAbsent, evaluation.PartyRated, evaluation.PartySatisfied,
		evaluation.Void, evaluation.Exempted, evaluation.VerifyDue, evaluation.VerifiedOnTime,
		evaluation.RegisteredOnTime, evaluation.DispatchDue, evaluation.DispatchedOnTime, evaluation.Redispatched,
		evaluation.ClosedByCenter, evaluation.ClosedInTime, evaluation.AcceptedDay, evaluation.ClosedDay,
		evaluation.Supervised, evaluation.SupervisedOnTime,
	}
	factKinds = []evaluation.SubjectKind{
		evaluation.Grid, evaluation.Community, evaluation.Street, evaluation.District, evaluation.City,
		evaluation.Unit, evaluation.Inspector, evaluation.Intake, evaluation.ShiftLead, evaluation.Dispatcher,
	}
	measureCode = indexOf(factMeasures)
	kindCode    = indexOf(factKinds)
)

func indexOf[T comparable](list []T) map[T]int {
	m := make(map[T]int, len(list))
	for i, v := range list {
		m[v] = i
	}
	return m
}

// encodeFacts writes a case's facts compactly: a JSON array of groups, one
// per distinct set of counts (the region levels of a case share theirs),
// each [[measure, count, measure, count, …], [kind, subject, day], …] with
// measures and kinds as indices into factMeasures and factKinds. Counts are
// in measure-code order, so equal counts encode equally.
func encodeFacts(facts []evaluation.Fact) ([]byte, error) {
	type group struct {
		counts []int
		keys   [][]any
	}
	var groups []*group
	byCounts := map[string]*group{}
	for _, f := range facts {
		k, ok := kindCode[f.Kind]
		if !ok {
			return nil, fmt.Errorf("subject kind %q has no code", f.Kind)
		}
		var cs []int
		for code, m := range factMeasures {
			if v := f.Counts[m]; v != 0 {
				cs = append(cs, code, v)
			}
		}
		for m := range f.Counts {
			if _, ok := measureCode[m]; !ok {
				return nil, fmt.Errorf("measure %q has no code", m)
			}
		}
		sig := fmt.Sprint(cs)
		g := byCounts[sig]
		if g == nil {
			g = &group{counts: cs}
			if g.counts == nil {
				g.counts = []int{}
			}
			byCounts[sig] = g
			groups = append(groups, g)
		}
		g.keys = append(g.keys, []any{k, f.Subject, f.Day})
	}
	out := make([][]any, len(groups))
	for i, g := range groups {
		out[i] = append([]any{g.counts}, func() []any {
			ks := make([]any, len(g.keys))
			for j, k := range g.keys {
				ks[j] = k
			}
			return ks
		}()...)
	}
	if out == nil {
		out = [][]any{}
	}
	return json.Marshal(out)
}

// decodeFacts reads what encodeFacts wrote.
func decodeFacts(doc []byte) ([]evaluation.Fact, error) {
	var groups [][]json.RawMessage
	if err := json.Unmarshal(doc, &groups); err != nil {
		return nil, err
	}
	var out []evaluation.Fact
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		var cs []int
		if err := json.Unmarshal(g[0], &cs); err != nil || len(cs)%2 != 0 {
			return nil, fmt.Errorf("bad counts %s", g[0])
		}
		for _, raw := range g[1:] {
			var key [3]json.RawMessage
			var k, day int
			var subject string
			if err := json.Unmarshal(raw, &key); err != nil {
				return nil, err
			}
			if json.Unmarshal(key[0], &k) != nil || json.Unmarshal(key[1], &subject) != nil || json.Unmarshal(key[2], &day) != nil ||
				k < 0 || k >= len(factKinds) {
				return nil, fmt.Errorf("bad key %s", raw)
			}
			c := evaluation.Counts{}
			for i := 0; i < len(cs); i += 2 {
				if cs[i] < 0 || cs[i] >= len(factMeasures) {
					return nil, fmt.Errorf("bad measure code %d", cs[i])
				}
				c[factMeasures[cs[i]]] = cs[i+1]
			}
			out = append(out, evaluation.Fact{Kind: factKinds[k], Subject: subject, Day: day, Counts: c})
		}
	}
	return out, nil
}

// rollupChunk is how many rollup rows one upsert of ApplyFacts writes on
// SQLite; the statements for 1 to rollupChunk rows are prepared on the
// writer (rollupHotSQL).
const rollupChunk = 8

// rollupPGChunk is the most rows of one upsert of the rollups on
// PostgreSQL: 1,000 rows of 4 + len(rollupCols) values (42 a row), under
// the protocol's 65,535 parameters (TestApplyFactsTogether checks it).
const rollupPGChunk = 1000

// rollupUpsertSQL adds n rows of deltas to the rollups (each row: kind,
// subject, day, grain and the measures of rollupCols). On SQLite the
// parameters are anonymous (?): SQLite keeps $n as a name and looks each one
// up in a list of them when it parses and when it binds, quadratic over a
// statement's hundreds of values.
func rollupUpsertSQL(d Dialect, n int) string {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO rollups (kind, subject, day, grain, ` + strings.Join(rollupCols, ", ") + `) VALUES `)
	p := 0
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(")
		for j := range 4 + len(rollupCols) {
			if j > 0 {
				sb.WriteString(",")
			}
			if p++; d == SQLite {
				sb.WriteString("?")
			} else {
				sb.WriteString("$" + strconv.Itoa(p))
			}
		}
		sb.WriteString(")")
	}
	sb.WriteString(` ON CONFLICT (kind, subject, day, grain) DO UPDATE SET `)
	for i, c := range rollupCols {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s = rollups.%s + excluded.%s", c, c, c)
	}
	return sb.String()
}

// rollupHotSQL are ApplyFacts' SQLite upserts, prepared with hotSQL.
var rollupHotSQL = func() []string {
	out := make([]string, rollupChunk)
	for n := range rollupChunk {
		out[n] = rollupUpsertSQL(SQLite, n+1)
	}
	return out
}()

// CaseFacts are a case's facts as now, for ApplyFacts.
type CaseFacts struct {
	CaseID string
	Facts  []evaluation.Fact
}

// ApplyFacts brings the rollups in line with cases' new facts: it reads the
// facts last applied for each case (locking them on PostgreSQL), adds the
// differences of all the cases together per subject to the day rows and the
// month rows, and keeps the new facts. Summing first writes a row shared by
// several cases once (a street's day, a category's month) instead of once a
// case; the sums are the same in any order. Applying the same facts again
// changes nothing; a case named twice counts once, with its last facts.
func (t *Tx) ApplyFacts(ctx context.Context, all ...CaseFacts) error {
	q := `SELECT doc FROM case_facts WHERE case_id = $1`
	if t.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	last := make(map[string]int, len(all)) // case → its last entry in all
	for i, cf := range all {
		last[cf.CaseID] = i
	}
	delta := map[rollupKey]evaluation.Counts{}
	add := func(fs []evaluation.Fact, sign int) {
		for _, f := range fs {
			for _, k := range []rollupKey{{f.Kind, f.Subject, f.Day}, {f.Kind, f.Subject, monthKey(f.Day)}} {
				d := delta[k]
				if d == nil {
					d = evaluation.Counts{}
					delta[k] = d
				}
				for _, m := range evaluation.RollupMeasures {
					d[m] += sign * f.Counts[m]
				}
			}
		}
	}
	for i, cf := range all {
		if last[cf.CaseID] != i {
			continue
		}
		var doc string
		switch err := t.QueryRow(ctx, q, cf.CaseID).Scan(&doc); {
		case err == nil:
			old, derr := decodeFacts([]byte(doc))
			if derr != nil {
				return fmt.Errorf("decode facts of case %s: %w", cf.CaseID, derr)
			}
			add(old, -1)
		case errors.Is(err, ErrNotFound) || errors.Is(err, sql.ErrNoRows):
		default:
			return fmt.Errorf("read facts of case %s: %w", cf.CaseID, translate(err))
		}
		add(cf.Facts, +1)
	}
	keys := make([]rollupKey, 0, len(delta))
	for k, d := range delta {
		nonzero := false
		for _, v := range d {
			nonzero = nonzero || v != 0
		}
		if nonzero {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		// One row per key, in a fixed order (no two transactions lock the
		// same rows in different orders). PostgreSQL takes them in
		// statements of up to rollupPGChunk rows (its protocol carries at
		// most 65,535 parameters). SQLite takes them rollupChunk rows a
		// statement, each prepared once on the writer (prepareHot): one statement
		// of all a case's rows, of 42 values each, its text new to SQLite
		// each time, cost more to parse than to run (issue 19, intake with
		// the rollups rolling).
		sortRollupKeys(keys)
		per := min(len(keys), rollupPGChunk)
		if t.dialect == SQLite {
			per = rollupChunk
		}
		args := make([]any, 0, min(per, len(keys))*(4+len(rollupCols)))
		for len(keys) > 0 {
			n := min(per, len(keys))
			args = args[:0]
			for _, k := range keys[:n] {
				args = append(args, string(k.kind), k.subject, k.day, grainOf(k.day))
				for _, m := range evaluation.RollupMeasures {
					args = append(args, delta[k][m])
				}
			}
			q := rollupUpsertSQL(t.dialect, n)
			if t.dialect == SQLite {
				q = rollupHotSQL[n-1]
			}
			if _, err := t.Exec(ctx, q, args...); err != nil {
				return fmt.Errorf("update rollups: %w", err)
			}
			keys = keys[n:]
		}
	}
	for i, cf := range all {
		if last[cf.CaseID] != i {
			continue
		}
		b, err := encodeFacts(cf.Facts)
		if err != nil {
			return fmt.Errorf("encode facts of case %s: %w", cf.CaseID, err)
		}
		if _, err := t.Exec(ctx, `INSERT INTO case_facts (case_id, doc) VALUES ($1, $2) ON CONFLICT (case_id) DO UPDATE SET doc = excluded.doc`, cf.CaseID, string(b)); err != nil {
			return fmt.Errorf("store facts of case %s: %w", cf.CaseID, err)
		}
	}
	return nil
}

// ClearRollups empties rollups and case_facts, before a rebuild.
func (t *Tx) ClearRollups(ctx context.Context) error {
	for _, q := range []string{`DELETE FROM rollups`, `DELETE FROM case_facts`} {
		if _, err := t.Exec(ctx, q); err != nil {
			return fmt.Errorf("clear rollups: %w", err)
		}
	}
	return nil
}

// monthLastDay is the last day number of month yyyymm (31 for a number that
// is no month).
func monthLastDay(ym int) int {
	y, m := ym/100, ym%100
	if m < 1 || m > 12 {
		return ym*100 + 31
	}
	return ym*100 + time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func nextMonth(ym int) int {
	if ym%100 >= 12 {
		return (ym/100+1)*100 + 1
	}
	return ym + 1
}

func prevMonth(ym int) int {
	if ym%100 <= 1 {
		return (ym/100-1)*100 + 12
	}
	return ym - 1
}

// rollupSpans says which rows make up the days fromDay to toDay: the month
// rows of the whole months firstMonth..lastMonth (yyyymm; none when
// firstMonth > lastMonth) and the day rows of the spans left of and right
// of them (each [lo, hi], empty when lo > hi).
func rollupSpans(fromDay, toDay int) (firstMonth, lastMonth int, left, right [2]int) {
	firstMonth, lastMonth = fromDay/100, toDay/100
	if fromDay%100 > 1 {
		firstMonth = nextMonth(firstMonth)
	}
	if toDay < monthLastDay(lastMonth) {
		lastMonth = prevMonth(lastMonth)
	}
	if firstMonth > lastMonth {
		return firstMonth, lastMonth, [2]int{fromDay, toDay}, [2]int{1, 0}
	}
	return firstMonth, lastMonth, [2]int{fromDay, firstMonth*100 - 1}, [2]int{lastMonth*100 + 99, toDay}
}

// RollupCounts sums the rollups of one subject kind per subject, for the
// subjects starting with subjectPrefix ("" for all) and the days fromDay to
// toDay (yyyymmdd, both included), in one statement: the month rows of the
// whole months in the range and the day rows of the partial months at its
// edges.
func (db *DB) RollupCounts(ctx context.Context, kind evaluation.SubjectKind, subjectPrefix string, fromDay, toDay int) (map[string]evaluation.Counts, error) {
	return db.RollupMeasures(ctx, kind, evaluation.RollupMeasures, subjectPrefix, fromDay, toDay)
}

// RollupMeasures is RollupCounts reading only some measures (those a
// kind's indicators need: a city's 62,000 grids are read faster with a
// third of the columns).
func (db *DB) RollupMeasures(ctx context.Context, kind evaluation.SubjectKind, measures []evaluation.Measure, subjectPrefix string, fromDay, toDay int) (map[string]evaluation.Counts, error) {
	t, err := db.RollupTable(ctx, kind, measures, subjectPrefix, fromDay, toDay)
	if err != nil {
		return nil, err
	}
	out := make(map[string]evaluation.Counts, t.Len())
	for i, s := range t.Subjects {
		out[s] = t.Counts(i)
	}
	return out, nil
}

// RollupTable is RollupMeasures read densely: one row of counts per
// subject, in the order of measures (evaluation.Table; a city's 62,000
// grids are one slice of numbers, not 62,000 maps). Subjects come in no
// particular order.
func (db *DB) RollupTable(ctx context.Context, kind evaluation.SubjectKind, measures []evaluation.Measure, subjectPrefix string, fromDay, toDay int) (*evaluation.Table, error) {
	rollupCols := make([]string, len(measures))
	for i, m := range measures {
		if !slices.Contains(evaluation.RollupMeasures, m) {
			return nil, fmt.Errorf("read rollups: %q is not a rollup measure", m)
		}
		rollupCols[i] = string(m)
	}
	t := &evaluation.Table{Measures: slices.Clone(measures)}
	args := []any{string(kind)}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	// rollups_day is (kind, grain, day, subject): a month's rows of a kind
	// are one range, and with a subject prefix (a district's grids) a range
	// within it on each day.
	day, grain := "day", "grain"
	var arms []string
	first, last, left, right := rollupSpans(fromDay, toDay)
	if first <= last {
		arms = append(arms, grain+` = 'm' AND `+day+` >= `+arg(first*100)+` AND `+day+` <= `+arg(last*100))
	}
	var edges []string
	for _, sp := range [][2]int{left, right} {
		if sp[0] <= sp[1] {
			edges = append(edges, day+` >= `+arg(sp[0])+` AND `+day+` <= `+arg(sp[1]))
		}
	}
	if len(edges) > 0 {
		arms = append(arms, grain+` = 'd' AND (`+strings.Join(edges, ` OR `)+`)`)
	}
	// One whole month: one row per subject, nothing to add up.
	single := first == last && len(edges) == 0
	if len(arms) == 0 {
		return t, nil
	}
	subject := ""
	if subjectPrefix != "" {
		subject = ` AND substr(subject, 1, ` + arg(len([]rune(subjectPrefix))) + `) = ` + arg(subjectPrefix)
		if last := subjectPrefix[len(subjectPrefix)-1]; db.Dialect == SQLite && last < 0x7f {
			// SQLite compares text bytewise: a range on the index's subject
			// lets it read only the prefix's rows (a district's grids in a
			// city), not every subject's rows of the days.
			subject += ` AND subject >= ` + arg(subjectPrefix) + ` AND subject < ` + arg(subjectPrefix[:len(subjectPrefix)-1]+string(rune(last+1)))
		}
	}
	// PostgreSQL sends the counts as binary integers (rollupTablePG); on
	// SQLite they come back as one text per subject, "n,n,…" in column
	// order: scanning many integer columns of 62,000 subjects through
	// database/sql costs more than the query itself.
	cols, sums := rollupCols, make([]string, len(rollupCols))
	for i, c := range rollupCols {
		sums[i] = "SUM(" + c + ")"
	}
	sep := ", "
	if db.Dialect == SQLite {
		sep = ` || ',' || `
	}
	// The month rows and the edge days' rows are read apart (UNION ALL),
	// each from its own partition on PostgreSQL.
	var sb strings.Builder
	if single {
		sb.WriteString(`SELECT subject, ` + strings.Join(cols, sep) + ` FROM rollups WHERE kind = $1 AND ` + arms[0] + subject)
	} else {
		sb.WriteString(`SELECT subject, ` + strings.Join(sums, sep) + ` FROM (`)
		for i, a := range arms {
			if i > 0 {
				sb.WriteString(` UNION ALL `)
			}
			sb.WriteString(`SELECT subject, ` + strings.Join(cols, ", ") + ` FROM rollups WHERE kind = $1 AND ` + a + subject)
		}
		sb.WriteString(`) r GROUP BY subject`)
	}
	if db.Dialect == Postgres {
		if err := db.rollupTablePG(ctx, t, sb.String(), args); err != nil {
			return nil, fmt.Errorf("read rollups: %w", translate(err))
		}
		return t, nil
	}
	rows, err := db.read.QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", translate(err))
	}
	defer rows.Close()
	var names subjectNames
	for rows.Next() {
		var subject, list []byte
		if err := rows.Scan(&subject, &list); err != nil {
			return nil, fmt.Errorf("read rollups: %w", translate(err))
		}
		names.add(subject)
		i, v, neg := 0, 0, false
		for p := 0; p <= len(list); p++ {
			switch {
			case p == len(list) || list[p] == ',':
				if neg {
					v = -v
				}
				if i < len(measures) {
					t.Vals = append(t.Vals, v)
				}
				i, v, neg = i+1, 0, false
			case list[p] == '-':
				neg = true
			case list[p] >= '0' && list[p] <= '9':
				v = v*10 + int(list[p]-'0')
			default:
				return nil, fmt.Errorf("read rollups: bad sums %q", list)
			}
		}
		if i != len(measures) {
			return nil, fmt.Errorf("read rollups: %d sums, want %d", i, len(measures))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rollups: %w", translate(err))
	}
	t.Subjects = names.strings()
	return t, nil
}

// subjectNames collects the subjects of a table in one buffer: 62,000
// subject codes become one string and 62,000 slices of it, not 62,000
// strings of their own.
type subjectNames struct {
	buf  []byte
	ends []int
}

func (n *subjectNames) add(b []byte) {
	n.buf = append(n.buf, b...)
	n.ends = append(n.ends, len(n.buf))
}

func (n *subjectNames) strings() []string {
	all := string(n.buf)
	out := make([]string, len(n.ends))
	start := 0
	for i, e := range n.ends {
		out[i], start = all[start:e], e
	}
	return out
}

// rollupTablePG runs a rollup read on one of pgx's own connections and
// reads the counts as binary integers (int4, or int8 for sums) straight
// into the table: no text to format on the server nor to parse here, and
// no allocation per row.
func (db *DB) rollupTablePG(ctx context.Context, t *evaluation.Table, q string, args []any) error {
	params := make([][]byte, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			params[i] = []byte(v)
		case int:
			params[i] = strconv.AppendInt(nil, int64(v), 10)
		default:
			return fmt.Errorf("rollup parameter of type %T", a)
		}
	}
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	m := len(t.Measures)
	var names subjectNames
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn().PgConn()
		// Parameters as text (PostgreSQL infers their types from the
		// columns they meet), every result column binary.
		rr := pc.ExecParams(ctx, q, params, nil, nil, []int16{1})
		for rr.NextRow() {
			vals := rr.Values()
			if len(vals) != m+1 {
				rr.Close()
				return fmt.Errorf("%d columns, want %d", len(vals), m+1)
			}
			names.add(vals[0])
			for _, v := range vals[1:] {
				switch len(v) {
				case 4:
					t.Vals = append(t.Vals, int(int32(binary.BigEndian.Uint32(v))))
				case 8:
					t.Vals = append(t.Vals, int(int64(binary.BigEndian.Uint64(v))))
				case 0:
					t.Vals = append(t.Vals, 0) // NULL: no row added to it
				default:
					rr.Close()
					return fmt.Errorf("a count of %d bytes", len(v))
				}
			}
		}
		_, err := rr.Close()
		return err
	})
	if err != nil {
		return err
	}
	t.Subjects = names.strings()
	return nil
}

// ChangedCases reads the steps after the step ID after and up to upto (IDs
// are time-sortable), in ID order, at most limit of them: the distinct IDs of
// their cases, in order of first appearance, and the last step ID read
// ("" when none).
func (db *DB) ChangedCases(ctx context.Context, after, upto string, limit int) (caseIDs []string, last string, err error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, case_id FROM steps WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`, after, upto, limit)
	if err != nil {
		return nil, "", fmt.Errorf("read changed cases: %w", translate(err))
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			return nil, "", fmt.Errorf("read changed cases: %w", translate(err))
		}
		last = id
		if !seen[c] {
			seen[c] = true
			caseIDs = append(caseIDs, c)
		}
	}
	return caseIDs, last, rows.Err()
}

// LastStepID is the newest step's ID, "" when there is none.
func (db *DB) LastStepID(ctx context.Context) (string, error) {
	var id sql.NullString
	if err := db.read.QueryRowContext(ctx, `SELECT MAX(id) FROM steps`).Scan(&id); err != nil {
		return "", fmt.Errorf("read last step: %w", translate(err))
	}
	return id.String, nil
}

// LockRollups makes the transaction the only one rolling facts until it
// ends (on PostgreSQL an advisory transaction lock; SQLite has one writer):
// nodes rolling at once would otherwise read a case each at a different
// version and the older could be applied last.
func (t *Tx) LockRollups(ctx context.Context) error {
	if t.dialect != Postgres {
		return nil
	}
	if _, err := t.Exec(ctx, `SELECT pg_advisory_xact_lock(7242011)`); err != nil {
		return fmt.Errorf("lock rollups: %w", err)
	}
	return nil
}

// sortRollupKeys orders rollup rows by kind, subject and day: the one order
// every writer uses (no two transactions lock rows in different orders).
func sortRollupKeys(keys []rollupKey) {
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.subject != b.subject {
			return a.subject < b.subject
		}
		return a.day < b.day
	})
}
