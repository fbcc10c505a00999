package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"zhizhi/internal/cases"
)

// MaxPage is the most rows one Open311 page returns (GeoReport v2's default
// response volume).
const MaxPage = 1000

// CasesPage lists cases matching the filter, newest first, skipping offset
// rows and returning at most f.Limit (default and at most MaxPage). Open311
// pages by page number, so this pages by offset; f.After is ignored.
func (db *DB) CasesPage(ctx context.Context, f CaseFilter, offset int) ([]cases.Case, error) {
	if f.Limit <= 0 || f.Limit > MaxPage {
		f.Limit = MaxPage
	}
	f.After = ""
	w := db.caseWhere(f)
	w.args = append(w.args, f.Limit, max(offset, 0))
	n := len(w.args)
	q := `SELECT doc` + w.table() + w.sql() + ` ORDER BY id DESC LIMIT $` + strconv.Itoa(n-1) + ` OFFSET $` + strconv.Itoa(n)
	return db.queryCases(ctx, "page cases", q, w.args)
}

// StepFilter selects timeline steps for a feed of changes.
type StepFilter struct {
	From, To   time.Time      // the step happened in [From, To)
	Actions    []cases.Action // only these actions (none: all)
	Categories []string       // only steps of cases in these categories (none: all)
	Limit      int            // default and at most MaxPage
	Offset     int
}

// FeedStep is a step with what a feed needs of its case.
type FeedStep struct {
	Step       cases.Step
	CaseNumber string
	Category   string
}

// StepsBetween lists the steps in a time window, oldest first (ties by ID),
// so a follower can resume from the last one it saw. A case's updated_at is
// never before any of its steps, so the indexed cases_updated bound narrows
// the cases to join before the steps are read.
func (db *DB) StepsBetween(ctx context.Context, f StepFilter) ([]FeedStep, error) {
	if f.Limit <= 0 || f.Limit > MaxPage {
		f.Limit = MaxPage
	}
	w := &where{}
	w.add(`c.updated_at >= ?`, ms(f.From))
	w.add(`s.at >= ?`, ms(f.From))
	w.add(`s.at < ?`, ms(f.To))
	if len(f.Actions) > 0 {
		acts := make([]string, len(f.Actions))
		for i, a := range f.Actions {
			acts[i] = string(a)
		}
		w.in("s.action", acts)
	}
	if len(f.Categories) > 0 {
		w.in("c.category", f.Categories)
	}
	w.args = append(w.args, f.Limit, max(f.Offset, 0))
	n := len(w.args)
	q := `SELECT s.doc, c.number, c.category FROM steps s JOIN cases c ON c.id = s.case_id` + w.sql() +
		` ORDER BY s.at, s.id LIMIT $` + strconv.Itoa(n-1) + ` OFFSET $` + strconv.Itoa(n)
	rows, err := db.read.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("steps between: %w", translate(err))
	}
	defer rows.Close()
	var out []FeedStep
	for rows.Next() {
		var doc string
		var fs FeedStep
		if err := rows.Scan(&doc, &fs.CaseNumber, &fs.Category); err != nil {
			return nil, fmt.Errorf("steps between: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &fs.Step); err != nil {
			return nil, fmt.Errorf("decode step: %w", err)
		}
		out = append(out, fs)
	}
	return out, rows.Err()
}
