package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	From, To   time.Time      // the step happened in [From, To) (ignored with After)
	After      *FeedCursor    // only steps committed after this position, in commit order
	Until      *FeedCursor    // only steps at or before this position (FeedEnd)
	RegionPath string         // only steps of cases under this region path
	Actions    []cases.Action // only these actions (none: all)
	Categories []string       // only steps of cases in these categories (none: all)
	Limit      int            // default and at most MaxPage
	Offset     int
}

// FeedCursor is a step's place in commit order: on SQLite, whose one writer
// commits one transaction after another, the step's rowid; on PostgreSQL
// the writing transaction's ID (steps.xid, migration 11) and the step's ID.
// A feed reads on PostgreSQL only the steps of transactions older than the
// oldest still running, so no step can commit later at a place before one
// already read: a follower that resumes after the last cursor it saw sees
// every step once.
type FeedCursor struct {
	N  uint64
	ID string
}

// Less orders cursors.
func (c FeedCursor) Less(d FeedCursor) bool { return c.N < d.N || c.N == d.N && c.ID < d.ID }

// FeedStep is a step with what a feed needs of its case.
type FeedStep struct {
	Step       cases.Step
	CaseNumber string
	Category   string
	Cursor     FeedCursor
}

// feedVisible is PostgreSQL's bound on what a feed may read: steps of
// transactions below the oldest one still running, as of the statement's
// snapshot; every transaction below it has ended, so its steps are in the
// snapshot or never will be. Transaction IDs are the cluster's, so a
// transaction that pg_stat_activity places in another database is left out
// of the count (a long one there must not hold this feed back); one it
// cannot place (no privilege to see it, or already ended) counts, which
// can only delay the feed, never skip a step.
const feedVisible = `s.xid < (WITH snap AS (SELECT pg_current_snapshot() AS s),
	other AS (SELECT backend_xid FROM pg_stat_activity WHERE datname IS DISTINCT FROM current_database() AND backend_xid IS NOT NULL)
	SELECT COALESCE(
		(SELECT min(x) FROM snap, pg_snapshot_xip(snap.s) AS x
			WHERE (x::text::bigint % 4294967296)::text::xid NOT IN (SELECT backend_xid FROM other)),
		(SELECT pg_snapshot_xmax(snap.s) FROM snap)))`

// FeedLag is how many committed steps a feed may not read yet, because a
// transaction older than theirs is still running (always 0 on SQLite).
func (db *DB) FeedLag(ctx context.Context) (int, error) {
	if db.Dialect != Postgres {
		return 0, nil
	}
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM steps s WHERE NOT (`+feedVisible+`)`).Scan(&n); err != nil {
		return 0, fmt.Errorf("feed lag: %w", translate(err))
	}
	return n, nil
}

// FeedEnd is the position of the newest step a feed may read now (the zero
// cursor when there is none): steps committed later come after it.
func (db *DB) FeedEnd(ctx context.Context) (FeedCursor, error) {
	var end FeedCursor
	var n sql.NullString
	var id sql.NullString
	var err error
	if db.Dialect == Postgres {
		err = db.read.QueryRowContext(ctx, `SELECT s.xid::text, s.id FROM steps s WHERE `+feedVisible+` ORDER BY s.xid DESC, s.id DESC LIMIT 1`).Scan(&n, &id)
	} else {
		err = db.read.QueryRowContext(ctx, `SELECT CAST(MAX(rowid) AS TEXT), '' FROM steps`).Scan(&n, &id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return end, nil
	} else if err != nil {
		return end, fmt.Errorf("feed end: %w", translate(err))
	}
	if n.Valid {
		if end.N, err = strconv.ParseUint(n.String, 10, 64); err != nil {
			return end, fmt.Errorf("feed end: %w", err)
		}
	}
	end.ID = id.String
	return end, nil
}

// StepsBetween lists steps for a feed. Without After: the steps in a time
// window, oldest first (ties by ID), so a follower can resume from the last
// one it saw. A case's updated_at is never before any of its steps, so the
// indexed cases_updated bound narrows the cases to join before the steps
// are read. With After: the steps committed after the cursor, in commit
// order (the window does not apply).
func (db *DB) StepsBetween(ctx context.Context, f StepFilter) ([]FeedStep, error) {
	if f.Limit <= 0 || f.Limit > MaxPage {
		f.Limit = MaxPage
	}
	pg := db.Dialect == Postgres
	w := &where{}
	cursorCol, order := `CAST(s.rowid AS TEXT), s.id`, ` ORDER BY s.at, s.id`
	if pg {
		cursorCol = `s.xid::text, s.id`
	}
	if f.After != nil {
		if pg {
			w.add(`(s.xid, s.id) > (CAST(? AS xid8), ?)`, strconv.FormatUint(f.After.N, 10), f.After.ID)
			w.add(feedVisible)
			order = ` ORDER BY s.xid, s.id`
		} else {
			w.add(`s.rowid > ?`, int64(f.After.N))
			order = ` ORDER BY s.rowid`
		}
	} else {
		w.add(`c.updated_at >= ?`, ms(f.From))
		w.add(`s.at >= ?`, ms(f.From))
		w.add(`s.at < ?`, ms(f.To))
	}
	if f.Until != nil {
		if pg {
			w.add(`(s.xid, s.id) <= (CAST(? AS xid8), ?)`, strconv.FormatUint(f.Until.N, 10), f.Until.ID)
		} else {
			w.add(`s.rowid <= ?`, int64(f.Until.N))
		}
	}
	if f.RegionPath != "" {
		lo, hi := prefixRange(f.RegionPath)
		w.add(`c.region_path >= ? AND c.region_path < ?`, lo, hi)
	}
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
	q := `SELECT s.doc, c.number, c.category, ` + cursorCol + ` FROM steps s JOIN cases c ON c.id = s.case_id` + w.sql() +
		order + ` LIMIT $` + strconv.Itoa(n-1) + ` OFFSET $` + strconv.Itoa(n)
	rows, err := db.read.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("steps between: %w", translate(err))
	}
	defer rows.Close()
	var out []FeedStep
	for rows.Next() {
		var doc, cur string
		var fs FeedStep
		if err := rows.Scan(&doc, &fs.CaseNumber, &fs.Category, &cur, &fs.Cursor.ID); err != nil {
			return nil, fmt.Errorf("steps between: %w", err)
		}
		if fs.Cursor.N, err = strconv.ParseUint(cur, 10, 64); err != nil {
			return nil, fmt.Errorf("steps between: cursor %q: %w", cur, err)
		}
		if !pg {
			fs.Cursor.ID = "" // the rowid alone places a step on SQLite
		}
		if err := json.Unmarshal([]byte(doc), &fs.Step); err != nil {
			return nil, fmt.Errorf("decode step: %w", err)
		}
		out = append(out, fs)
	}
	return out, rows.Err()
}

// ClientUpdate is an update a client posted (Open311 servicerequestupdates):
// which key, the client's own update ID, and the step it became.
type ClientUpdate struct {
	KeyID    string
	UpdateID string
	CaseID   string
	StepID   string
	At       time.Time
}

// ClientUpdate reads the update a key posted under the client's update ID;
// ErrNotFound when there is none. Read inside the write that would add it,
// so that the same update sent twice at once is taken once.
func (t *Tx) ClientUpdate(ctx context.Context, keyID, updateID string) (ClientUpdate, error) {
	u := ClientUpdate{KeyID: keyID, UpdateID: updateID}
	var at int64
	err := t.QueryRow(ctx, `SELECT case_id, step_id, at FROM client_updates WHERE api_key_id = $1 AND update_id = $2`, keyID, updateID).Scan(&u.CaseID, &u.StepID, &at)
	if err != nil {
		return u, fmt.Errorf("client update: %w", translate(err))
	}
	u.At = time.UnixMilli(at).UTC()
	return u, nil
}

// InsertClientUpdate remembers a client's update; a repeated one is ErrConflict.
func (t *Tx) InsertClientUpdate(ctx context.Context, u ClientUpdate) error {
	if _, err := t.Exec(ctx, `INSERT INTO client_updates (api_key_id, update_id, case_id, step_id, at) VALUES ($1, $2, $3, $4, $5)`,
		u.KeyID, u.UpdateID, u.CaseID, u.StepID, ms(u.At)); err != nil {
		return fmt.Errorf("insert client update: %w", err)
	}
	return nil
}
