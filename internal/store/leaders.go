package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/leaders"
)

// The leaders' records (issue 13, migration 13): each row keeps its indexed
// columns and the whole record as JSON.

func encodeDoc(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// scanDocs reads rows of one doc column into a slice of T.
func scanDocs[T any](rows *sql.Rows, err error, what string) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		var v T
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return nil, fmt.Errorf("%s: decode: %w", what, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func decodeDoc[T any](doc string, err error, what string) (T, error) {
	var v T
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, translate(err))
	}
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return v, fmt.Errorf("%s: decode: %w", what, err)
	}
	return v, nil
}

// query builds prefix + WHERE + suffix; each "?" in suffix takes the next
// argument of extra.
func (w *where) query(prefix, suffix string, extra ...any) (string, []any) {
	args := append([]any(nil), w.args...)
	for _, a := range extra {
		args = append(args, a)
		suffix = strings.Replace(suffix, "?", "$"+strconv.Itoa(len(args)), 1)
	}
	return prefix + w.sql() + suffix, args
}

// pathCond adds a subtree condition on region_path to w (nothing for "").
func pathCond(w *where, path string) {
	if path != "" {
		lo, hi := prefixRange(path)
		w.add(`region_path >= ? AND region_path < ?`, lo, hi)
	}
}

// PutPairing inserts or replaces a pairing.
func (t *Tx) PutPairing(ctx context.Context, p leaders.Pairing) error {
	doc, err := encodeDoc(p)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO leader_pairings (id, leader_id, region_path, from_at, to_at, doc) VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (id) DO UPDATE SET leader_id = excluded.leader_id, region_path = excluded.region_path,
			from_at = excluded.from_at, to_at = excluded.to_at, doc = excluded.doc`,
		p.ID, p.LeaderID, p.RegionPath, ms(p.From), ms(p.To), doc)
	if err != nil {
		return fmt.Errorf("put pairing: %w", err)
	}
	return nil
}

// DeletePairing removes a pairing.
func (t *Tx) DeletePairing(ctx context.Context, id string) error {
	r, err := t.Exec(ctx, `DELETE FROM leader_pairings WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete pairing: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Pairing reads one pairing.
func (db *DB) Pairing(ctx context.Context, id string) (leaders.Pairing, error) {
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM leader_pairings WHERE id = $1`, id).Scan(&doc)
	return decodeDoc[leaders.Pairing](doc, err, "pairing")
}

// PairingFilter selects pairings. Zero fields do not filter.
type PairingFilter struct {
	LeaderID string
	Under    string    // the target lies in this subtree
	At       time.Time // the pairing holds at this instant
}

// Pairings lists pairings by leader and target.
func (db *DB) Pairings(ctx context.Context, f PairingFilter) ([]leaders.Pairing, error) {
	var w where
	if f.LeaderID != "" {
		w.add(`leader_id = ?`, f.LeaderID)
	}
	pathCond(&w, f.Under)
	if !f.At.IsZero() {
		w.add(`from_at <= ? AND to_at > ?`, ms(f.At), ms(f.At))
	}
	q, args := w.query(`SELECT doc FROM leader_pairings`, ` ORDER BY leader_id, region_path, id LIMIT 2000`)
	rows, err := db.read.QueryContext(ctx, q, args...)
	return scanDocs[leaders.Pairing](rows, err, "list pairings")
}

// VisitByClientRef returns the visit a recorder already sent with this
// reference (an offline phone's retry).
func (t *Tx) VisitByClientRef(ctx context.Context, recordedBy, ref string) (leaders.Visit, error) {
	var doc string
	err := t.QueryRow(ctx, `SELECT doc FROM leader_visits WHERE recorded_by = $1 AND client_ref = $2`, recordedBy, ref).Scan(&doc)
	return decodeDoc[leaders.Visit](doc, err, "visit")
}

// InsertVisit stores a visit and links the cases its problems became.
func (t *Tx) InsertVisit(ctx context.Context, v leaders.Visit) error {
	doc, err := encodeDoc(v)
	if err != nil {
		return err
	}
	if _, err := t.Exec(ctx, `INSERT INTO leader_visits (id, leader_id, recorded_by, client_ref, region_path, street_code, at, doc)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, v.ID, v.LeaderID, v.RecordedBy, v.ClientRef, v.RegionPath, v.StreetCode, ms(v.At), doc); err != nil {
		return fmt.Errorf("insert visit: %w", err)
	}
	for _, c := range v.CaseIDs {
		if _, err := t.Exec(ctx, `INSERT INTO visit_cases (case_id, visit_id, leader_id, street_code, at) VALUES ($1,$2,$3,$4,$5)`,
			c, v.ID, v.LeaderID, v.StreetCode, ms(v.At)); err != nil {
			return fmt.Errorf("link visit case: %w", err)
		}
	}
	return nil
}

// Visit reads one visit.
func (db *DB) Visit(ctx context.Context, id string) (leaders.Visit, error) {
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM leader_visits WHERE id = $1`, id).Scan(&doc)
	return decodeDoc[leaders.Visit](doc, err, "visit")
}

// VisitFilter selects visits. Zero fields do not filter.
type VisitFilter struct {
	LeaderID   string
	StreetCode string
	Under      string    // the visit took place in this subtree
	From, To   time.Time // visited in [From, To)
	Limit      int
}

func (f VisitFilter) where() where {
	var w where
	if f.LeaderID != "" {
		w.add(`leader_id = ?`, f.LeaderID)
	}
	if f.StreetCode != "" {
		w.add(`street_code = ?`, f.StreetCode)
	}
	pathCond(&w, f.Under)
	if !f.From.IsZero() {
		w.add(`at >= ?`, ms(f.From))
	}
	if !f.To.IsZero() {
		w.add(`at < ?`, ms(f.To))
	}
	return w
}

// Visits lists visits, newest first.
func (db *DB) Visits(ctx context.Context, f VisitFilter) ([]leaders.Visit, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	w := f.where()
	q, args := w.query(`SELECT doc FROM leader_visits`, ` ORDER BY at DESC, id DESC LIMIT ?`, f.Limit)
	rows, err := db.read.QueryContext(ctx, q, args...)
	return scanDocs[leaders.Visit](rows, err, "list visits")
}

// VisitTotal is one row of the visits' totals.
type VisitTotal struct {
	Key      string `json:"key"`      // the leader's account, the street's code or the month (YYYY-MM)
	Visits   int    `json:"visits"`   // on-site office visits
	Problems int    `json:"problems"` // problems raised (cases made from them)
	Solved   int    `json:"solved"`   // of those, cases closed
}

// TotalsBy names the dimension of the totals.
type TotalsBy string

// The dimensions of the totals.
const (
	TotalsByLeader TotalsBy = "leader"
	TotalsByStreet TotalsBy = "street"
	TotalsByMonth  TotalsBy = "month"
)

// VisitTotals counts visits, problems raised and problems solved (their
// cases closed) by leader, street or month of the visit, in the filter's
// visits. Months are Asia/Shanghai months, loc giving the zone.
func (db *DB) VisitTotals(ctx context.Context, f VisitFilter, by TotalsBy, loc *time.Location) ([]VisitTotal, error) {
	w := f.where()
	counts := map[string]*VisitTotal{}
	var order []string
	get := func(k string) *VisitTotal {
		if t := counts[k]; t != nil {
			return t
		}
		counts[k] = &VisitTotal{Key: k}
		order = append(order, k)
		return counts[k]
	}
	if by == TotalsByMonth {
		// Months in the local zone: read each visit's time and its counts.
		q, args := w.query(`SELECT at, (SELECT COUNT(*) FROM visit_cases vc WHERE vc.visit_id = leader_visits.id),
			(SELECT COUNT(*) FROM visit_cases vc JOIN cases c ON c.id = vc.case_id WHERE vc.visit_id = leader_visits.id AND c.state = 'closed')
			FROM leader_visits`, ` ORDER BY at`)
		rows, err := db.read.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("visit totals: %w", translate(err))
		}
		defer rows.Close()
		for rows.Next() {
			var at int64
			var p, s int
			if err := rows.Scan(&at, &p, &s); err != nil {
				return nil, err
			}
			t := get(time.UnixMilli(at).In(loc).Format("2006-01"))
			t.Visits++
			t.Problems += p
			t.Solved += s
		}
		out := make([]VisitTotal, 0, len(order))
		for _, k := range order {
			out = append(out, *counts[k])
		}
		return out, rows.Err()
	}
	col := "leader_id"
	if by == TotalsByStreet {
		col = "street_code"
	}
	q, args := w.query(`SELECT `+col+`, COUNT(*) FROM leader_visits`, ` GROUP BY `+col+` ORDER BY `+col)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("visit totals: %w", translate(err))
	}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			rows.Close()
			return nil, err
		}
		get(k).Visits = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Problems and solved: the linked cases of the same visits.
	inner, iargs := w.query(`SELECT id FROM leader_visits`, ``)
	q = `SELECT vc.` + col + `, COUNT(*), SUM(CASE WHEN c.state = 'closed' THEN 1 ELSE 0 END)
		FROM visit_cases vc JOIN cases c ON c.id = vc.case_id WHERE vc.visit_id IN (` + inner + `) GROUP BY vc.` + col
	rows, err = db.read.QueryContext(ctx, q, iargs...)
	if err != nil {
		return nil, fmt.Errorf("visit totals: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var p, s int
		if err := rows.Scan(&k, &p, &s); err != nil {
			return nil, err
		}
		t := get(k)
		t.Problems, t.Solved = p, s
	}
	out := make([]VisitTotal, 0, len(order))
	for _, k := range order {
		out = append(out, *counts[k])
	}
	return out, rows.Err()
}

// VisitCaseIDs returns the IDs of the cases made from the filter's visits
// (the drill-down of a total), newest visit first, at most limit.
func (db *DB) VisitCaseIDs(ctx context.Context, f VisitFilter, solved *bool, limit int) ([]string, error) {
	w := f.where()
	inner, args := w.query(`SELECT id FROM leader_visits`, ``)
	q := `SELECT vc.case_id FROM visit_cases vc JOIN cases c ON c.id = vc.case_id WHERE vc.visit_id IN (` + inner + `)`
	if solved != nil {
		if *solved {
			q += ` AND c.state = 'closed'`
		} else {
			q += ` AND c.state <> 'closed'`
		}
	}
	q, args = (&where{args: args}).query(q, ` ORDER BY vc.at DESC, vc.case_id DESC LIMIT ?`, limit)
	return db.queryIDs(ctx, "visit cases", q, args...)
}

// PutList inserts or replaces a list.
func (t *Tx) PutList(ctx context.Context, l leaders.List) error {
	doc, err := encodeDoc(l)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO leader_lists (id, kind, owner_id, region_path, from_at, to_at, doc) VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, owner_id = excluded.owner_id, region_path = excluded.region_path,
			from_at = excluded.from_at, to_at = excluded.to_at, doc = excluded.doc`,
		l.ID, string(l.Kind), l.OwnerID, l.RegionPath, ms(l.From), ms(l.To), doc)
	if err != nil {
		return fmt.Errorf("put list: %w", err)
	}
	return nil
}

// List reads one list.
func (db *DB) List(ctx context.Context, id string) (leaders.List, error) {
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM leader_lists WHERE id = $1`, id).Scan(&doc)
	return decodeDoc[leaders.List](doc, err, "list")
}

// List reads one list inside a write.
func (t *Tx) List(ctx context.Context, id string) (leaders.List, error) {
	var doc string
	err := t.QueryRow(ctx, `SELECT doc FROM leader_lists WHERE id = $1`, id).Scan(&doc)
	return decodeDoc[leaders.List](doc, err, "list")
}

// ListAt finds the list of a kind for exactly this region whose period
// holds at (the district's key project list of the year).
func (t *Tx) ListAt(ctx context.Context, kind leaders.ListKind, path string, at time.Time) (leaders.List, error) {
	var doc string
	err := t.QueryRow(ctx, `SELECT doc FROM leader_lists WHERE kind = $1 AND region_path = $2 AND from_at <= $3 AND to_at > $3
		ORDER BY from_at DESC, id LIMIT 1`, string(kind), path, ms(at)).Scan(&doc)
	return decodeDoc[leaders.List](doc, err, "list")
}

// ListOf finds an owner's list of a kind whose period holds at (a leader's
// list of the year).
func (t *Tx) ListOf(ctx context.Context, kind leaders.ListKind, ownerID string, at time.Time) (leaders.List, error) {
	var doc string
	err := t.QueryRow(ctx, `SELECT doc FROM leader_lists WHERE kind = $1 AND owner_id = $2 AND from_at <= $3 AND to_at > $3
		ORDER BY from_at DESC, id LIMIT 1`, string(kind), ownerID, ms(at)).Scan(&doc)
	return decodeDoc[leaders.List](doc, err, "list")
}

// ListFilter selects lists. Zero fields do not filter.
type ListFilter struct {
	Under   string
	OwnerID string
	Kind    leaders.ListKind
	At      time.Time // the list's period holds at this instant
}

// Lists lists lists, newest period first.
func (db *DB) Lists(ctx context.Context, f ListFilter) ([]leaders.List, error) {
	var w where
	pathCond(&w, f.Under)
	if f.OwnerID != "" {
		w.add(`owner_id = ?`, f.OwnerID)
	}
	if f.Kind != "" {
		w.add(`kind = ?`, string(f.Kind))
	}
	if !f.At.IsZero() {
		w.add(`from_at <= ? AND to_at > ?`, ms(f.At), ms(f.At))
	}
	q, args := w.query(`SELECT doc FROM leader_lists`, ` ORDER BY from_at DESC, id LIMIT 500`)
	rows, err := db.read.QueryContext(ctx, q, args...)
	return scanDocs[leaders.List](rows, err, "list lists")
}

// AddItem puts an item on a list; ErrConflict if it is there already.
func (t *Tx) AddItem(ctx context.Context, it leaders.Item) error {
	var n int
	if err := t.QueryRow(ctx, `SELECT COUNT(*) FROM list_items WHERE list_id = $1 AND kind = $2 AND ref_id = $3`,
		it.ListID, string(it.Kind), it.RefID).Scan(&n); err != nil {
		return fmt.Errorf("add item: %w", translate(err))
	}
	if n > 0 {
		return ErrConflict
	}
	_, err := t.Exec(ctx, `INSERT INTO list_items (list_id, kind, ref_id, added_by, added_at) VALUES ($1,$2,$3,$4,$5)`,
		it.ListID, string(it.Kind), it.RefID, it.AddedBy, ms(it.AddedAt))
	if err != nil {
		return fmt.Errorf("add item: %w", err)
	}
	return nil
}

// Items lists a list's items in the order they were added.
func (db *DB) Items(ctx context.Context, listID string) ([]leaders.Item, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT list_id, kind, ref_id, added_by, added_at FROM list_items WHERE list_id = $1
		ORDER BY added_at, ref_id LIMIT 5000`, listID)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", translate(err))
	}
	defer rows.Close()
	var out []leaders.Item
	for rows.Next() {
		var it leaders.Item
		var kind string
		var at int64
		if err := rows.Scan(&it.ListID, &kind, &it.RefID, &it.AddedBy, &at); err != nil {
			return nil, err
		}
		it.Kind, it.AddedAt = leaders.ItemKind(kind), time.UnixMilli(at).UTC()
		out = append(out, it)
	}
	return out, rows.Err()
}

// ListsOf returns the IDs of the lists an item (a case or a project) is on.
func (db *DB) ListsOf(ctx context.Context, refID string) ([]string, error) {
	return db.queryIDs(ctx, "lists of item", `SELECT list_id FROM list_items WHERE ref_id = $1 ORDER BY list_id`, refID)
}

// InsertProject stores a new project.
func (t *Tx) InsertProject(ctx context.Context, p leaders.Project) error {
	doc, err := encodeDoc(p)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO projects (id, region_path, state, case_id, lead_unit, version, doc) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		p.ID, p.RegionPath, string(p.State), p.CaseID, p.LeadUnit, p.Version, doc)
	if err != nil {
		return fmt.Errorf("insert project: %w", err)
	}
	return nil
}

// UpdateProject writes a project if it is still at version prev;
// ErrConflict otherwise.
func (t *Tx) UpdateProject(ctx context.Context, p leaders.Project, prev int) error {
	doc, err := encodeDoc(p)
	if err != nil {
		return err
	}
	r, err := t.Exec(ctx, `UPDATE projects SET state = $1, version = $2, doc = $3, lead_unit = $4 WHERE id = $5 AND version = $6`,
		string(p.State), p.Version, doc, p.LeadUnit, p.ID, prev)
	if err != nil {
		return fmt.Errorf("update project: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrConflict
	}
	return nil
}

// Project reads one project inside a write.
func (t *Tx) Project(ctx context.Context, id string) (leaders.Project, error) {
	var doc string
	err := t.QueryRow(ctx, `SELECT doc FROM projects WHERE id = $1`, id).Scan(&doc)
	return decodeDoc[leaders.Project](doc, err, "project")
}

// ProjectOfCase finds the project a case grew into, inside a write.
func (t *Tx) ProjectOfCase(ctx context.Context, caseID string) (leaders.Project, error) {
	var doc string
	err := t.QueryRow(ctx, `SELECT doc FROM projects WHERE case_id = $1 AND case_id <> '' ORDER BY id LIMIT 1`, caseID).Scan(&doc)
	return decodeDoc[leaders.Project](doc, err, "project")
}

// Project reads one project.
func (db *DB) Project(ctx context.Context, id string) (leaders.Project, error) {
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM projects WHERE id = $1`, id).Scan(&doc)
	return decodeDoc[leaders.Project](doc, err, "project")
}

// Projects reads projects by ID (missing ones are left out), or every
// project under a path when ids is nil.
func (db *DB) Projects(ctx context.Context, under string, ids []string) ([]leaders.Project, error) {
	var w where
	pathCond(&w, under)
	if ids != nil {
		if len(ids) == 0 {
			return nil, nil
		}
		w.in(`id`, ids)
	}
	q, args := w.query(`SELECT doc FROM projects`, ` ORDER BY id LIMIT 2000`)
	rows, err := db.read.QueryContext(ctx, q, args...)
	return scanDocs[leaders.Project](rows, err, "list projects")
}

// InsertSupervision stores a supervision; path is the case's region.
func (t *Tx) InsertSupervision(ctx context.Context, s leaders.Supervision, path string) error {
	doc, err := encodeDoc(s)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO supervisions (id, case_id, supervisor_id, region_path, at, doc) VALUES ($1,$2,$3,$4,$5,$6)`,
		s.ID, s.CaseID, s.SupervisorID, path, ms(s.At), doc)
	if err != nil {
		return fmt.Errorf("insert supervision: %w", err)
	}
	return nil
}

// SupervisionFilter selects supervisions. Zero fields do not filter.
type SupervisionFilter struct {
	SupervisorID string
	CaseIDs      []string
	Under        string // the case lies in this subtree
	Limit        int
}

// Supervisions lists supervisions, newest first.
func (db *DB) Supervisions(ctx context.Context, f SupervisionFilter) ([]leaders.Supervision, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	var w where
	if f.SupervisorID != "" {
		w.add(`supervisor_id = ?`, f.SupervisorID)
	}
	if f.CaseIDs != nil {
		if len(f.CaseIDs) == 0 {
			return nil, nil
		}
		w.in(`case_id`, f.CaseIDs)
	}
	pathCond(&w, f.Under)
	q, args := w.query(`SELECT doc FROM supervisions`, ` ORDER BY at DESC, id DESC LIMIT ?`, f.Limit)
	rows, err := db.read.QueryContext(ctx, q, args...)
	return scanDocs[leaders.Supervision](rows, err, "list supervisions")
}
