package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/webhook"
)

// Webhook deliveries by cursor (migration 34, docs/webhooks.md). A case
// write adds one webhook_events row per step that some subscription takes
// (PutHookEvent). Each subscription keeps a cursor: the last event, in
// commit order, that it has handled. The node that holds a subscription's
// lease (AcquireHookLeases) reads the events after its cursor
// (HookEventsAfter), sends those the subscription takes, and records the
// batch in one statement (AdvanceHookCursor): the cursor moves past the
// batch, the run of failures and the lease are updated. A successful
// delivery writes no row of its own. A failed one becomes a
// webhook_outbox row waiting for its retry, and the later events of its
// case (for that subscription) become rows behind it, so the order per
// case holds while other cases go on; those rows are claimed and recorded
// as before (ClaimDeliveries, RecordAttempts). Events go when every
// subscription's cursor has passed them and no outbox row names them
// (PurgeHookEvents).

// HookCursor is an event's place in commit order: on SQLite its pos (the
// one writer commits in pos order); on PostgreSQL the writing
// transaction's ID and its pos, read only below the oldest transaction
// still running (like FeedCursor), so no event commits later at a place
// before one a cursor has passed.
type HookCursor struct {
	X   uint64 // PostgreSQL: the transaction's ID (0 on SQLite)
	Pos int64
}

// Less orders cursors.
func (c HookCursor) Less(d HookCursor) bool { return c.Compare(d) < 0 }

// Compare orders cursors as cmp.Compare does: -1, 0 or +1.
func (c HookCursor) Compare(d HookCursor) int {
	return cmp.Or(cmp.Compare(c.X, d.X), cmp.Compare(c.Pos, d.Pos))
}

// hookVisible is feedVisible over the events (alias e).
var hookVisible = strings.Replace(feedVisible, "s.xid <", "e.xid <", 1)

// LeasedSub is a subscription whose deliveries this node holds: its ID and
// cursor.
type LeasedSub struct {
	ID     string
	Cursor HookCursor
}

func scanCursor(x string, pos int64) (HookCursor, error) {
	c := HookCursor{Pos: pos}
	if x != "" {
		v, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return c, fmt.Errorf("webhook cursor %q: %w", x, err)
		}
		c.X = v
	}
	return c, nil
}

// FreeHookLeases reports whether some active subscription's deliveries are
// held by no node at now (a read, so that a node looks for work without a
// write).
func (db *DB) FreeHookLeases(ctx context.Context, now time.Time) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_subs WHERE state = 'active' AND lease_until <= $1`, ms(now)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("webhook leases: %w", translate(err))
	}
	return n > 0, nil
}

// AcquireHookLeases takes the deliveries of the active subscriptions no node
// holds (a lease run out, or none) until until, under the claim token, up
// to limit; one node holds a subscription at a time. On PostgreSQL the rows
// are chosen FOR UPDATE SKIP LOCKED, so nodes acquiring at once take
// different subscriptions.
func (t *Tx) AcquireHookLeases(ctx context.Context, now, until time.Time, claim string, limit int) ([]LeasedSub, error) {
	q := `UPDATE webhook_subs SET lease_claim = $2, lease_until = $3
		WHERE id IN (SELECT id FROM webhook_subs WHERE state = 'active' AND lease_until <= $1 ORDER BY id LIMIT $4)
		RETURNING id, '', cursor_pos`
	if t.dialect == Postgres {
		q = `UPDATE webhook_subs s SET lease_claim = $2, lease_until = $3
		FROM (SELECT id FROM webhook_subs WHERE state = 'active' AND lease_until <= $1 ORDER BY id LIMIT $4 FOR NO KEY UPDATE SKIP LOCKED) AS f
		WHERE s.id = f.id RETURNING s.id, s.cursor_xid::text, s.cursor_pos`
	}
	rows, err := t.Query(ctx, q, ms(now), claim, ms(until), limit)
	if err != nil {
		return nil, fmt.Errorf("acquire webhook leases: %w", err)
	}
	defer rows.Close()
	var out []LeasedSub
	for rows.Next() {
		var l LeasedSub
		var x string
		var pos int64
		if err := rows.Scan(&l.ID, &x, &pos); err != nil {
			return nil, fmt.Errorf("acquire webhook leases: %w", err)
		}
		if l.Cursor, err = scanCursor(x, pos); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// RenewHookLeases extends the leases this claim token still holds (not run
// out at now) until until, and returns the subscriptions it holds: a
// subscription missing from the answer was lost (run out and taken by
// another node, removed), and this node stops sending its events.
func (t *Tx) RenewHookLeases(ctx context.Context, now, until time.Time, claim string) (map[string]bool, error) {
	rows, err := t.Query(ctx, `UPDATE webhook_subs SET lease_until = $3 WHERE lease_claim = $1 AND lease_until > $2 AND state = 'active' RETURNING id`,
		claim, ms(now), ms(until))
	if err != nil {
		return nil, fmt.Errorf("renew webhook leases: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("renew webhook leases: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// ReleaseHookLeases gives up the leases of these subscriptions (all this
// token holds when ids is nil), so another node, or this one after a
// restart, takes them at once.
func (t *Tx) ReleaseHookLeases(ctx context.Context, claim string, ids []string) error {
	if ids == nil {
		_, err := t.Exec(ctx, `UPDATE webhook_subs SET lease_claim = '', lease_until = 0 WHERE lease_claim = $1`, claim)
		if err != nil {
			return fmt.Errorf("release webhook leases: %w", err)
		}
		return nil
	}
	for _, id := range ids {
		if _, err := t.Exec(ctx, `UPDATE webhook_subs SET lease_claim = '', lease_until = 0 WHERE id = $1 AND lease_claim = $2`, id, claim); err != nil {
			return fmt.Errorf("release webhook lease: %w", err)
		}
	}
	return nil
}

// CursorEvent is an event read after a cursor.
type CursorEvent struct {
	HookEvent
	Kind   string
	At     HookCursor // its place
	Fanned bool       // queued before migration 34 as outbox rows: not sent from the cursor
}

// HookEventsAfter reads up to limit events after the cursor, in commit
// order (on PostgreSQL only those below the oldest transaction still
// running: every later commit comes after them). It reads the reader pool:
// no write.
func (db *DB) HookEventsAfter(ctx context.Context, after HookCursor, limit int) ([]CursorEvent, error) {
	var rows *sql.Rows
	var err error
	cols := `e.case_id, e.seq, e.event_id, e.kind, e.source, e.region_path, e.units, e.queued_at, e.body, e.fanned, e.pos`
	if db.Dialect == Postgres {
		rows, err = db.read.QueryContext(ctx, `SELECT `+cols+`, e.xid::text FROM webhook_events e
			WHERE (e.xid, e.pos) > (CAST($1 AS xid8), $2) AND `+hookVisible+` ORDER BY e.xid, e.pos LIMIT $3`,
			strconv.FormatUint(after.X, 10), after.Pos, limit)
	} else {
		rows, err = db.read.QueryContext(ctx, `SELECT `+cols+`, '' FROM webhook_events e WHERE e.pos > $1 ORDER BY e.pos LIMIT $2`, after.Pos, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("webhook events: %w", translate(err))
	}
	defer rows.Close()
	var out []CursorEvent
	for rows.Next() {
		var e CursorEvent
		var units, x string
		var at, pos int64
		var fanned int
		// The body is scanned into its own bytes once (not a string and
		// then a copy): a read costs one copy of each body.
		if err := rows.Scan(&e.CaseID, &e.Seq, &e.EventID, &e.Kind, &e.Facts.Source, &e.Facts.RegionPath, &units, &at, &e.Body, &fanned, &pos, &x); err != nil {
			return nil, fmt.Errorf("webhook events: %w", err)
		}
		e.Facts.Kind = e.Kind
		e.Facts.Units, e.QueuedAt, e.Fanned = strings.Fields(units), time.UnixMilli(at).UTC(), fanned != 0
		if e.At, err = scanCursor(x, pos); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// HeldCases are the cases with a delivery of the subscription in the outbox
// (failed and waiting for its retry, or behind one): their later events
// wait behind them.
func (db *DB) HeldCases(ctx context.Context, subID string) (map[string]bool, error) {
	ids, err := db.queryIDs(ctx, "webhook outbox", `SELECT DISTINCT case_id FROM webhook_outbox WHERE sub_id = $1`, subID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, c := range ids {
		out[c] = true
	}
	return out, nil
}

// HookStart is where a new subscription's cursor starts: after every event
// committed (and readable) now, so it takes the events queued from its
// creation on.
func (t *Tx) HookStart(ctx context.Context) (HookCursor, error) {
	var x string
	var pos int64
	var err error
	if t.dialect == Postgres {
		err = t.QueryRow(ctx, `SELECT e.xid::text, e.pos FROM webhook_events e WHERE `+hookVisible+` ORDER BY e.xid DESC, e.pos DESC LIMIT 1`).Scan(&x, &pos)
	} else {
		err = t.QueryRow(ctx, `SELECT '', COALESCE(MAX(pos), 0) FROM webhook_events`).Scan(&x, &pos)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return HookCursor{}, nil
	} else if err != nil {
		return HookCursor{}, fmt.Errorf("webhook cursor start: %w", err)
	}
	return scanCursor(x, pos)
}

// SetHookCursor sets a subscription's cursor (at its creation: HookStart).
func (t *Tx) SetHookCursor(ctx context.Context, subID string, c HookCursor) error {
	q := `UPDATE webhook_subs SET cursor_xid = $2, cursor_pos = $3 WHERE id = $1`
	var x any = int64(c.X)
	if t.dialect == Postgres {
		q = `UPDATE webhook_subs SET cursor_xid = CAST($2 AS xid8), cursor_pos = $3 WHERE id = $1`
		x = strconv.FormatUint(c.X, 10)
	}
	if _, err := t.Exec(ctx, q, subID, x, c.Pos); err != nil {
		return fmt.Errorf("webhook cursor: %w", err)
	}
	return nil
}

// CursorBatch is a batch of a subscription's events handled from its
// cursor: the attempts made (in the order they ended), the events that wait
// in the outbox without an attempt (behind a failure of their case), and
// the place the cursor moves to.
type CursorBatch struct {
	SubID   string
	Claim   string // the lease's token
	To      HookCursor
	Lease   time.Time // the lease runs until then
	Sent    []Attempt
	Blocked []Delivery // queued behind an earlier event of their case
	// LogOK: log the batch's last success (the failures are all logged).
	LogOK bool
}

// CursorResult is what a recorded batch left: whether the lease still held
// (if not, nothing was written: another node has the subscription) and the
// subscription's run of failures.
type CursorResult struct {
	Held bool
	Run  SubRun
}

const (
	sqlAdvanceLite = `UPDATE webhook_subs SET cursor_pos = $3, lease_until = $4,
			failures = CASE WHEN $5 = 1 THEN $6 ELSE failures + $6 END,
			failing_since = CASE WHEN $5 = 1 OR failing_since = 0 THEN $7 ELSE failing_since END,
			last_ok = CASE WHEN $5 = 1 THEN $8 ELSE last_ok END,
			log_seq = log_seq + $9
		WHERE id = $1 AND lease_claim = $2
		RETURNING state, failures, failing_since, log_seq`
	sqlAdvancePG = `UPDATE webhook_subs SET cursor_xid = CAST($10 AS xid8), cursor_pos = $3, lease_until = $4,
			failures = CASE WHEN $5 = 1 THEN $6 ELSE failures + $6 END,
			failing_since = CASE WHEN $5 = 1 OR failing_since = 0 THEN $7 ELSE failing_since END,
			last_ok = CASE WHEN $5 = 1 THEN $8 ELSE last_ok END,
			log_seq = log_seq + $9
		WHERE id = $1 AND lease_claim = $2
		RETURNING state, failures, failing_since, log_seq`
)

// AdvanceHookCursor records a cursor batch, if the lease still holds: one
// UPDATE of the subscription's row (cursor, lease, run of failures, log
// count) whatever the number of deliveries; one outbox row per failed
// attempt (waiting for its retry) and per event behind it; the log: every
// failure and, when b.LogOK, the batch's last success (a success writes no
// row of its own otherwise).
func (t *Tx) AdvanceHookCursor(ctx context.Context, b CursorBatch) (CursorResult, error) {
	var reset, n int
	var since, lastOK int64
	var logged []int
	lastSuccess := -1
	for i, a := range b.Sent {
		if a.OK {
			reset, n, since, lastOK = 1, 0, 0, ms(a.At)
			lastSuccess = i
		} else {
			if n == 0 {
				since = ms(a.At)
			}
			n++
			logged = append(logged, i)
		}
	}
	if b.LogOK && lastSuccess >= 0 {
		logged = append(logged, lastSuccess)
		// In the order the attempts ended.
		for k := len(logged) - 1; k > 0 && logged[k] < logged[k-1]; k-- {
			logged[k], logged[k-1] = logged[k-1], logged[k]
		}
	}
	var res CursorResult
	var row *Row
	args := []any{b.SubID, b.Claim, b.To.Pos, ms(b.Lease), reset, n, since, lastOK, len(logged)}
	if t.dialect == Postgres {
		row = t.QueryRow(ctx, sqlAdvancePG, append(args, strconv.FormatUint(b.To.X, 10))...)
	} else {
		row = t.QueryRow(ctx, sqlAdvanceLite, args...)
	}
	var fsince, seq int64
	err := row.Scan(&res.Run.State, &res.Run.Failures, &fsince, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return res, nil // the lease was lost, or the subscription removed
	} else if err != nil {
		return res, fmt.Errorf("advance webhook cursor: %w", err)
	}
	res.Held, res.Run.ID, res.Run.FailingSince = true, b.SubID, msTime(fsince)
	for _, a := range b.Sent {
		if !a.OK {
			if err := t.put(ctx, outboxRows, a.CaseID, b.SubID, a.Seq, ms(a.At), ms(a.Retry), 1); err != nil {
				return res, fmt.Errorf("outbox %s %s/%d: %w", b.SubID, a.CaseID, a.Seq, err)
			}
		}
	}
	for _, d := range b.Blocked {
		if err := t.put(ctx, outboxRows, d.CaseID, b.SubID, d.Seq, ms(d.Queued), ms(d.Queued), 0); err != nil {
			return res, fmt.Errorf("outbox %s %s/%d: %w", b.SubID, d.CaseID, d.Seq, err)
		}
	}
	var logs [][]any
	for k, i := range logged {
		if len(logged)-k > LogKeep {
			continue
		}
		a := b.Sent[i]
		nth := seq - int64(len(logged)-k)
		logs = append(logs, []any{b.SubID, nth % LogKeep, a.LogID, a.EventID, a.CaseID, a.Kind, int64(a.Attempts + 1), ms(a.At),
			int64(a.Status), int64(boolInt(a.OK)), a.Error, a.Response, a.Duration.Milliseconds(), a.Node})
	}
	if err := t.insertMany(ctx, logRows, sqlLogLite, logs); err != nil {
		return res, fmt.Errorf("log deliveries: %w", err)
	}
	return res, nil
}

// PurgeHookEvents deletes up to limit events that every subscription's
// cursor has passed (or queued before migration 34 as outbox rows, which
// no cursor sends) and no outbox row names, oldest first, and reports how
// many. With no subscription every event no outbox row names goes (a
// subscription created later starts after them). On PostgreSQL the rows
// are taken FOR UPDATE SKIP LOCKED, so nodes purging at once never wait
// for each other.
//
// Every cursor has passed exactly the events at or before the lowest
// cursor, so the walk is bounded there: it reads the events it may delete
// and stops, also while a subscription that lags or is paused keeps a
// long backlog behind it (before, each purge walked the whole backlog on
// the writer, testing every event against every cursor). A cursor never
// moves back, so the bound read first still holds when the rows go. The
// events of migration 34 are found through their own index (migration
// 41), as no cursor has to pass them.
func (t *Tx) PurgeHookEvents(ctx context.Context, limit int) (int, error) {
	var x string
	var pos int64
	bounded := true
	var err error
	if t.dialect == Postgres {
		err = t.QueryRow(ctx, `SELECT cursor_xid::text, cursor_pos FROM webhook_subs ORDER BY cursor_xid, cursor_pos LIMIT 1`).Scan(&x, &pos)
	} else {
		err = t.QueryRow(ctx, `SELECT '', cursor_pos FROM webhook_subs ORDER BY cursor_pos LIMIT 1`).Scan(&x, &pos)
	}
	if errors.Is(err, sql.ErrNoRows) {
		bounded = false
	} else if err != nil {
		return 0, fmt.Errorf("purge webhook events: %w", err)
	}
	var n int
	purge := func(cond string, args ...any) error {
		res, err := t.Exec(ctx, sqlPurgeEvents(t.dialect, cond), append([]any{limit - n}, args...)...)
		if err != nil {
			return fmt.Errorf("purge webhook events: %w", err)
		}
		k, err := res.RowsAffected()
		n += int(k)
		return err
	}
	switch {
	case !bounded: // no subscription: every event no outbox row names goes
		err = purge("1 = 1")
	case t.dialect == Postgres:
		err = purge("(e.xid, e.pos) <= (CAST($2 AS xid8), $3)", x, pos)
	default:
		err = purge("e.pos <= $2", pos)
	}
	if err == nil && bounded && n < limit {
		err = purge("e.fanned = 1")
	}
	return n, err
}

// sqlPurgeEvents deletes up to $1 events that meet cond (alias e) and no
// outbox row names, oldest first.
func sqlPurgeEvents(d Dialect, cond string) string {
	const unnamed = `NOT EXISTS (SELECT 1 FROM webhook_outbox o WHERE o.case_id = e.case_id AND o.seq = e.seq)`
	if d == Postgres {
		return `DELETE FROM webhook_events WHERE (case_id, seq) IN (SELECT e.case_id, e.seq FROM webhook_events e
			WHERE ` + cond + ` AND ` + unnamed + ` ORDER BY e.xid, e.pos LIMIT $1 FOR UPDATE SKIP LOCKED)`
	}
	return `DELETE FROM webhook_events WHERE pos IN (SELECT e.pos FROM webhook_events e
			WHERE ` + cond + ` AND ` + unnamed + ` ORDER BY e.pos LIMIT $1)`
}

// HookBacklog counts the events some subscription's cursor has not passed
// yet (of any kind its node wrote) and the deliveries in the outbox
// (failed, waiting for their retry, or behind one).
func (db *DB) HookBacklog(ctx context.Context) (events, deliveries int, err error) {
	q := `SELECT (SELECT COUNT(*) FROM webhook_events e WHERE e.fanned = 0 AND EXISTS (SELECT 1 FROM webhook_subs s WHERE e.pos > s.cursor_pos)),
		(SELECT COUNT(*) FROM webhook_outbox)`
	if db.Dialect == Postgres {
		q = `SELECT (SELECT COUNT(*) FROM webhook_events e WHERE e.fanned = 0 AND EXISTS (SELECT 1 FROM webhook_subs s WHERE (e.xid, e.pos) > (s.cursor_xid, s.cursor_pos))),
		(SELECT COUNT(*) FROM webhook_outbox)`
	}
	err = db.read.QueryRowContext(ctx, q).Scan(&events, &deliveries)
	if err != nil {
		return 0, 0, fmt.Errorf("webhook backlog: %w", translate(err))
	}
	return events, deliveries, nil
}

// QueuedCounts are each subscription's events still to handle: those after
// its cursor (of any kind its node wrote: an upper bound of what it takes)
// and its deliveries in the outbox. Each of the two is counted up to
// limit+1 and no further, so a count above limit means "more than limit":
// a page that shows the counts walks at most that many events a
// subscription, however long a paused or lagging one's backlog (counting
// it all walked every row of it, bodies included on SQLite, at each view).
func (db *DB) QueuedCounts(ctx context.Context, limit int) (map[string]int, error) {
	after := `e.pos > s.cursor_pos`
	if db.Dialect == Postgres {
		after = `(e.xid, e.pos) > (s.cursor_xid, s.cursor_pos)`
	}
	n := strconv.Itoa(limit + 1)
	q := `SELECT s.id, (SELECT COUNT(*) FROM (SELECT 1 FROM webhook_events e WHERE e.fanned = 0 AND ` + after + ` LIMIT ` + n + `) q)
		+ (SELECT COUNT(*) FROM (SELECT 1 FROM webhook_outbox o WHERE o.sub_id = s.id LIMIT ` + n + `) q) FROM webhook_subs s`
	return db.idCounts(ctx, q, "webhook queue")
}

// TakenBy reports whether a subscription takes an event read after its
// cursor: it wants its facts, and was created before the event was queued
// (by the writing node's clock against the creating node's). An event
// queued before migration 34 as outbox rows (fanned) is sent from those.
func (e CursorEvent) TakenBy(s *webhook.Subscription) bool {
	return !e.Fanned && !s.CreatedAt.After(e.QueuedAt) && s.Wants(e.Facts)
}
