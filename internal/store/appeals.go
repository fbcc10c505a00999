package store

import (
	"context"
	"fmt"
	"time"

	"zhizhi/internal/cases"
)

// The appeals table indexes the overdue appeals (超时申诉) held in the case
// documents, for the review queue: one row per appeal, keyed by the case and
// the appeal's place in the case's list. It is rewritten from the document
// in the same write as the case (UpdateCase), like case_units. Appeals are
// never removed from a case, so rows are only added or updated.

const sqlPutAppeal = `INSERT INTO appeals (case_id, seq, case_number, unit_id, state, center_path, region_path, reason, asked_by, asked_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	ON CONFLICT (case_id, seq) DO UPDATE SET case_number = excluded.case_number, unit_id = excluded.unit_id,
		state = excluded.state, center_path = excluded.center_path, region_path = excluded.region_path,
		reason = excluded.reason, asked_by = excluded.asked_by, asked_at = excluded.asked_at, updated_at = excluded.updated_at`

// AppealRow is one row of the appeals table: an appeal with what the queue
// shows of its case.
type AppealRow struct {
	CaseID     string            `json:"case_id"`
	Seq        int               `json:"seq"`
	CaseNumber string            `json:"case_number"`
	UnitID     string            `json:"unit_id"`
	State      cases.AppealState `json:"state"`
	CenterPath string            `json:"center_path"`
	RegionPath string            `json:"region_path"`
	Reason     string            `json:"reason"`
	AskedBy    string            `json:"asked_by"` // the asker's name
	AskedAt    time.Time         `json:"asked_at"`
	UpdatedAt  time.Time         `json:"updated_at"` // the appeal's last stage
}

// AppealRows are the rows the appeals table holds for a case.
func AppealRows(c *cases.Case) []AppealRow {
	out := make([]AppealRow, 0, len(c.Appeals))
	for i, a := range c.Appeals {
		up := a.AskedAt
		for _, t := range []time.Time{a.ReviewedAt, a.DecidedAt} {
			if t.After(up) {
				up = t
			}
		}
		out = append(out, AppealRow{CaseID: c.ID, Seq: i, CaseNumber: c.Number, UnitID: a.UnitID, State: a.State,
			CenterPath: c.CenterPath, RegionPath: c.RegionPath, Reason: a.Reason, AskedBy: a.AskedByName, AskedAt: a.AskedAt, UpdatedAt: up})
	}
	return out
}

// syncAppeals writes the case's appeal rows. A case without appeals (nearly
// every case) costs nothing.
func (t *Tx) syncAppeals(ctx context.Context, c *cases.Case) error {
	for _, r := range AppealRows(c) {
		if _, err := t.Exec(ctx, sqlPutAppeal, r.CaseID, r.Seq, r.CaseNumber, r.UnitID, string(r.State), r.CenterPath, r.RegionPath,
			r.Reason, r.AskedBy, ms(r.AskedAt), ms(r.UpdatedAt)); err != nil {
			return fmt.Errorf("sync appeals: %w", err)
		}
	}
	return nil
}

// AppealFilter selects appeals for the review queue.
type AppealFilter struct {
	State cases.AppealState // "" for every state
	// Scope: Regions (region roles: appeals of cases placed or owned in the
	// subtree) or Units (unit staff: their units' appeals). Neither: none.
	Region string
	Units  []string
	Before time.Time // keyset: appeals asked before this (zero: the newest)
	Limit  int       // default and most 200
}

func appealScope(f AppealFilter) *where {
	w := &where{}
	switch {
	case f.Region != "":
		lo, hi := prefixRange(f.Region)
		w.add(`((region_path >= ? AND region_path < ?) OR (center_path >= ? AND center_path < ?))`, lo, hi, lo, hi)
	case len(f.Units) > 0:
		w.in("unit_id", f.Units)
	default:
		w.add(`1 = 0`)
	}
	return w
}

// Appeals lists appeals in scope, newest asked first.
func (db *DB) Appeals(ctx context.Context, f AppealFilter) ([]AppealRow, error) {
	w := appealScope(f)
	if f.State != "" {
		w.add(`state = ?`, string(f.State))
	}
	if !f.Before.IsZero() {
		w.add(`asked_at < ?`, ms(f.Before))
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 200
	}
	q := `SELECT case_id, seq, case_number, unit_id, state, center_path, region_path, reason, asked_by, asked_at, updated_at FROM appeals` +
		w.sql() + fmt.Sprintf(` ORDER BY asked_at DESC, case_id, seq LIMIT %d`, f.Limit)
	rows, err := db.read.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("appeals: %w", translate(err))
	}
	defer rows.Close()
	var out []AppealRow
	for rows.Next() {
		var r AppealRow
		var st string
		var asked, up int64
		if err := rows.Scan(&r.CaseID, &r.Seq, &r.CaseNumber, &r.UnitID, &st, &r.CenterPath, &r.RegionPath, &r.Reason, &r.AskedBy, &asked, &up); err != nil {
			return nil, fmt.Errorf("appeals: %w", err)
		}
		r.State = cases.AppealState(st)
		r.AskedAt, r.UpdatedAt = time.UnixMilli(asked).UTC(), time.UnixMilli(up).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// CountAppeals counts the appeals in scope per state (f.State and f.Before
// are ignored).
func (db *DB) CountAppeals(ctx context.Context, f AppealFilter) (map[cases.AppealState]int, error) {
	w := appealScope(f)
	rows, err := db.read.QueryContext(ctx, `SELECT state, COUNT(*) FROM appeals`+w.sql()+` GROUP BY state`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("count appeals: %w", translate(err))
	}
	defer rows.Close()
	out := map[cases.AppealState]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count appeals: %w", err)
		}
		out[cases.AppealState(st)] = n
	}
	return out, rows.Err()
}
