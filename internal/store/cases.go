package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/id"
	"zhizhi/internal/routing"
)

func nowMillis() int64 { return time.Now().UnixMilli() }

func ms(t time.Time) int64 { return t.UnixMilli() }

func nullMs(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// ClockRule says when a red clock escalates: after EscalateAfter overdue.
// Zero disables automatic escalation.
type ClockRule struct {
	EscalateAfter time.Duration
}

// caseBody is the searchable text of a new case (search.go).
func caseBody(c *cases.Case, step *cases.Step) string {
	note := ""
	if step != nil {
		note = stepNote(c, step.Note)
	}
	return searchBody(c, withNote("", note))
}

// caseDue is the earliest due time among the case's running clocks.
func caseDue(c *cases.Case) any { return nullMs(c.Due()) }

func pointArgs(c *cases.Case) (any, any) {
	if c.Point == nil {
		return nil, nil
	}
	return c.Point.Lng, c.Point.Lat
}

// The writer's frequent statements, prepared once on SQLite (see prepareHot).
const (
	sqlUpdateCase = `UPDATE cases SET version=$1, state=$2, category=$3, board=$4, severity=$5, center_path=$6,
		updated_at=$7, closed_at=$8, due_at=$9, was_overdue=$10, doc=$11, district_code=$14, street_code=$15,
		community_code=$16, grid_code=$17, region_path=$18, lng=$19, lat=$20, body=$21, item=$22, body_long=$23 WHERE id=$12 AND version=$13`
	sqlDeleteClocks = `DELETE FROM clocks WHERE case_id = $1`
	sqlNextNumber   = `INSERT INTO counters (name, value) VALUES ($1, 1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`
	sqlCaseDoc = `SELECT doc FROM cases WHERE id = $1`
)

var hotSQL = []string{
	caseRows.one, sqlUpdateCase, stepRows.one, unitRows.one, personRows.one,
	clockRows.one, sqlDeleteClocks, sqlDeleteClocks + ` AND key NOT IN ($2)`, sqlNextNumber, sqlCaseDoc, sqlCaseBody,
}

// liteHotSQL are SQLite-only statements prepared with hotSQL on SQLite's
// writer (the readings' JSON statements).
var liteHotSQL = []string{sqlInsertReadingsLite, sqlFoldAggsLite, sqlLastReadingLite}

// InsertCase stores a new case with its first step.
func (t *Tx) InsertCase(ctx context.Context, c *cases.Case, step *cases.Step, rule ClockRule) error {
	enc, err := encodeCase(c, step)
	if err != nil {
		return err
	}
	return t.insertCase(ctx, c, step, rule, enc)
}

// insertCase stores a new case, its forms encoded (encodeCase,
// InsertNewCase).
func (t *Tx) insertCase(ctx context.Context, c *cases.Case, step *cases.Step, rule ClockRule, enc encodedCase) error {
	lng, lat := pointArgs(c)
	lv := levelCodes(c.RegionPath)
	body, doc := enc.body, enc.doc
	inline, long := bodyCols(t.dialect, body)
	if err := t.put(ctx, caseRows, lv[1], lv[2], lv[3], c.ID, c.Number, c.Version, string(c.State), string(c.Source), c.Category, c.Board, string(c.Severity),
		c.GridCode, c.RegionPath, c.CenterPath, lng, lat, c.Reporter.AccountID, ms(c.ReportedAt), ms(c.UpdatedAt),
		nullMs(c.ClosedAt), caseDue(c), boolInt(c.WasOverdue), inline, c.ClientRef, string(doc), enc.item, long); err != nil {
		return fmt.Errorf("insert case: %w", err)
	}
	t.holdCase(c, doc)
	t.moveGauge(nil, c)
	if t.dialect == SQLite {
		// Indexed at the end of the batch in one statement, after the held
		// rows are written (see batcher.attempt): FTS5 flushes its pending
		// terms to a new segment at every statement, so one INSERT per report
		// cost a segment per report.
		t.fts = append(t.fts, ftsRow{id: c.ID, body: body})
	}
	if err := t.syncUnits(ctx, c); err != nil {
		return err
	}
	if err := t.syncAppeals(ctx, c); err != nil {
		return err
	}
	if err := t.syncClocks(ctx, c, rule, false); err != nil {
		return err
	}
	return t.putStep(ctx, step, enc.step)
}

// UpdateCase stores the new state of a case whose stored version must still
// be old's (the case as read in this transaction), and appends its step. A
// changed version is ErrConflict. The overdue gauge moves by the difference
// between old and c (gauge.go).
func (t *Tx) UpdateCase(ctx context.Context, old, c *cases.Case, step *cases.Step, rule ClockRule) error {
	prev := old.Version
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode case: %w", err)
	}
	item, err := ItemDoc(c)
	if err != nil {
		return err
	}
	lv := levelCodes(c.RegionPath)
	lng, lat := pointArgs(c)
	oldBody, body, err := t.newBody(ctx, c, step)
	if err != nil {
		return err
	}
	inline, long := bodyCols(t.dialect, body)
	res, err := t.Exec(ctx, sqlUpdateCase,
		c.Version, string(c.State), c.Category, c.Board, string(c.Severity), c.CenterPath, ms(c.UpdatedAt),
		nullMs(c.ClosedAt), caseDue(c), boolInt(c.WasOverdue), string(doc), c.ID, prev,
		lv[1], lv[2], lv[3], c.GridCode, c.RegionPath, lng, lat, inline, item, long)
	if err != nil {
		return fmt.Errorf("update case: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("case %s version %d: %w", c.ID, prev, ErrConflict)
	}
	if t.dialect == SQLite && body != oldBody {
		// Re-indexed at the end of the batch (mergeFTS).
		t.fts = append(t.fts, ftsRow{id: c.ID, body: body, old: oldBody, update: true})
	}
	t.moveGauge(old, c)
	if err := t.syncUnits(ctx, c); err != nil {
		return err
	}
	if err := t.syncAppeals(ctx, c); err != nil {
		return err
	}
	if err := t.syncClocks(ctx, c, rule, true); err != nil {
		return err
	}
	return t.insertStep(ctx, step)
}

func (t *Tx) insertStep(ctx context.Context, s *cases.Step) error {
	doc, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode step: %w", err)
	}
	return t.putStep(ctx, s, string(doc))
}

// putStep holds a step's row, its document encoded.
func (t *Tx) putStep(ctx context.Context, s *cases.Step, doc string) error {
	if err := t.put(ctx, stepRows, s.ID, s.CaseID, s.Seq, ms(s.At), string(s.Action), doc); err != nil {
		return fmt.Errorf("insert step: %w", err)
	}
	return nil
}

// syncUnits keeps case_units (and case_people) equal to CaseLinks, for the
// unit filter and unit staff's and summoned people's scope.
func (t *Tx) syncUnits(ctx context.Context, c *cases.Case) error {
	units, people := CaseLinks(c)
	for _, u := range units {
		if err := t.put(ctx, unitRows, c.ID, u.UnitID, u.Role, u.State); err != nil {
			return fmt.Errorf("sync case units: %w", err)
		}
	}
	for _, a := range people {
		if err := t.put(ctx, personRows, c.ID, a); err != nil {
			return fmt.Errorf("sync case people: %w", err)
		}
	}
	return nil
}

// UnitLink is one row of case_units: a unit on a case, in its role.
type UnitLink struct{ UnitID, Role, State string }

// CaseLinks are the rows case_units and case_people hold for a case: per
// unit its latest task (an active one over a finished one), then the units
// a whistle summoned ("whistle", "summoned") or a meeting charged with a
// decision ("decision", "assigned") without a task of their own; and the
// people (accounts) a whistle summoned. Bulk loaders write the same rows.
func CaseLinks(c *cases.Case) ([]UnitLink, []string) {
	var units []UnitLink
	at := map[string]int{}
	active := map[string]bool{}
	put := func(l UnitLink, override bool) {
		if l.UnitID == "" {
			return
		}
		if i, ok := at[l.UnitID]; !ok {
			at[l.UnitID] = len(units)
			units = append(units, l)
		} else if override {
			units[i] = l
		}
	}
	for _, task := range c.Tasks {
		put(UnitLink{task.UnitID, string(task.Role), string(task.State)}, task.Active() || !active[task.UnitID])
		active[task.UnitID] = active[task.UnitID] || task.Active()
	}
	var people []string
	for _, w := range c.Whistles {
		for _, p := range w.Parties {
			if p.UnitID != "" {
				put(UnitLink{p.UnitID, "whistle", "summoned"}, false)
			} else if p.AccountID != "" && !slices.Contains(people, p.AccountID) {
				people = append(people, p.AccountID)
			}
		}
	}
	for _, m := range c.Meetings {
		for _, d := range m.Decisions {
			put(UnitLink{d.UnitID, "decision", "assigned"}, false)
		}
	}
	return units, people
}

// syncClocks makes the clocks table hold exactly the case's running clocks.
// A clock whose due time moved (extension, resume) is re-armed; one whose due
// time is unchanged keeps its fired flags, so nothing fires twice.
// A new case has no rows to remove, so existing is false and the delete is
// skipped.
func (t *Tx) syncClocks(ctx context.Context, c *cases.Case, rule ClockRule, existing bool) error {
	running := c.Timers()
	keys := make([]string, 0, len(running))
	for _, r := range running {
		keys = append(keys, r.Key)
		esc := r.Clock.Due.Add(rule.EscalateAfter)
		escalated := 0
		if rule.EscalateAfter <= 0 {
			escalated = 1
		}
		if err := t.put(ctx, clockRows, c.ID, r.Key, ms(r.Clock.Due), ms(r.Clock.YellowAt), ms(esc), escalated, ms(r.Clock.YellowAt)); err != nil {
			return fmt.Errorf("sync clocks: %w", err)
		}
	}
	if !existing {
		return nil
	}
	q := sqlDeleteClocks
	args := []any{c.ID}
	if len(keys) > 0 {
		ph := make([]string, len(keys))
		for i, k := range keys {
			ph[i] = "$" + strconv.Itoa(i+2)
			args = append(args, k)
		}
		q += ` AND key NOT IN (` + strings.Join(ph, ",") + `)`
	}
	if _, err := t.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("sync clocks: %w", err)
	}
	return nil
}

// ArmTimers writes the clocks table's rows for a case as it stands (its
// running clocks and its park timer), without changing the case: for
// parked cases stored before park timers existed.
func (t *Tx) ArmTimers(ctx context.Context, c *cases.Case, rule ClockRule) error {
	return t.syncClocks(ctx, c, rule, true)
}

// sqlUnarmedParked reads the IDs of the open parked cases after an ID that
// have no park timer row (cases.ParkTimer), in ID order. On SQLite from the
// open cases' partial index alone (its condition said): left to itself
// SQLite walked every case by ID, 3.1-3.5 s at every start on a file of
// 1 M cases, to find none; PostgreSQL reads the open cases' point index.
func sqlUnarmedParked(d Dialect) string {
	from, open := `cases c`, ``
	if d == SQLite {
		from, open = `cases c INDEXED BY cases_open_overdue`, ` AND c.state <> 'held'`
	}
	return `SELECT c.id FROM ` + from + ` WHERE c.closed_at IS NULL` + open + ` AND c.state = 'parked' AND c.id > $1
	AND NOT EXISTS (SELECT 1 FROM clocks k WHERE k.case_id = c.id AND k.key = $2) ORDER BY c.id LIMIT $3`
}

// UnarmedParked returns the IDs of up to limit open parked cases whose ID
// sorts after after and that have no park timer: those stored before park
// timers existed (service.ArmParkTimers, which reads each in its own
// transaction). A parked case armed by its own park is not read, so a start
// reads nothing on an installation whose parked cases all have their
// timers.
func (db *DB) UnarmedParked(ctx context.Context, after string, limit int) ([]string, error) {
	return db.queryIDs(ctx, "unarmed parked cases", sqlUnarmedParked(db.Dialect), after, cases.ParkTimer, limit)
}

// NextNumber returns the next value of a named counter, starting at 1. In a
// group commit a counter is read (and locked) once, or reserved for the
// batch when the job named it to Write, and then counted in memory; the
// writer stores its last value before the commit.
func (t *Tx) NextNumber(ctx context.Context, name string) (int64, error) {
	t.wrote = true
	if c := t.w.counters[name]; c != nil {
		c.value++
		return c.value, nil
	}
	// The counters are never held, so this needs no flush.
	var v int64
	err := t.queryRow(ctx, sqlNextNumber, name).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("next number %s: %w", name, translate(err))
	}
	t.w.counters[name] = &counter{value: v, stored: v}
	return v, nil
}

// CaseByClientRef reads, inside a write transaction, the case a reporter
// already made with this client reference.
func (t *Tx) CaseByClientRef(ctx context.Context, reporter, ref string) (cases.Case, error) {
	if id, ok := t.w.refs[reporter+"\x00"+ref]; ok {
		return t.Case(ctx, id)
	}
	// A case not held is not changed by the held rows: no flush needed.
	return scanCase(t.queryRow(ctx, `SELECT doc FROM cases WHERE reporter_account = $1 AND client_ref = $2`, reporter, ref))
}

// Case reads a case inside a write transaction.
func (t *Tx) Case(ctx context.Context, id string) (cases.Case, error) {
	if c, ok, err := t.heldCase(id); ok {
		return c, err
	}
	return scanCase(t.queryRow(ctx, sqlCaseDoc, id))
}

func scanCase(row interface{ Scan(...any) error }) (cases.Case, error) {
	var doc []byte
	if err := row.Scan(&doc); err != nil {
		return cases.Case{}, fmt.Errorf("case: %w", translate(err))
	}
	var c cases.Case
	if err := decodeCaseDoc(doc, &c); err != nil {
		return cases.Case{}, fmt.Errorf("decode case: %w", err)
	}
	return c, nil
}

// Case reads one case by its ID or its human number.
func (db *DB) Case(ctx context.Context, idOrNumber string) (cases.Case, error) {
	return scanCase(db.read.QueryRowContext(ctx, `SELECT doc FROM cases WHERE id = $1 OR number = $1`, idOrNumber))
}

// Step reads one step of a case's timeline by its sequence number.
func (db *DB) Step(ctx context.Context, caseID string, seq int) (cases.Step, error) {
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM steps WHERE case_id = $1 AND seq = $2`, caseID, seq).Scan(&doc)
	if err != nil {
		return cases.Step{}, fmt.Errorf("step %s/%d: %w", caseID, seq, translate(err))
	}
	var st cases.Step
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		return cases.Step{}, fmt.Errorf("decode step: %w", err)
	}
	return st, nil
}

// Steps reads a case's timeline in order.
func (db *DB) Steps(ctx context.Context, caseID string) ([]cases.Step, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT doc FROM steps WHERE case_id = $1 ORDER BY seq`, caseID)
	if err != nil {
		return nil, fmt.Errorf("steps: %w", translate(err))
	}
	return scanSteps(rows)
}

// scanSteps reads step documents and closes the rows.
func scanSteps(rows *sql.Rows) ([]cases.Step, error) {
	defer rows.Close()
	var out []cases.Step
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("steps: %w", err)
		}
		var s cases.Step
		if err := json.Unmarshal([]byte(doc), &s); err != nil {
			return nil, fmt.Errorf("decode step: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Steps reads a case's timeline in order inside a write transaction (after
// writing the rows held so far, so steps of this transaction are included).
func (t *Tx) Steps(ctx context.Context, caseID string) ([]cases.Step, error) {
	rows, err := t.Query(ctx, `SELECT doc FROM steps WHERE case_id = $1 ORDER BY seq`, caseID)
	if err != nil {
		return nil, fmt.Errorf("steps: %w", err)
	}
	return scanSteps(rows)
}

// Scope restricts a listing to what an actor may see; it mirrors cases.CanSee.
type Scope struct {
	All        bool     // system
	RegionPath string   // region roles: cases placed or owned in the subtree
	UnitID     string   // unit staff: cases dispatched to the unit
	Units      []string // a board head: also the cases of the board's posts and sections
	AlsoUnit   string   // community staff: besides their region, cases dispatched to their community
	AccountID  string   // reporter: one's own cases (also added for a grid's people)
	Person     string   // account summoned by a whistle (a grid's people, unit staff)
}

// ScopeOf returns the listing scope of an actor.
func ScopeOf(a cases.Actor) Scope {
	switch a.Role {
	case cases.RoleSystem:
		return Scope{All: true}
	case cases.RoleUnit:
		return Scope{UnitID: nonEmpty(a.UnitID), Units: a.Units, Person: a.AccountID}
	case cases.RoleResident, cases.RoleEnterprise:
		return Scope{AccountID: nonEmpty(a.AccountID)}
	}
	sc := Scope{RegionPath: nonEmpty(a.RegionPath)}
	switch a.Role {
	case cases.RoleCommunity:
		sc.AccountID, sc.AlsoUnit = a.AccountID, a.UnitID
	case cases.RoleGridWorker, cases.RoleGridChief, cases.RoleHead:
		// People of a grid also follow what they reported elsewhere.
		sc.AccountID = a.AccountID
	}
	return sc
}

// nonEmpty keeps an empty scope from matching everything. The sentinel must
// be valid text on both engines: PostgreSQL rejects NUL bytes in parameters.
func nonEmpty(s string) string {
	if s == "" {
		return "\x01none"
	}
	return s
}

// CaseFilter selects cases for a listing. Zero fields do not filter.
type CaseFilter struct {
	Scope                  Scope
	States                 []cases.State
	Open                   *bool
	RegionPath             string // subtree
	CenterPath             string // exact owning center
	Grid                   string
	Category               string
	Board                  string
	Unit                   string // any part of the unit: a task (done or not), a summons, a decision
	ActiveUnit             string // the unit has an active task (dispatched, signed or fed back)
	Severity               string
	Source                 string
	Overdue                *bool // a running clock is past due now
	Now                    time.Time
	From, To               time.Time // reported in [From, To)
	Text                   string
	BBox                   *geo.Rect
	Reporter               string
	IDs                    []string    // only these case IDs
	Categories             []string    // any of these categories
	UpdatedFrom, UpdatedTo time.Time   // last changed in [UpdatedFrom, UpdatedTo)
	After                  string      // keyset cursor: list cases with ID below this
	Sort                   string      // the order (queue.go): "" newest first, or reported, due, severity
	Cursor                 *Cursor     // keyset cursor of a sorted listing: list the cases after it
	Supervised             *bool       // the case is (or is not) under supervision (督办)
	Whistled               *bool       // someone blew a whistle on the case (吹哨)
	Fact                   *FactFilter // only the cases behind one figure (drill.go)
	textIndex              bool        // search through the trigram index, not by testing rows (set by textPlan)
	openIndex              bool        // read the region's open cases from their partial index (set by countQuery)
	Limit                  int
}

// levelCodes splits a region path into its codes by level: [city, district,
// street, community, grid], "" where the path stops above that level.
func levelCodes(path string) [5]string {
	var out [5]string
	for i, c := range strings.Split(strings.Trim(path, "/"), "/") {
		if i < len(out) {
			out[i] = c
		}
	}
	return out
}

// subtree returns the condition selecting cases placed in the subtree of a
// region path. Each level has its own column and an index ordered by ID, so a
// street's or a grid's queue is read newest first without sorting. With
// noIndex the column is written +col so the planner does not drive the query from
// another index (the text index).
func subtree(path string, noIndex bool) (string, []any) {
	codes := strings.Split(strings.Trim(path, "/"), "/")
	cols := []string{"", "district_code", "street_code", "community_code", "grid_code"}
	d := len(codes) - 1
	if d >= 1 && d < len(cols) && codes[d] != "" {
		col := cols[d]
		if noIndex {
			col = "+" + col
		}
		return col + ` = ?`, []any{codes[d]}
	}
	// The city, or deeper than a grid: a prefix range on the path.
	lo, hi := prefixRange(path)
	return `region_path >= ? AND region_path < ?`, []any{lo, hi}
}

// prefixRange returns the bounds [lo, hi) of strings starting with p.
func prefixRange(p string) (string, string) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return p, string(b[:i+1])
		}
	}
	return p, p + "\xff"
}

type where struct {
	parts []string
	args  []any
	from  string // the table, with an index hint where one is known better
	// alts, on PostgreSQL, are the scope's alternatives (a grid's people:
	// their region, their own reports, what they were whistled to), whose
	// OR is parts[altAt]: a listing reads a page from each alternative by
	// its own index and keeps the newest page of their union (listSQL).
	alts  []string
	altAt int
	// fence, on PostgreSQL, has a listing find every match before it sorts
	// (listSQL): for the few matches an index range finds (a district's
	// overdue cases) where the planner would walk the scope newest first.
	fence bool
}

func (w *where) add(cond string, args ...any) {
	// Each "?" in cond becomes the next $n.
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.parts = append(w.parts, cond)
}

// anyOf adds the OR of alternatives, each a condition and its arguments,
// and keeps them as the scope's alternatives (where.alts).
func (w *where) anyOf(conds []string, args [][]any) {
	alts := make([]string, len(conds))
	for i, cond := range conds {
		for _, a := range args[i] {
			w.args = append(w.args, a)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
		}
		alts[i] = cond
	}
	w.alts, w.altAt = alts, len(w.parts)
	w.parts = append(w.parts, `(`+strings.Join(alts, ` OR `)+`)`)
}

// in adds "col IN (...)" for a list of strings.
func (w *where) in(col string, vals []string) {
	ph := make([]string, len(vals))
	for i, v := range vals {
		w.args = append(w.args, v)
		ph[i] = "$" + strconv.Itoa(len(w.args))
	}
	w.parts = append(w.parts, col+` IN (`+strings.Join(ph, ",")+`)`)
}

func (w *where) sql() string {
	if len(w.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.parts, " AND ")
}

// table is the cases table with the index hint the filter chose.
func (w *where) table() string {
	if w.from == "" {
		return " FROM cases"
	}
	return " FROM " + w.from
}

func (db *DB) caseWhere(f CaseFilter) *where {
	w := &where{}
	s := f.Scope
	// A region's open cases read from the open cases' partial index: a
	// count it answers alone (f.openIndex, CountCasesUpTo), and on SQLite a
	// board's queue in a sorted order (report time, due time, urgency):
	// every open case of the region is read from the index alone (migration
	// 42: it holds the two times, the region path, the state, the urgency
	// and the ID), and sorted. The region's level index holds neither the
	// state nor the sort keys: the district's queue by report time read
	// every case of its history, 3.2 s at 1 M cases (docs/benchmarks-journal.md,
	// section 2e). The region is written as a range of its path, which the
	// index holds (PostgreSQL's cases_open_due too).
	// On PostgreSQL a street's or narrower region's queue in a sorted order
	// too: it joined a bitmap of the street's index (every case of its
	// history) with one of the open cases' point index (16,000 and 6,600
	// entries at 300,000 cases: 15-46 ms for the board's queue), where the
	// region's range of cases_open_due is its open cases alone (1 ms). A
	// district's is walked newest first as before, and so is any listing
	// newest first: right after a flood of reports it finds its page at
	// once, where the region's open cases would all be read and sorted.
	// On SQLite the city's open overdue cases too (a city commander's red
	// panel, on a file of one or a few districts): one range of the open
	// cases' due times, then a sort. Left to itself SQLite skip-scanned
	// the categories' due times and read each overdue case's row (119 ms
	// at 1 M cases, against 4-7 ms).
	cityOverdue := db.Dialect == SQLite && f.Overdue != nil && *f.Overdue && f.Category == "" && regionDepth(f) <= 1
	openQueue := f.openScoped() && (f.openIndex || cityOverdue || f.Sort != SortNewest && (db.Dialect == SQLite || regionDepth(f) > 2))
	// A unit's open cases on SQLite (a department's inbox): the open cases'
	// partial index read alone, and each case tested for the unit by its
	// key in case_units. Written "id IN (the unit's cases)", SQLite built
	// the list of every case the unit ever had, twice (the scope's and the
	// filter's: 188,000 for a department at 1 M cases), for a page of its
	// open ones: 170-290 ms, against 36-37 ms for the file's 22,000 open
	// cases tested one by one.
	unitOpen := db.Dialect == SQLite && (s.UnitID != "" || f.Unit != "" || f.ActiveUnit != "") && f.openOnly() &&
		!slices.Contains(f.States, cases.Held) && f.BBox == nil && !f.textIndex
	unitOf := func(table, cond string) string {
		if unitOpen {
			return `EXISTS (SELECT 1 FROM ` + table + ` WHERE case_id = cases.id AND ` + cond + `)`
		}
		return `id IN (SELECT case_id FROM ` + table + ` WHERE ` + cond + `)`
	}
	// openCases reads the listing from the open cases' partial index (on
	// SQLite by name), its condition said when the filter names open
	// states instead of Open.
	openCases := func() {
		if db.Dialect == SQLite {
			w.from = "cases INDEXED BY cases_open_overdue"
		}
		if f.Open == nil {
			w.add(`closed_at IS NULL AND state <> 'held'`)
		}
	}
	if openQueue {
		openCases()
		for _, p := range []string{s.RegionPath, f.RegionPath} {
			if p != "" {
				lo, hi := prefixRange(p)
				w.add(`region_path >= ? AND region_path < ?`, lo, hi)
			}
		}
		f.RegionPath = ""
	}
	switch {
	case openQueue, s.All:
	case s.UnitID != "":
		units := `unit_id = ?`
		args := []any{s.UnitID}
		if len(s.Units) > 0 {
			units = `unit_id IN (?` + strings.Repeat(`,?`, len(s.Units)) + `)`
			for _, u := range s.Units {
				args = append(args, u)
			}
		}
		if s.Person != "" {
			w.add(`(`+unitOf(`case_units`, units)+` OR `+unitOf(`case_people`, `account_id = ?`)+`)`, append(args, s.Person)...)
		} else {
			w.add(unitOf(`case_units`, units), args...)
		}
	case s.RegionPath != "":
		// A case's center is its region or an ancestor of it, so the
		// region subtree alone decides (cases.CanSee also checks the center,
		// which adds nothing).
		cond, args := subtree(s.RegionPath, false)
		if s.AccountID != "" {
			region := args
			// PostgreSQL cannot combine a hashed "id IN (subquery)" with the
			// other two in a BitmapOr, so it walked every case newest first
			// (seconds at city scale); "id = ANY(ARRAY(subquery))" is an
			// init plan whose array probes the primary key, and the three
			// index scans are OR-ed. SQLite has no arrays and plans the OR
			// well as it is.
			people := `id IN (SELECT case_id FROM case_people WHERE account_id = ?)`
			if db.Dialect == Postgres {
				people = `id = ANY(ARRAY(SELECT case_id FROM case_people WHERE account_id = ?))`
			}
			args = append(args, s.AccountID, s.AccountID)
			unit := ""
			if s.AlsoUnit != "" {
				unit = ` OR id IN (SELECT case_id FROM case_units WHERE unit_id = ?)`
				if db.Dialect == Postgres {
					unit = ` OR id = ANY(ARRAY(SELECT case_id FROM case_units WHERE unit_id = ?))`
				}
				args = append(args, s.AlsoUnit)
			}
			if db.Dialect == Postgres {
				// Kept apart for listings (where.alts): even OR-ed, the
				// three index scans gave every case of the grid to a sort,
				// and the planner preferred walking every case newest first
				// by the primary key, testing each (25-120 ms at 1 M cases,
				// the most right after a flood of reports).
				conds := []string{cond, `reporter_account = ?`, people}
				alts := [][]any{region, {s.AccountID}, {s.AccountID}}
				if s.AlsoUnit != "" {
					conds = append(conds, strings.TrimPrefix(unit, ` OR `))
					alts = append(alts, []any{s.AlsoUnit})
				}
				w.anyOf(conds, alts)
			} else {
				w.add(`(`+cond+` OR reporter_account = ? OR `+people+unit+`)`, args...)
			}
		} else {
			w.add(cond, args...)
		}
	case s.AccountID != "":
		w.add(`reporter_account = ?`, s.AccountID)
	default:
		w.add(`1 = 0`)
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		w.in("state", states)
		// A street's center queue (reported or accepted cases, a hundred
		// among a street's 100,000): the queue's partial index, newest
		// first (its condition written as the index's, which is how SQLite
		// knows the index holds every row that can match). Walking the
		// street's index passed most of the street's history.
		if db.Dialect == SQLite && w.from == "" && levelScope(f) == 3 && queueStates(f.States) {
			w.from = "cases INDEXED BY cases_queue"
			w.add(`state IN ('reported', 'accepted')`)
		}
		// The held reports (待甄别, a handful) from their partial index,
		// the region tested in each one's row: the region's index walked
		// its whole history to find them (4.3 s for a district at 1 M
		// cases, none held).
		if db.Dialect == SQLite && w.from == "" && len(f.States) == 1 && f.States[0] == cases.Held {
			w.from = "cases INDEXED BY cases_held"
			w.add(`state = 'held'`)
		}
	}
	if f.Open != nil {
		if *f.Open {
			// Open is the live loop: held reports (待甄别) wait outside it
			// and are listed by their state only.
			w.add(`closed_at IS NULL AND state <> 'held'`)
		} else {
			w.add(`closed_at IS NOT NULL`)
		}
	}
	if unitOpen && w.from == "" {
		openCases()
	}
	if f.RegionPath != "" {
		cond, args := subtree(f.RegionPath, false)
		w.add(cond, args...)
	}
	for _, eq := range []struct{ col, val string }{
		{"center_path", f.CenterPath}, {"grid_code", f.Grid}, {"category", f.Category}, {"board", f.Board},
		{"severity", f.Severity}, {"source", f.Source}, {"reporter_account", f.Reporter},
	} {
		if eq.val != "" {
			w.add(eq.col+` = ?`, eq.val)
		}
	}
	if len(f.IDs) > 0 {
		w.in("id", f.IDs)
	}
	if len(f.Categories) > 0 {
		w.in("category", f.Categories)
	}
	if !f.UpdatedFrom.IsZero() {
		w.add(`updated_at >= ?`, ms(f.UpdatedFrom))
	}
	if !f.UpdatedTo.IsZero() {
		w.add(`updated_at < ?`, ms(f.UpdatedTo))
	}
	if f.Unit != "" {
		w.add(unitOf(`case_units`, `unit_id = ?`), f.Unit)
	}
	if f.ActiveUnit != "" {
		w.add(unitOf(`case_units`, `unit_id = ? AND state IN ('dispatched', 'signed', 'fed_back')`), f.ActiveUnit)
	}
	if f.Overdue != nil {
		now := f.Now
		if now.IsZero() {
			now = time.Now()
		}
		if *f.Overdue {
			// A category's overdue cases: the partial index of open cases
			// by category and due time drives (SQLite's planner would
			// rather walk the category in ID order, reading thousands).
			if db.Dialect == SQLite && f.Category != "" {
				w.from = "cases INDEXED BY cases_category_due"
			}
			// A district's overdue cases: one range of the open cases' due
			// times (the index holds the district and the ID), then a sort
			// of the few thousand IDs; walking the district newest first
			// would first pass every new report of a flood.
			if db.Dialect == SQLite && f.Category == "" && w.from == "" && districtScope(f) {
				w.from = "cases INDEXED BY cases_overdue"
			}
			// A street's overdue cases: its index walked newest first (it
			// holds the due time: no row is read), stopping at a page. Left
			// to the planner, SQLite chose for the streets with the most
			// overdue cases (from the statistics of the street's value) a
			// skip-scan of every category's overdue range in the category
			// index, then a sort: every overdue case of the district,
			// 120-140 ms at 1 M cases against 0.5-1 ms for the walk.
			if db.Dialect == SQLite && f.Category == "" && w.from == "" && levelScope(f) == 3 {
				w.from = "cases INDEXED BY cases_street"
			}
			// PostgreSQL does the same for a district: it finds every
			// overdue case in cases_district_due (16,570 of 1 M cases:
			// 1.3-2.6 ms) and sorts them. Left to itself it walked the
			// district newest first, which is cheap until a flood puts
			// thousands of new reports, none of them overdue, ahead of the
			// first overdue one (43 ms at p95 right after 100,000). A
			// street has no such index: it walks its own (cases_street
			// holds the due time), as SQLite does.
			if db.Dialect == Postgres && f.Category == "" && w.alts == nil && f.Sort == SortNewest && levelScope(f) == 2 {
				w.fence = true
			}
			w.add(`due_at < ?`, ms(now))
		} else {
			w.add(`(due_at IS NULL OR due_at >= ?)`, ms(now))
		}
	}
	if !f.From.IsZero() {
		if db.Dialect == Postgres {
			// The same bound on the ID (reportedSinceID): the level indexes
			// (district_code, id) … hold it, so a district's or street's
			// week is one range of its index, walked newest first, however
			// old the statistics. With the report time alone PostgreSQL
			// read the whole city's week through cases_reported and kept
			// the district's (121 ms at p95 at 7.79 M cases), or walked a
			// street's whole history for a week of fewer than a page.
			// The report time is still tested, written so that the planner
			// neither drives the query from cases_reported nor counts the
			// test as narrowing the ID range a second time (which made the
			// range look a few rows long and chose a bitmap of it and the
			// city's week): beside id >= since, "reported_at >= from OR id
			// < since" is the same as "reported_at >= from", and PostgreSQL
			// estimates it as passing nearly every row.
			since := reportedSinceID(f.From)
			w.add(`(reported_at >= ? OR id < ?) AND id >= ?`, ms(f.From), since, since)
		} else if regionDepth(f) > 2 {
			// SQLite, a street or a narrower region: the same bound on
			// the ID, beside the report time as it is. Without samples of
			// the report times (SQLite's sampled ANALYZE keeps none) the
			// planner counts a range of them as a quarter of the table,
			// and a street's week was counted by reading the street's
			// whole history in its index (438 ms at 1 M cases, against
			// 0.7 ms for the week's range of it). A district's period is
			// left to cases_reported: the district's index holds the same
			// cases of the period, in wider entries (a one-district file's
			// month of 41,000 cases at 1 M was counted in 146-168 ms
			// through it, 133-158 ms through cases_reported).
			w.add(`reported_at >= ? AND id >= ?`, ms(f.From), reportedSinceID(f.From))
			// A period with an end too (the dashboard's): the planner
			// counted both ends of the report times' range as narrower
			// than the street's IDs since the start, and read the
			// district's month to count a street's (252 ms at 1 M cases,
			// 16 ms through the street's index). The region's own level
			// index over the IDs since the start holds exactly the
			// region's cases of the period, fewer than any other index
			// the listing's conditions could use, unless an earlier
			// condition chose its index, or the listing is a text search
			// through the full-text index, a map box, a grid's, a unit's or
			// a reporter's cases.
			if level, ok := levelIndex[regionDepth(f)]; ok && !f.To.IsZero() && w.from == "" && !f.textIndex && f.BBox == nil &&
				s.UnitID == "" && s.AccountID == "" && f.levelIndexDrives() {
				w.from = "cases INDEXED BY " + level
			}
		} else {
			w.add(`reported_at >= ?`, ms(f.From))
		}
	}
	if !f.To.IsZero() {
		w.add(`reported_at < ?`, ms(f.To))
	}
	if f.BBox != nil {
		// A map view: the point index narrows to the box, then the few
		// cases in it are sorted (walking a district in ID order would
		// read thousands of cases outside the box).
		hint := db.Dialect == SQLite && w.from == ""
		if hint && f.openOnly() {
			// The board's map: open cases only, a small partial index.
			w.from = "cases INDEXED BY cases_open_point"
			w.add(`closed_at IS NULL`)
		} else if db.Dialect == Postgres && f.openOnly() && f.Open == nil {
			// Open states imply closed_at IS NULL; said, it lets PostgreSQL
			// read the box from the open cases' point index (cases_open_point)
			// instead of every case the box ever held (a heap page each).
			w.add(`closed_at IS NULL`)
		}
		n := len(w.args)
		w.add(`lng >= ? AND lng <= ? AND lat >= ? AND lat <= ?`, f.BBox.Min.Lng, f.BBox.Max.Lng, f.BBox.Min.Lat, f.BBox.Max.Lat)
		if hint && !f.openOnly() {
			// Every case in the box: SQLite keeps the points in two
			// partial indexes, the open cases' and the closed cases'
			// (migration 38: a new report writes one point entry, not
			// two), and the box is read from each, the two ranges merged
			// in ID order (the outer conditions are pushed into both).
			box := fmt.Sprintf(`lng >= $%d AND lng <= $%d AND lat >= $%d AND lat <= $%d`, n+1, n+2, n+3, n+4)
			w.from = `(SELECT * FROM cases INDEXED BY cases_open_point WHERE closed_at IS NULL AND ` + box +
				` UNION ALL SELECT * FROM cases INDEXED BY cases_closed_point WHERE closed_at IS NOT NULL AND ` + box + `) AS cases`
		}
	}
	if q := strings.TrimSpace(f.Text); q != "" {
		if db.Dialect == SQLite {
			if f.textIndex {
				// Few matches: fetch them by rowid and sort; no other index
				// may drive the query.
				w.from = "cases NOT INDEXED"
				w.add(`rowid IN (SELECT rowid FROM case_fts WHERE case_fts MATCH ?)`, ftsPhrase(q))
			} else {
				// Walk the listing's own order and test each row: stops
				// after a page of matches, so common words are fast.
				w.add(bodyContains(q), q)
			}
		} else if f.textIndex {
			// ILIKE: SQLite's trigram index and LIKE ignore ASCII case too.
			// A long text is in body_long (migration 39): the cases whose
			// long text matches are found first, once, in its own partial
			// trigram index (an init plan: long texts are rare), and their
			// IDs probe the primary key beside the trigram index of body
			// (a BitmapOr). "body_long ILIKE ?" here would name a column
			// cases_street and cases_district_cover do not hold, and a
			// walk or count of a street or district testing each case
			// (the planner's choice for a common word) would read every
			// one from the table (see pgBodyContains).
			pat := "%" + likeEscape(q) + "%"
			w.add(`(body ILIKE ? OR id = ANY(ARRAY(SELECT lt.id FROM cases lt WHERE lt.body_long ILIKE ?)))`, pat, pat)
		} else {
			// The same test, in a form the trigram index cannot serve: for a
			// word shorter than a trigram it would read the whole index.
			w.add(pgBodyContains(q, "?", "cases"), q, q)
		}
	}
	if f.Supervised != nil {
		cond := `json_extract(doc, '$.supervised') = 1`
		if db.Dialect == Postgres {
			cond = `(doc::jsonb->>'supervised') = 'true'`
		}
		if !*f.Supervised {
			cond = `NOT COALESCE(` + cond + `, false)`
		}
		w.add(cond)
	}
	if f.Whistled != nil {
		cond := `COALESCE(json_array_length(doc, '$.whistles'), 0) > 0`
		if db.Dialect == Postgres {
			cond = `COALESCE(jsonb_array_length(doc::jsonb->'whistles'), 0) > 0`
		}
		if !*f.Whistled {
			cond = `NOT (` + cond + `)`
		}
		w.add(cond)
	}
	if f.After != "" {
		w.add(`id < ?`, f.After)
	}
	w.addCursor(f.Sort, f.Cursor)
	return w
}

// reportedSinceID is the least case ID a case reported at or after t can
// have: a case's ID is made from its report time (id.At(now) with
// ReportedAt = now, in the service's report and the leaders' on-site
// problems, in the scale and demo generators; reported_at is never
// updated; backup, restore and copies keep both), so its time part is the
// report time to the millisecond, and "reported_at >= t" selects exactly
// the cases with "id >= reportedSinceID(t)". The listing keeps the
// reported_at test beside it, so a row whose ID was made later than its
// report time (none is written so) would still not be listed wrongly; one
// whose ID were older than its report time would be missed.
func reportedSinceID(t time.Time) string { return id.First(time.UnixMilli(ms(t))) }

// maxIndexedMatches is the most trigram matches for which a search goes
// through the index (fetch the matches, sort them); beyond it the listing's
// own order is walked and each row tested, which stops after one page.
const maxIndexedMatches = 2000

// textPlan chooses how a text search runs: through the trigram index when
// the words are rare (a short list to sort), by walking the listing order
// and testing each row when they are common or shorter than a trigram. On
// SQLite the index counts the matches; on PostgreSQL a word of three
// characters or more may use the index and the planner decides (Cases first
// tries the newest rows, see textWindow).
func (db *DB) textPlan(ctx context.Context, f *CaseFilter) error {
	q := strings.TrimSpace(f.Text)
	f.textIndex = false
	if len([]rune(q)) < 3 {
		return nil
	}
	if db.Dialect == Postgres {
		f.textIndex = true
		return nil
	}
	var n int
	rows, err := db.queryList(ctx, `SELECT count(*) FROM (SELECT 1 FROM case_fts WHERE case_fts MATCH $1 LIMIT $2)`,
		ftsPhrase(q), maxIndexedMatches+1)
	if err == nil {
		if rows.Next() {
			err = rows.Scan(&n)
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("plan text search: %w", translate(err))
	}
	f.textIndex = n <= maxIndexedMatches
	return nil
}

// districtScope reports whether the filter's scope is exactly a district's
// subtree (a district commander's), with no other region condition.
func districtScope(f CaseFilter) bool { return levelScope(f) == 2 }

// queueStates reports whether every state of a listing is one of the center
// queue's (reported, accepted): the states of SQLite's cases_queue.
func queueStates(states []cases.State) bool {
	for _, st := range states {
		if st != cases.Reported && st != cases.Accepted {
			return false
		}
	}
	return len(states) > 0
}

// levelIndex is the level index of a region by its depth (regionDepth)
// below a district.
var levelIndex = map[int]string{3: "cases_street", 4: "cases_community", 5: "cases_grid"}

// regionDepth is the depth of the narrowest region path of a filter, its
// scope's or its own (2 a district, 3 a street), 0 when it has none.
func regionDepth(f CaseFilter) int {
	return max(routing.Depth(f.Scope.RegionPath), routing.Depth(f.RegionPath))
}

// levelIndexDrives reports whether a region's level index is the narrowest
// index a listing's conditions can use: no grid, reporter, unit or ID
// condition, each of which has an index (or a list) of its own.
func (f CaseFilter) levelIndexDrives() bool {
	return f.Grid == "" && f.Reporter == "" && f.Unit == "" && f.ActiveUnit == "" && len(f.IDs) == 0
}

// levelScope is the depth of the region whose whole subtree is the filter's
// scope (2 a district, 3 a street, 4 a community, 5 a grid), with no other
// region condition, or 0.
func levelScope(f CaseFilter) int {
	s := f.Scope
	if s.All || s.UnitID != "" || s.AccountID != "" || s.RegionPath == "" || f.RegionPath != "" || f.BBox != nil {
		return 0
	}
	codes := strings.Split(strings.Trim(s.RegionPath, "/"), "/")
	if codes[len(codes)-1] == "" {
		return 0
	}
	return len(codes)
}

// bodyContains is SQLite's test that a case's text contains q, ignoring
// the case of ASCII letters (as lower() and the trigram index do). Without
// an ASCII letter in q, lowering changes nothing that can match, and the
// bytes are compared as they are: lower() copied every text it tested
// through SQLite's allocator (one lock for the whole process in modernc),
// and a text argument is copied once more to end it with a NUL, where a
// BLOB is read in place. A byte match of UTF-8 in UTF-8 starts and ends on
// characters.
func bodyContains(q string) string {
	for i := 0; i < len(q); i++ {
		if c := q[i] | 0x20; c >= 'a' && c <= 'z' {
			return `instr(lower(body), lower(?)) > 0`
		}
	}
	return `instr(CAST(body AS BLOB), CAST(? AS BLOB)) > 0`
}

// pgBodyContains is PostgreSQL's test that a case's text contains q (the
// parameter written as param, twice), ignoring letter case as the trigram
// index's ILIKE does. When q has no character that lowering could produce
// or change — Chinese characters, ASCII digits and punctuation, CJK
// punctuation — lowering the text changes nothing that can match, and the
// text is searched as it is: lower() converted every text it tested (1.5 µs
// a case here, a few milliseconds of a text listing that tests thousands).
// Lowering maps each character to one character, so a match of such a q
// in the lowered text is one in the text, and the other way round.
//
// row names the tested row (the cases table, or a window of its rows with
// the id and body columns). Its body is tested; a long text (body NULL,
// migration 39) is read by the case's ID through case_long_text, a SQL
// function reading body_long: the walked rows' own reference names only
// body, so a listing that walks cases_street or cases_district_cover still
// reads the index alone (PostgreSQL reads an index alone only when it
// holds every column the query names of that table), and only the rare
// long text costs a lookup. Not a subquery (EXISTS or scalar): the
// planner charges a subquery's lookup to every row tested, not counting
// the body IS NULL before it that spares nearly all of them; a count of a
// district's cases then looked many times dearer than it is, and was
// planned as a sequential scan, compiled by JIT, where it is a parallel
// index-only scan; and it may plan an EXISTS as one hashed
// pass over every case. The function is declared cheap and parallel safe.
func pgBodyContains(q, param, row string) string {
	text, arg := `%s`, param
	for _, r := range q {
		if !(r < 0x80 && !('a' <= r|0x20 && r|0x20 <= 'z')) && !unicode.Is(unicode.Han, r) && !(0x3000 <= r && r <= 0x303f) {
			text, arg = `lower(%s)`, `lower(`+param+`)`
			break
		}
	}
	return `(strpos(` + fmt.Sprintf(text, `body`) + `, ` + arg + `) > 0 OR (body IS NULL AND strpos(` +
		fmt.Sprintf(text, `case_long_text(`+row+`.id)`) + `, ` + arg + `) > 0))`
}

// ftsPhrase quotes user text as one FTS5 phrase, so operators in it are inert.
func ftsPhrase(q string) string {
	return `"` + strings.ReplaceAll(q, `"`, `""`) + `"`
}

// likeEscape makes user text match literally in a LIKE pattern (backslash
// is the escape character of LIKE on both engines as we use it).
func likeEscape(q string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
}

// Cases lists cases matching the filter, newest first, at most f.Limit
// (default 50, at most 500). The cursor for the next page is the last ID.
func (db *DB) Cases(ctx context.Context, f CaseFilter) ([]cases.Case, error) {
	raw, err := db.list(ctx, f, selectDoc)
	if err != nil || len(raw) == 0 {
		return nil, err
	}
	out := make([]cases.Case, len(raw))
	for i, r := range raw {
		if err := decodeCaseDoc(r.doc, &out[i]); err != nil {
			return nil, fmt.Errorf("decode case: %w", err)
		}
	}
	return out, nil
}

// CaseItem is a listed case as the store keeps it (the item column): the
// case as a list shows it (cases.Item), encoded once when the case is
// written, exactly as the API answers it (encoding/json, HTML not escaped),
// and the clocks its countdown is computed from at the moment of a
// listing. A page of fifty is answered without decoding or encoding any of
// it (issue 19).
//
// The column holds the item's JSON, a line break, and the clocks: the
// headline clock's key, due and yellow times and the first due of all
// running clocks, separated by tabs, times in RFC 3339 (empty when zero).
// A build that changes cases.Item must empty the column in a migration
// (FillItems then writes it again).
type CaseItem struct {
	JSON   []byte // cases.Item as JSON
	Clocks cases.ItemClocks
}

// Item decodes the item.
func (ci CaseItem) Item() (cases.Item, error) {
	var it cases.Item
	err := decodeCaseDoc(ci.JSON, &it)
	return it, err
}

// ID is the listed case's ID (the item's first field).
func (ci CaseItem) ID() string {
	const pre = `{"id":"`
	if bytes.HasPrefix(ci.JSON, []byte(pre)) {
		if i := bytes.IndexByte(ci.JSON[len(pre):], '"'); i >= 0 {
			return string(ci.JSON[len(pre) : len(pre)+i])
		}
	}
	it, _ := ci.Item()
	return it.ID
}

// ItemDoc is the item column of a case (CaseItem).
func ItemDoc(c *cases.Case) (string, error) {
	it, ck := cases.ItemOf(c)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(it); err != nil { // ends with the line break
		return "", fmt.Errorf("encode case item: %w", err)
	}
	if strings.ContainsAny(ck.Key, "\t\n") {
		return "", fmt.Errorf("encode case item: clock key %q", ck.Key)
	}
	b.WriteString(ck.Key)
	for _, t := range []time.Time{ck.Due, ck.YellowAt, ck.FirstDue} {
		b.WriteByte('\t')
		if !t.IsZero() {
			b.Write(t.AppendFormat(nil, time.RFC3339Nano))
		}
	}
	return b.String(), nil
}

// parseItem reads an item column.
func parseItem(col []byte) (CaseItem, error) {
	i := bytes.IndexByte(col, '\n')
	if i < 0 {
		return CaseItem{}, errors.New("no clocks in the item column")
	}
	ci := CaseItem{JSON: col[:i:i]}
	f := strings.Split(string(col[i+1:]), "\t")
	if len(f) != 4 {
		return CaseItem{}, fmt.Errorf("item clocks %q", col[i+1:])
	}
	ci.Clocks.Key = f[0]
	for j, dst := range []*time.Time{&ci.Clocks.Due, &ci.Clocks.YellowAt, &ci.Clocks.FirstDue} {
		if f[j+1] == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f[j+1])
		if err != nil {
			return CaseItem{}, fmt.Errorf("item clocks: %w", err)
		}
		*dst = t
	}
	return ci, nil
}

// CaseItems lists the same cases as Cases, in the same order, as a list
// shows them: read from each row's item column, not from its document. A
// row without an item (written before migration 27 and not filled since,
// FillItems) is made from its document.
func (db *DB) CaseItems(ctx context.Context, f CaseFilter) ([]CaseItem, error) {
	raw, err := db.list(ctx, f, selectItem)
	if err != nil || len(raw) == 0 {
		return nil, err
	}
	out := make([]CaseItem, len(raw))
	for i, r := range raw {
		col := r.item
		if len(col) == 0 {
			var c cases.Case
			if err := decodeCaseDoc(r.doc, &c); err != nil {
				return nil, fmt.Errorf("decode case: %w", err)
			}
			s, err := ItemDoc(&c)
			if err != nil {
				return nil, err
			}
			col = []byte(s)
		}
		if out[i], err = parseItem(col); err != nil {
			return nil, fmt.Errorf("decode case item: %w", err)
		}
	}
	return out, nil
}

// What a listing selects of each case: its document, or its item (and the
// document only where the row has no item).
const (
	selectDoc  = `doc`
	selectItem = `item, CASE WHEN item = '' THEN doc ELSE '' END`
)

// rawCase is one listed row as read: the document, or the item and (for a
// row without one) the document.
type rawCase struct{ item, doc []byte }

// list runs the listing of f, selecting sel of each case, newest first (or
// in f.Sort's order).
func (db *DB) list(ctx context.Context, f CaseFilter, sel string) ([]rawCase, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 500 {
		f.Limit = 500
	}
	if f.Fact != nil {
		// The cases behind one figure (drill.go), then read by ID.
		ids, err := db.factCases(ctx, f, f.Limit)
		if err != nil || len(ids) == 0 {
			return nil, err
		}
		f = CaseFilter{Scope: Scope{All: true}, IDs: ids, Limit: len(ids)}
	}
	if db.Dialect == Postgres && strings.TrimSpace(f.Text) != "" && f.Sort == SortNewest && f.Cursor == nil {
		if found, ok, err := db.textWindow(ctx, f, sel); err != nil || ok {
			return found, err
		}
	}
	if err := db.textPlan(ctx, &f); err != nil {
		return nil, err
	}
	if db.Dialect == SQLite && !f.From.IsZero() && f.Sort == SortNewest && f.Cursor == nil && f.BBox == nil && !f.textIndex {
		if found, ok, err := db.recentWindow(ctx, f, sel); err != nil || ok {
			return found, err
		}
	}
	if db.Dialect == SQLite && f.Open != nil && *f.Open && f.Overdue != nil && *f.Overdue && f.Category == "" &&
		districtScope(f) && f.Sort == SortNewest && f.Cursor == nil && !f.textIndex {
		if found, ok, err := db.openOverdueWindow(ctx, f, sel); err != nil || ok {
			return found, err
		}
	}
	w := db.caseWhere(f)
	if db.Dialect == SQLite && f.Sort == SortReported && w.from == "" && f.BBox == nil && !f.textIndex {
		if found, ok, err := db.reportedWindow(ctx, f, w, sel); err != nil || ok {
			return found, err
		}
		if levelScope(f) == 3 && f.levelIndexDrives() {
			if found, ok, err := db.reportedByID(ctx, f, w, sel); err != nil || ok {
				return found, err
			}
		}
	}
	w.args = append(w.args, f.Limit)
	return db.queryRaw(ctx, listSQL(w, f.Sort, sel), sel, w.args)
}

// reportedByIDSlack is how many matches beyond a page reportedByID reads.
var reportedByIDSlack = 50

// reportedByID is SQLite's second try at a street's queue by report time
// (after reportedWindow): the street's own index walked newest ID first,
// the listing's conditions tested on the way (those on the state, the
// category, the due time and the text from the index, the others on the
// row), until a page and reportedByIDSlack more match. A case's ID is made
// from its report time or later (reportedSinceID), so a case not yet read,
// whose ID is below the last one read, was reported at or before that ID's
// time: the matches read, sorted by report time, hold the listing's page
// when its last case was reported at or after it (a tie is decided by the
// ID, which is larger for a case read). The planner read every case of the
// street in the state asked for, and sorted them: a street's closed queue,
// 100,000 cases at 1 M, took 0.3 s. ok is false when the matches read do
// not decide the page (cases reported long before their IDs were made):
// the planner's plan runs.
func (db *DB) reportedByID(ctx context.Context, f CaseFilter, w *where, sel string) ([]rawCase, bool, error) {
	n := f.Limit + reportedByIDSlack
	rows, err := db.read.QueryContext(ctx, `SELECT id, reported_at FROM cases INDEXED BY cases_street`+w.sql()+
		` ORDER BY id DESC LIMIT `+strconv.Itoa(n), w.args...)
	if err != nil {
		return nil, false, fmt.Errorf("list cases: %w", translate(err))
	}
	defer rows.Close()
	type match struct {
		id string
		at int64
	}
	var read []match
	for rows.Next() {
		var m match
		if err := rows.Scan(&m.id, &m.at); err != nil {
			return nil, false, fmt.Errorf("list cases: %w", err)
		}
		read = append(read, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list cases: %w", translate(err))
	}
	if len(read) == 0 {
		return nil, true, nil
	}
	var bound int64 // the last ID's time; every case not read was reported at or before it
	if len(read) == n {
		t, ok := id.Time(read[len(read)-1].id)
		if !ok {
			return nil, false, nil
		}
		bound = ms(t)
	}
	slices.SortFunc(read, func(a, b match) int {
		if a.at != b.at {
			return cmp.Compare(b.at, a.at)
		}
		return strings.Compare(b.id, a.id)
	})
	page := read[:min(f.Limit, len(read))]
	if len(read) == n && page[len(page)-1].at < bound {
		return nil, false, nil
	}
	ids := make([]string, len(page))
	for i, m := range page {
		ids[i] = m.id
	}
	byID := &where{}
	byID.in("id", ids)
	found, err := db.queryRaw(ctx, `SELECT `+sel+` FROM cases`+byID.sql()+` ORDER BY `+orderSQL(SortReported), sel, byID.args)
	return found, true, err
}

// reportedWindowRows is the window of reportedWindow.
var reportedWindowRows = 2000

// reportedWindow is SQLite's first try at a queue by report time that the
// open cases' index does not answer (the board with every state, or a
// closed one): the file's next reportedWindowRows cases by report time
// (after the cursor), read from cases_reported newest first, then tested
// for the listing's conditions (w, the listing's without an index hint),
// stopping at a page. The window is a prefix of the listing's order, so a
// page found in it is the listing's page. Left to the planner, a district's
// queue walked the district's index and sorted its whole history (4 s at
// 1 M cases) wherever the statistics carried no samples of the district
// (SQLite's sampled ANALYZE keeps none): a district's or street's queue
// fills its page among the newest cases. ok is false when the window
// neither filled the page nor held the rest of the listing (a rare state,
// a grid's queue): the planner's plan runs.
func (db *DB) reportedWindow(ctx context.Context, f CaseFilter, w *where, sel string) ([]rawCase, bool, error) {
	win := func(base int) (string, []any) {
		q := `SELECT id FROM cases INDEXED BY cases_reported`
		var args []any
		if c := f.Cursor; c != nil {
			q += fmt.Sprintf(` WHERE (reported_at < $%d OR (reported_at = $%[1]d AND id < $%d))`, base+1, base+2)
			args = []any{c.Key, c.ID}
		}
		return q + ` ORDER BY reported_at DESC, id DESC LIMIT ` + strconv.Itoa(reportedWindowRows), args
	}
	n := len(w.args)
	inner, winArgs := win(n)
	order := orderSQL(SortReported)
	args := append(slices.Clone(w.args), winArgs...)
	args = append(args, f.Limit)
	cond := strings.TrimPrefix(w.sql(), " WHERE ")
	if cond != "" {
		cond = ` AND ` + cond
	}
	q := `SELECT ` + sel + ` FROM cases WHERE id IN (SELECT id FROM cases WHERE id IN (` + inner + `)` + cond +
		` ORDER BY ` + order + ` LIMIT $` + strconv.Itoa(len(args)) + `) ORDER BY ` + order
	count, countArgs := win(0)
	return db.windowAnswer(ctx, q, args, count, countArgs, sel, f.Limit, reportedWindowRows)
}

// openOverdueRows is the window of openOverdueWindow.
var openOverdueRows = 400

// openOverdueWindow is SQLite's first try at a district's open overdue
// cases (the command board's red panel): the district's newest
// openOverdueRows overdue cases, read from cases_overdue alone (it holds the
// due time, the district and the ID), then each read for whether it is open,
// newest first, stopping at a page. The plan of the whole listing tested
// every overdue case of the district for being open, a row read each (about
// 17,000 at 1 M cases: 41 ms at p50, 8 ms with the window); nearly every
// case with a running clock is open, so the window fills its page. ok is
// false when the window neither filled the page nor held every overdue case
// (the caller then runs the whole listing).
func (db *DB) openOverdueWindow(ctx context.Context, f CaseFilter, sel string) ([]rawCase, bool, error) {
	g := f
	g.Open = nil
	w := db.caseWhere(g)
	win := `SELECT id` + w.table() + w.sql() + ` ORDER BY id DESC LIMIT ` + strconv.Itoa(openOverdueRows)
	q := `SELECT ` + sel + ` FROM cases WHERE id IN (SELECT id FROM cases WHERE id IN (` + win + `)
		AND closed_at IS NULL AND state <> 'held' ORDER BY id DESC LIMIT $` + strconv.Itoa(len(w.args)+1) + `) ORDER BY id DESC`
	return db.windowAnswer(ctx, q, append(w.args, f.Limit), win, w.args, sel, f.Limit, openOverdueRows)
}

// windowAnswer runs q, a page of a listing taken from the window win (at
// most rows cases, its arguments winArgs), and says whether it answered the
// listing: it did when it filled the page of limit, or when the window held
// fewer than rows cases (then it held the whole listing).
func (db *DB) windowAnswer(ctx context.Context, q string, args []any, win string, winArgs []any, sel string, limit, rows int) ([]rawCase, bool, error) {
	found, err := db.queryRaw(ctx, q, sel, args)
	if err != nil || len(found) == limit {
		return found, true, err
	}
	var in int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM (`+win+`) win`, winArgs...).Scan(&in); err != nil {
		return nil, false, fmt.Errorf("list cases: %w", translate(err))
	}
	return found, in < rows, nil
}

// recentWindow is SQLite's first try at a listing of cases reported since
// a time (the last 7 days): the listing's newest recentWindowRows cases
// without the time bound, in ID order, tested for the bound, stopping at a
// page. A recent window fills its page among the newest cases. Left to the
// planner, the reported_at index looked selective from statistics sampled
// before a flood of reports, and a district's last 7 days read and sorted
// every report of the flood (20 ms → 800 ms at p50 after 100,000 reports
// on a million cases); the walk does not depend on statistics. ok is false
// when the window neither filled the page nor held the whole listing: the
// bound is far back, and the planner's plan runs.
func (db *DB) recentWindow(ctx context.Context, f CaseFilter, sel string) ([]rawCase, bool, error) {
	from := f.From
	f.From = time.Time{}
	return db.window(ctx, f, sel, `reported_at`, `reported_at >= $%d`, ms(from), recentWindowRows)
}

// window lists f's newest rows cases (selecting col), keeps those meeting
// cond (a condition on col of the window's rows, named win, whose one
// parameter, written $%d or $%[1]d wherever it is used, is arg) up to a page,
// and answers them selecting sel. ok is false when the window neither
// filled the page nor held the whole listing (the caller then asks the
// planner).
func (db *DB) window(ctx context.Context, f CaseFilter, sel, col, cond string, arg any, rows int) ([]rawCase, bool, error) {
	w := db.caseWhere(f)
	win := `SELECT id, ` + col + w.table() + w.sql() + ` ORDER BY id DESC LIMIT ` + strconv.Itoa(rows)
	n := len(w.args)
	if db.Dialect == Postgres {
		return db.windowPG(ctx, f, w, win, sel, cond, arg, rows)
	}
	q := `SELECT ` + sel + ` FROM cases WHERE id IN (SELECT id FROM (` + win + `) win
		WHERE ` + fmt.Sprintf(cond, n+1) + ` ORDER BY id DESC LIMIT $` + strconv.Itoa(n+2) + `) ORDER BY id DESC`
	return db.windowAnswer(ctx, q, append(w.args, arg, f.Limit), win, w.args, sel, f.Limit, rows)
}

// windowPG is window in one statement. The window's rows are numbered as
// they are read (row_number over the window's own order, which streams),
// and besides the matches the window's last row (number rows) is kept as a
// marker: when fewer than a page match, the walk has read the whole window
// by then, and the marker is there exactly when the window was full. The
// count came from a second statement that read the window once more: for
// a rare word in a district, 4,000 index entries and, for rows not yet
// marked all-visible (a flood's), as many heap rows again. The matches'
// documents are joined on; the marker's, unless it matches, are not read.
func (db *DB) windowPG(ctx context.Context, f CaseFilter, w *where, win, sel, cond string, arg any, rows int) ([]rawCase, bool, error) {
	r, err := db.queryList(ctx, windowPGSQL(w, win, sel, cond, rows), append(w.args, arg, f.Limit)...)
	if err != nil {
		return nil, false, fmt.Errorf("list cases: %w", translate(err))
	}
	defer r.Close()
	var found []rawCase
	full := false
	for r.Next() {
		var id string
		var match bool
		var rn int64
		var c rawCase
		if sel == selectDoc {
			err = r.Scan(&id, &match, &rn, &c.doc)
		} else {
			err = r.Scan(&id, &match, &rn, &c.item, &c.doc)
		}
		if err != nil {
			return nil, false, fmt.Errorf("list cases: %w", translate(err))
		}
		if rn == int64(rows) {
			full = true
		}
		if match {
			found = append(found, c)
		}
	}
	if err := r.Err(); err != nil {
		return nil, false, fmt.Errorf("list cases: %w", translate(err))
	}
	return found, len(found) == f.Limit || !full, nil
}

// windowPGSQL is windowPG's statement: w's arguments, then arg and the
// page's length.
func windowPGSQL(w *where, win, sel, cond string, rows int) string {
	n := len(w.args)
	return `SELECT h.id, h.m, h.rn, ` + sel + ` FROM (SELECT id, m, rn FROM (
			SELECT id, ` + fmt.Sprintf(cond, n+1) + ` AS m, row_number() OVER (ORDER BY id DESC) AS rn FROM (` + win + `) win) x
			WHERE m OR rn = ` + strconv.Itoa(rows) + ` ORDER BY id DESC LIMIT $` + strconv.Itoa(n+2) + `) h
		LEFT JOIN cases ON cases.id = h.id AND h.m ORDER BY h.id DESC`
}

// recentWindowRows is how many of a listing's newest cases recentWindow
// tests (a variable for the tests).
var recentWindowRows = 4000

// textWindow is PostgreSQL's first try at a text search: walk the newest
// textWindowRows cases of the listing, testing each, and stop at a page of
// matches. A common word fills a page there (a street's 50 newest matches of
// a word in 2% of cases are among its newest 2,500), far cheaper than the
// trigram index, which first builds a bitmap of every match in the city. ok
// is false when the window neither filled the page nor held the whole
// listing: the word is rare, and the index finds it.
func (db *DB) textWindow(ctx context.Context, f CaseFilter, sel string) ([]rawCase, bool, error) {
	text := strings.TrimSpace(f.Text)
	f.Text = ""
	return db.window(ctx, f, sel, `body`, pgBodyContains(text, "$%[1]d", "win"), text, textWindowRows)
}

// textWindowRows is how many of a listing's newest cases textWindow tests
// (a variable for the tests).
var textWindowRows = 4000

// queryRaw runs a listing's query selecting sel (selectDoc or selectItem).
func (db *DB) queryRaw(ctx context.Context, q, sel string, args []any) ([]rawCase, error) {
	rows, err := db.queryList(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", translate(err))
	}
	defer rows.Close()
	var out []rawCase
	for rows.Next() {
		var r rawCase
		if sel == selectDoc {
			err = rows.Scan(&r.doc)
		} else {
			err = rows.Scan(&r.item, &r.doc)
		}
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", translate(err))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list cases: %w", translate(err))
	}
	return out, nil
}

// queryCases runs a query selecting case documents.
func (db *DB) queryCases(ctx context.Context, what, q string, args []any) ([]cases.Case, error) {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	defer rows.Close()
	var out []cases.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// queryIDs runs a query selecting one text column (IDs) and returns its
// values in the query's order.
func (db *DB) queryIDs(ctx context.Context, what, q string, args ...any) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("%s: %w", what, translate(err))
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// CountCases counts cases matching the filter (cursor and limit ignored).
func (db *DB) CountCases(ctx context.Context, f CaseFilter) (int, error) {
	n, _, err := db.CountCasesUpTo(ctx, f, 0)
	return n, err
}

// CountCasesUpTo counts cases matching the filter (cursor and limit
// ignored), when limit > 0 only up to it: more says that more than n (then
// limit) match. A list's total shown above its first page is counted so:
// the whole history of a district (a million cases) is not walked at each
// view to say how many are closed.
//
// The open cases of a region (the command board as it opens, with its
// region, state, overdue and date filters) are counted in the partial index
// of the open cases alone (openIndexed, caseWhere), exactly whatever the limit
// (that index holds the open cases only, not the history): a district's
// cases_district (or the street's index) holds neither the state nor the
// closing time, so counting its open cases read every case of its history
// (3.1 s at 1 M cases on SQLite, BenchmarkBoardTotal).
func (db *DB) CountCasesUpTo(ctx context.Context, f CaseFilter, limit int) (n int, more bool, err error) {
	f.After, f.Cursor = "", nil
	if f.Fact != nil {
		ids, err := db.factCases(ctx, f, 0)
		return len(ids), false, err
	}
	if err := db.textPlan(ctx, &f); err != nil {
		return 0, false, err
	}
	q, args, capped := db.countQuery(f, limit)
	if err := db.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("count cases: %w", translate(err))
	}
	if capped && n > limit {
		return limit, true, nil
	}
	return n, false, nil
}

// countQuery is CountCasesUpTo's statement for f (its text planned) and its
// arguments, and whether it stops at limit+1: a count the open cases'
// index answers alone is exact.
func (db *DB) countQuery(f CaseFilter, limit int) (string, []any, bool) {
	f.openIndex = f.openIndexed()
	w := db.caseWhere(f)
	if limit > 0 && !f.openIndex {
		return `SELECT COUNT(*) FROM (SELECT 1` + w.table() + w.sql() + ` LIMIT ` + strconv.Itoa(limit+1) + `) n`, w.args, true
	}
	return `SELECT COUNT(*)` + w.table() + w.sql(), w.args, false
}

// openScoped reports whether f asks for open cases only (none held) of a
// region's subtree or of every region, with no map box and no text: cases
// the open cases' partial index holds (caseWhere).
func (f CaseFilter) openScoped() bool {
	s := f.Scope
	return f.openOnly() && !slices.Contains(f.States, cases.Held) && f.BBox == nil && strings.TrimSpace(f.Text) == "" &&
		(s.All || s.RegionPath != "") && s.UnitID == "" && len(s.Units) == 0 && s.AlsoUnit == "" && s.AccountID == "" && s.Person == ""
}

// openIndexed reports whether the open cases' partial index answers f
// alone: openScoped, and no condition but on the columns both engines' index
// holds (the region, the state, the due and report times: SQLite's
// cases_open_overdue reads nothing else, PostgreSQL's cases_open_due reads
// the region's open cases).
func (f CaseFilter) openIndexed() bool {
	return f.openScoped() && f.CenterPath == "" && f.Grid == "" && f.Category == "" && f.Board == "" && f.Unit == "" &&
		f.ActiveUnit == "" && f.Severity == "" && f.Source == "" && f.Reporter == "" && len(f.IDs) == 0 && len(f.Categories) == 0 &&
		f.UpdatedFrom.IsZero() && f.UpdatedTo.IsZero() && f.Supervised == nil && f.Whistled == nil && f.Fact == nil
}

// CountOverdue counts the open cases in scope with a running clock past due
// at now (the command board's 超期未结): CountCases with the open and overdue
// filters. A region's scope (a commander's, a leader's) is counted in the
// partial index of the open cases alone (CaseFilter.openIndexed): on
// PostgreSQL cases_open_due (migration 29, region path and due time),
// reading the region's open cases; on SQLite cases_open_overdue (migrations
// 31 and 42, due time first, which a report's write touches at the index's
// end instead of at a random leaf), reading the file's overdue open cases
// and testing each one's region path.
func (db *DB) CountOverdue(ctx context.Context, s Scope, now time.Time) (int, error) {
	open, overdue := true, true
	return db.CountCases(ctx, CaseFilter{Scope: s, Open: &open, Overdue: &overdue, Now: now})
}

// Nearby lists open cases of a category within about radius meters of p,
// nearest first, excluding one case: the possible duplicates.
func (db *DB) Nearby(ctx context.Context, category string, p geo.Point, radius float64, exclude string, limit int) ([]cases.Case, error) {
	dLat := radius / 111320
	dLng := radius / (111320 * cosDeg(p.Lat))
	rows, err := db.read.QueryContext(ctx, `SELECT doc FROM cases WHERE category = $1 AND closed_at IS NULL AND state <> 'held' AND id <> $2
		AND lng BETWEEN $3 AND $4 AND lat BETWEEN $5 AND $6 ORDER BY id DESC LIMIT 200`,
		category, exclude, p.Lng-dLng, p.Lng+dLng, p.Lat-dLat, p.Lat+dLat)
	if err != nil {
		return nil, fmt.Errorf("nearby cases: %w", translate(err))
	}
	defer rows.Close()
	var out []cases.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		if c.Point != nil && geo.Distance(p, *c.Point) <= radius {
			out = append(out, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortByDistance(out, p)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// DueClock is a clock event the sweeper claimed.
type DueClock struct {
	CaseID string
	Key    string
	Kind   string // yellow, red, escalate
}

// ClaimDue marks up to limit clock events due at now as fired and returns
// them. It runs inside the same transaction that acts on them, so an event is
// fired exactly once: a crash before commit un-claims it.
func (t *Tx) ClaimDue(ctx context.Context, now time.Time, limit int) ([]DueClock, error) {
	// On PostgreSQL, sweepers on several nodes claim at once: skip the rows
	// another transaction holds instead of waiting for them, or two claims
	// that picked overlapping rows in different orders deadlock.
	lock := ""
	if t.dialect == Postgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := t.Query(ctx, `SELECT case_id, key, yellow_at, due_at, escalate_at, yellow_fired, red_fired, escalated
		FROM clocks WHERE next_at <= $1 ORDER BY next_at LIMIT $2`+lock, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim clocks: %w", err)
	}
	type row struct {
		caseID, key string
		times       [3]int64 // yellow, red (due), escalate
		fired       [3]int
	}
	var found []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.caseID, &r.key, &r.times[0], &r.times[1], &r.times[2], &r.fired[0], &r.fired[1], &r.fired[2]); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim clocks: %w", err)
		}
		found = append(found, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim clocks: %w", err)
	}
	kinds := [3]string{"yellow", "red", "escalate"}
	type claim struct {
		row    row
		fired  [3]int
		next   *int64
		events []DueClock
	}
	claims := make([]claim, 0, len(found))
	for _, r := range found {
		cl := claim{row: r, fired: r.fired}
		for i := range kinds {
			if cl.fired[i] == 0 && r.times[i] <= ms(now) {
				cl.fired[i] = 1
				cl.events = append(cl.events, DueClock{CaseID: r.caseID, Key: r.key, Kind: kinds[i]})
			}
		}
		for i := range kinds {
			if cl.fired[i] == 0 {
				cl.next = &r.times[i]
				break
			}
		}
		claims = append(claims, cl)
	}
	// The flags are compared, so a claim another node made first changes
	// nothing here and fires nothing twice.
	var out []DueClock
	if t.dialect == SQLite {
		for _, cl := range claims {
			r := cl.row
			var next any
			if cl.next != nil {
				next = *cl.next
			}
			res, err := t.Exec(ctx, `UPDATE clocks SET yellow_fired = $3, red_fired = $4, escalated = $5, next_at = $6
				WHERE case_id = $1 AND key = $2 AND yellow_fired = $7 AND red_fired = $8 AND escalated = $9`,
				r.caseID, r.key, cl.fired[0], cl.fired[1], cl.fired[2], next, r.fired[0], r.fired[1], r.fired[2])
			if err != nil {
				return nil, fmt.Errorf("claim clock %s %s: %w", r.caseID, r.key, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				out = append(out, cl.events...)
			}
		}
		return out, nil
	}
	// PostgreSQL: one statement for the whole claim (a burst of due clocks
	// after an outage or at the start of a working day is thousands).
	if len(claims) == 0 {
		return nil, nil
	}
	n := len(claims)
	caseIDs, keys := make([]string, n), make([]string, n)
	var flags [6][]int64
	for i := range flags {
		flags[i] = make([]int64, n)
	}
	next := make([]*int64, n)
	for i, cl := range claims {
		caseIDs[i], keys[i], next[i] = cl.row.caseID, cl.row.key, cl.next
		for k := range 3 {
			flags[k][i], flags[3+k][i] = int64(cl.fired[k]), int64(cl.row.fired[k])
		}
	}
	rows, err = t.Query(ctx, `UPDATE clocks c SET yellow_fired = u.yf, red_fired = u.rf, escalated = u.es, next_at = u.nx
		FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[])
			AS u(case_id, key, yf, rf, es, oyf, orf, oes, nx)
		WHERE c.case_id = u.case_id AND c.key = u.key AND c.yellow_fired = u.oyf AND c.red_fired = u.orf AND c.escalated = u.oes
		RETURNING c.case_id, c.key`, caseIDs, keys, flags[0], flags[1], flags[2], flags[3], flags[4], flags[5], next)
	if err != nil {
		return nil, fmt.Errorf("claim clocks: %w", err)
	}
	claimed := map[[2]string]bool{}
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim clocks: %w", err)
		}
		claimed[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim clocks: %w", err)
	}
	for _, cl := range claims {
		if claimed[[2]string{cl.row.caseID, cl.row.key}] {
			out = append(out, cl.events...)
		}
	}
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cosDeg(d float64) float64 { return math.Cos(d * math.Pi / 180) }

func sortByDistance(cs []cases.Case, p geo.Point) {
	sort.SliceStable(cs, func(i, j int) bool {
		return geo.Distance(p, *cs[i].Point) < geo.Distance(p, *cs[j].Point)
	})
}

// InsertSteps appends further steps (used when loading a case's history).
func (t *Tx) InsertSteps(ctx context.Context, steps []cases.Step) error {
	for i := range steps {
		if err := t.insertStep(ctx, &steps[i]); err != nil {
			return err
		}
	}
	return nil
}

// openOnly reports whether the filter asks for open cases only.
func (f CaseFilter) openOnly() bool {
	if f.Open != nil {
		return *f.Open
	}
	if len(f.States) == 0 {
		return false
	}
	for _, st := range f.States {
		if !st.Open() {
			return false
		}
	}
	return true
}

// listSQL selects a page of case documents. The inner query finds and
// orders the IDs only, so a plan that must sort (a map box, a rare word, the
// overdue cards) sorts short keys, not whole documents.
func listSQL(w *where, sort, sel string) string {
	order := orderSQL(sort)
	limit := `$` + strconv.Itoa(len(w.args))
	if len(w.alts) > 1 {
		// A page from each alternative of the scope, by its own index, and
		// the page of their union (where.alts).
		branches := make([]string, len(w.alts))
		for i, alt := range w.alts {
			parts := slices.Clone(w.parts)
			parts[w.altAt] = alt
			branches[i] = `(SELECT id` + w.table() + ` WHERE ` + strings.Join(parts, ` AND `) + ` ORDER BY ` + order + ` LIMIT ` + limit + `)`
		}
		return `SELECT ` + sel + ` FROM cases WHERE id IN (` + strings.Join(branches, ` UNION ALL `) + `) ORDER BY ` + order + ` LIMIT ` + limit
	}
	if w.fence && sort == SortNewest {
		// OFFSET 0 keeps the planner from pushing the order and the limit
		// into the scan: it finds every match the cheapest way, then sorts.
		return `SELECT ` + sel + ` FROM cases WHERE id IN (SELECT id FROM (SELECT id` + w.table() + w.sql() + ` OFFSET 0) AS fenced ORDER BY id DESC LIMIT ` + limit + `) ORDER BY id DESC`
	}
	return `SELECT ` + sel + ` FROM cases WHERE id IN (SELECT id` + w.table() + w.sql() + ` ORDER BY ` + order + ` LIMIT $` +
		strconv.Itoa(len(w.args)) + `) ORDER BY ` + order
}

// ExplainCases returns the engine's query plan for a listing, for benchmarks
// and operations (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN).
func (db *DB) ExplainCases(ctx context.Context, f CaseFilter) (string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if err := db.textPlan(ctx, &f); err != nil {
		return "", err
	}
	w := db.caseWhere(f)
	w.args = append(w.args, f.Limit)
	q := listSQL(w, f.Sort, selectDoc)
	prefix, col := `EXPLAIN QUERY PLAN `, 3
	if db.Dialect == Postgres {
		prefix, col = `EXPLAIN `, 0
	}
	rows, err := db.read.QueryContext(ctx, prefix+q, w.args...)
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	b.WriteString(q + "\n")
	for rows.Next() {
		vals, err := scanValues(rows, len(cols))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "  %v\n", vals[col])
	}
	return b.String(), rows.Err()
}

// itemsFilled is the setting that says FillItems has finished.
const itemsFilled = "case_items_filled"

// FillItems writes the item (CaseItem) of every case that has none: the
// cases written before migration 27. A page of cases per transaction; a
// row changed meanwhile already has its item and is left alone. progress,
// when set, is told the cases filled so far. It returns how many it filled.
func (db *DB) FillItems(ctx context.Context, progress func(done int)) (int, error) {
	// Once a fill has finished, every later write has written its item:
	// the marker spares the next 'zhizhi migrate' a walk of every case.
	var filled bool
	if err := db.Setting(ctx, itemsFilled, &filled); err == nil && filled {
		return 0, nil
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	const page = 1000
	after, done := "", 0
	for {
		rows, err := db.read.QueryContext(ctx, `SELECT id, doc FROM cases WHERE id > $1 AND item = '' ORDER BY id LIMIT $2`, after, page)
		if err != nil {
			return done, fmt.Errorf("read cases: %w", translate(err))
		}
		var ids, items []string
		for rows.Next() {
			var id string
			var doc []byte
			if err := rows.Scan(&id, &doc); err != nil {
				rows.Close()
				return done, fmt.Errorf("read cases: %w", translate(err))
			}
			var c cases.Case
			if err := decodeCaseDoc(doc, &c); err != nil {
				rows.Close()
				return done, fmt.Errorf("case %s: %w", id, err)
			}
			item, err := ItemDoc(&c)
			if err != nil {
				rows.Close()
				return done, err
			}
			ids, items = append(ids, id), append(items, item)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return done, fmt.Errorf("read cases: %w", translate(err))
		}
		if len(ids) == 0 {
			if _, err := db.write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, 'true') ON CONFLICT (key) DO UPDATE SET value = excluded.value`, itemsFilled); err != nil {
				return done, fmt.Errorf("mark the case items filled: %w", translate(err))
			}
			return done, nil
		}
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return done, err
		}
		for i, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET item = $1 WHERE id = $2 AND item = ''`, items[i], id); err != nil {
				tx.Rollback()
				return done, fmt.Errorf("write case item: %w", translate(err))
			}
		}
		if err := tx.Commit(); err != nil {
			return done, translate(err)
		}
		done += len(ids)
		after = ids[len(ids)-1]
		if progress != nil {
			progress(done)
		}
	}
}
