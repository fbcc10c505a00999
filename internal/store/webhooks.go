package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"zhizhi/internal/webhook"
)

// Webhook subscriptions, their outbox and delivery log, and the 12345
// hotline's orders (migration 17, docs/webhooks.md).

// Webhook events go out in two steps. A case write adds one
// webhook_events row per step that some subscription takes (PutHookEvent,
// held and written with the batch like the steps), whatever the number of
// subscriptions; the delivery loop's fan-out (ClaimHookEvents, PutOutbox,
// DoneHookEvents, in one transaction) turns each event into one
// webhook_outbox row per subscription that takes it and deletes the event.

// hookEventRows are the event rows a case write adds.
var hookEventRows = kind("webhook_events", "case_id, seq, event_id, kind, source, region_path, units, queued_at, body",
	[]colType{ct, ci, ct, ct, ct, ct, ct, ci, ct}, "")

// outboxRows are the deliveries the fan-out adds: one per subscription that
// takes an event, held and written with the transaction's other rows.
var outboxRows = kind("webhook_outbox", "sub_id, case_id, seq, event_id, kind, body, created_at, next_at",
	[]colType{ct, ct, ci, ct, ct, ct, ci, ci}, "")

// HookEvent is a case step waiting for the fan-out.
type HookEvent struct {
	CaseID   string
	Seq      int
	EventID  string
	Facts    webhook.Facts
	QueuedAt time.Time // when the change that made it was written (a later subscription does not take it)
	Body     []byte
}

// PutHookEvent queues one event in the transaction of the case change that
// made it: it exists if and only if that change commits.
func (t *Tx) PutHookEvent(ctx context.Context, e HookEvent) error {
	units := " " + strings.Join(e.Facts.Units, " ") + " "
	if len(e.Facts.Units) == 0 {
		units = " "
	}
	if err := t.put(ctx, hookEventRows, e.CaseID, e.Seq, e.EventID, e.Facts.Kind, e.Facts.Source, e.Facts.RegionPath, units,
		ms(e.QueuedAt), string(e.Body)); err != nil {
		return fmt.Errorf("webhook event %s: %w", e.EventID, err)
	}
	return nil
}

// ClaimHookEvents reads up to limit events waiting for the fan-out, oldest
// first. On PostgreSQL they are locked FOR UPDATE SKIP LOCKED, so nodes
// fanning out at once take different events; the caller writes their
// deliveries and deletes them (DoneHookEvents) in the same transaction, so
// each event is fanned out once, and a crash before the commit leaves it
// waiting.
func (t *Tx) ClaimHookEvents(ctx context.Context, limit int) ([]HookEvent, error) {
	lock := ""
	if t.dialect == Postgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := t.Query(ctx, `SELECT case_id, seq, event_id, kind, source, region_path, units, queued_at, body
		FROM webhook_events ORDER BY queued_at, case_id, seq LIMIT $1`+lock, limit)
	if err != nil {
		return nil, fmt.Errorf("claim webhook events: %w", err)
	}
	defer rows.Close()
	var out []HookEvent
	for rows.Next() {
		var e HookEvent
		var units, body string
		var at int64
		if err := rows.Scan(&e.CaseID, &e.Seq, &e.EventID, &e.Facts.Kind, &e.Facts.Source, &e.Facts.RegionPath, &units, &at, &body); err != nil {
			return nil, fmt.Errorf("claim webhook events: %w", err)
		}
		e.Facts.Units, e.QueuedAt, e.Body = strings.Fields(units), time.UnixMilli(at).UTC(), []byte(body)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim webhook events: %w", err)
	}
	return out, nil
}

// DoneHookEvents deletes fanned-out events (claimed in this transaction).
func (t *Tx) DoneHookEvents(ctx context.Context, evs []HookEvent) error {
	for _, e := range evs {
		if _, err := t.Exec(ctx, `DELETE FROM webhook_events WHERE case_id = $1 AND seq = $2`, e.CaseID, e.Seq); err != nil {
			return fmt.Errorf("fanned-out webhook event %s: %w", e.EventID, err)
		}
	}
	return nil
}

// FanOutSubscriptions reads every subscription in the fan-out's
// transaction. On PostgreSQL the rows are locked FOR KEY SHARE: a
// subscription being removed waits for the fan-out's commit (and then
// removes the deliveries it added), while outcomes recorded meanwhile (which
// update other columns) do not wait.
func (t *Tx) FanOutSubscriptions(ctx context.Context) ([]webhook.Subscription, error) {
	lock := ""
	if t.dialect == Postgres {
		lock = ` FOR KEY SHARE`
	}
	rows, err := t.Query(ctx, `SELECT `+subCols+` FROM webhook_subs ORDER BY id`+lock)
	if err != nil {
		return nil, fmt.Errorf("list webhook subscriptions: %w", err)
	}
	defer rows.Close()
	var out []webhook.Subscription
	for rows.Next() {
		s, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// PutOutbox queues one event for one subscription (the fan-out).
func (t *Tx) PutOutbox(ctx context.Context, subID, caseID string, seq int, eventID, kind string, body []byte, at time.Time) error {
	if err := t.put(ctx, outboxRows, subID, caseID, seq, eventID, kind, string(body), ms(at), ms(at)); err != nil {
		return fmt.Errorf("outbox %s %s: %w", subID, eventID, err)
	}
	return nil
}

// HookBacklog counts the events waiting for the fan-out and the deliveries
// queued (of every subscription).
func (db *DB) HookBacklog(ctx context.Context) (events, deliveries int, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM webhook_events), (SELECT COUNT(*) FROM webhook_outbox)`).Scan(&events, &deliveries)
	if err != nil {
		return 0, 0, fmt.Errorf("webhook backlog: %w", translate(err))
	}
	return events, deliveries, nil
}

const subCols = `id, name, url, events, sources, region_code, region_path, unit_id, secret, state, pause_reason, paused_at,
	failures, failing_since, last_ok, created_at, created_by, updated_at`

func scanSub(row interface{ Scan(...any) error }) (webhook.Subscription, error) {
	var s webhook.Subscription
	var events, sources string
	var paused, since, lastOK, created, updated int64
	if err := row.Scan(&s.ID, &s.Name, &s.URL, &events, &sources, &s.RegionCode, &s.RegionPath, &s.UnitID, &s.Secret, &s.State,
		&s.PauseReason, &paused, &s.Failures, &since, &lastOK, &created, &s.CreatedBy, &updated); err != nil {
		return s, fmt.Errorf("webhook subscription: %w", translate(err))
	}
	if err := json.Unmarshal([]byte(events), &s.Events); err != nil {
		return s, fmt.Errorf("webhook subscription %s events: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(sources), &s.Sources); err != nil {
		return s, fmt.Errorf("webhook subscription %s sources: %w", s.ID, err)
	}
	s.PausedAt, s.FailingSince, s.LastOK = msTime(paused), msTime(since), msTime(lastOK)
	s.CreatedAt, s.UpdatedAt = msTime(created), msTime(updated)
	return s, nil
}

func msTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// PutSubscription inserts or replaces a subscription (all its fields).
func (t *Tx) PutSubscription(ctx context.Context, s webhook.Subscription) error {
	events, err := json.Marshal(s.Events)
	if err != nil {
		return err
	}
	sources, err := json.Marshal(s.Sources)
	if err != nil {
		return err
	}
	if s.Sources == nil {
		sources = []byte("[]")
	}
	_, err = t.Exec(ctx, `INSERT INTO webhook_subs (`+subCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url, events = excluded.events, sources = excluded.sources,
			region_code = excluded.region_code, region_path = excluded.region_path, unit_id = excluded.unit_id,
			secret = excluded.secret, state = excluded.state, pause_reason = excluded.pause_reason, paused_at = excluded.paused_at,
			failures = excluded.failures, failing_since = excluded.failing_since, last_ok = excluded.last_ok,
			updated_at = excluded.updated_at`,
		s.ID, s.Name, s.URL, string(events), string(sources), s.RegionCode, s.RegionPath, s.UnitID, s.Secret, s.State, s.PauseReason,
		zeroMs(s.PausedAt), s.Failures, zeroMs(s.FailingSince), zeroMs(s.LastOK), ms(s.CreatedAt), s.CreatedBy, ms(s.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put webhook subscription: %w", err)
	}
	return nil
}

// Subscription reads one subscription in the write transaction.
func (t *Tx) Subscription(ctx context.Context, id string) (webhook.Subscription, error) {
	return scanSub(t.QueryRow(ctx, `SELECT `+subCols+` FROM webhook_subs WHERE id = $1`, id))
}

// DeleteSubscription removes a subscription with its queued events and log.
func (t *Tx) DeleteSubscription(ctx context.Context, id string) error {
	res, err := t.Exec(ctx, `DELETE FROM webhook_subs WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete webhook subscription: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("webhook subscription %s: %w", id, ErrNotFound)
	}
	for _, q := range []string{`DELETE FROM webhook_outbox WHERE sub_id = $1`, `DELETE FROM webhook_log WHERE sub_id = $1`} {
		if _, err := t.Exec(ctx, q, id); err != nil {
			return fmt.Errorf("delete webhook subscription: %w", err)
		}
	}
	return nil
}

// Resume sets a paused subscription active again, its failures forgotten
// and its queued events due at once.
func (t *Tx) ResumeSubscription(ctx context.Context, id string, now time.Time) error {
	if _, err := t.Exec(ctx, `UPDATE webhook_subs SET state = 'active', pause_reason = '', paused_at = 0, failures = 0,
		failing_since = 0, updated_at = $2 WHERE id = $1`, id, ms(now)); err != nil {
		return fmt.Errorf("resume webhook subscription: %w", err)
	}
	if _, err := t.Exec(ctx, `UPDATE webhook_outbox SET next_at = $2 WHERE sub_id = $1 AND next_at > $2`, id, ms(now)); err != nil {
		return fmt.Errorf("resume webhook subscription: %w", err)
	}
	return nil
}

// Subscriptions lists every subscription, by name.
func (db *DB) Subscriptions(ctx context.Context) ([]webhook.Subscription, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+subCols+` FROM webhook_subs ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list webhook subscriptions: %w", translate(err))
	}
	defer rows.Close()
	var out []webhook.Subscription
	for rows.Next() {
		s, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// OutboxCounts are the queued events of each subscription.
func (db *DB) OutboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT sub_id, COUNT(*) FROM webhook_outbox GROUP BY sub_id`)
	if err != nil {
		return nil, fmt.Errorf("outbox counts: %w", translate(err))
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// Delivery is one claimed outbox row, to be sent.
type Delivery struct {
	SubID, CaseID string
	Seq           int
	EventID, Kind string
	Body          []byte
	Attempts      int // failed attempts so far
	URL, Secret   string
	Claim         string
}

// ClaimDeliveries leases up to limit deliveries that may be sent at now
// (webhook.Ready, in SQL): of an active subscription, due, not leased, and
// the earliest queued event of its subscription and case, with no earlier
// event of its case still waiting for the fan-out (fan-outs on two nodes
// may commit a case's later event first; it waits for the earlier one). The lease runs
// until leaseUntil; the claim token makes the result's write conditional,
// so a delivery whose lease ran out and was claimed again is recorded once.
// On PostgreSQL the rows are selected FOR UPDATE SKIP LOCKED, like the
// clocks (ClaimDue), so nodes claiming at once never take the same row.
func (t *Tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, claim string, limit int) ([]Delivery, error) {
	lock := ""
	if t.dialect == Postgres {
		lock = ` FOR UPDATE OF o SKIP LOCKED`
	}
	rows, err := t.Query(ctx, `SELECT o.sub_id, o.case_id, o.seq, o.event_id, o.kind, o.body, o.attempts, o.lease_until, s.url, s.secret
		FROM webhook_outbox o JOIN webhook_subs s ON s.id = o.sub_id
		WHERE o.next_at <= $1 AND o.lease_until <= $1 AND s.state = 'active'
			AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.sub_id = o.sub_id AND p.case_id = o.case_id AND p.seq < o.seq)
			AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.case_id = o.case_id AND e.seq < o.seq)
		ORDER BY o.next_at, o.sub_id, o.case_id LIMIT $2`+lock, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	var found []Delivery
	var leases []int64
	for rows.Next() {
		var d Delivery
		var body string
		var lease int64
		if err := rows.Scan(&d.SubID, &d.CaseID, &d.Seq, &d.EventID, &d.Kind, &body, &d.Attempts, &lease, &d.URL, &d.Secret); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		d.Body, d.Claim = []byte(body), claim
		found = append(found, d)
		leases = append(leases, lease)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	var out []Delivery
	for i, d := range found {
		res, err := t.Exec(ctx, `UPDATE webhook_outbox SET lease_until = $4, claim = $5
			WHERE sub_id = $1 AND case_id = $2 AND seq = $3 AND lease_until = $6`,
			d.SubID, d.CaseID, d.Seq, ms(leaseUntil), claim, leases[i])
		if err != nil {
			return nil, fmt.Errorf("claim delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = append(out, d)
		}
	}
	return out, nil
}

// Attempt is the outcome of sending one delivery.
type Attempt struct {
	Delivery
	At       time.Time
	Status   int // 0: no answer
	OK       bool
	Error    string
	Response string // the start of the receiver's answer
	Duration time.Duration
	Node     string
	LogID    string
	Retry    time.Time // when a failed delivery is tried again
}

// RecordAttempt writes an attempt's outcome if the claim still holds: a
// delivered event leaves the outbox, a failed one waits for its retry; the
// subscription's run of failures is updated and the attempt logged (the
// log keeps each subscription's latest keepLog attempts). It reports
// whether the claim held.
func (t *Tx) RecordAttempt(ctx context.Context, a Attempt, keepLog int) (bool, error) {
	var res sql.Result
	var err error
	if a.OK {
		res, err = t.Exec(ctx, `DELETE FROM webhook_outbox WHERE sub_id = $1 AND case_id = $2 AND seq = $3 AND claim = $4`,
			a.SubID, a.CaseID, a.Seq, a.Claim)
	} else {
		res, err = t.Exec(ctx, `UPDATE webhook_outbox SET attempts = attempts + 1, next_at = $5, lease_until = 0, claim = ''
			WHERE sub_id = $1 AND case_id = $2 AND seq = $3 AND claim = $4`, a.SubID, a.CaseID, a.Seq, a.Claim, ms(a.Retry))
	}
	if err != nil {
		return false, fmt.Errorf("record delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil // the lease ran out and another worker has it
	}
	if a.OK {
		_, err = t.Exec(ctx, `UPDATE webhook_subs SET failures = 0, failing_since = 0, last_ok = $2 WHERE id = $1`, a.SubID, ms(a.At))
	} else {
		_, err = t.Exec(ctx, `UPDATE webhook_subs SET failures = failures + 1,
			failing_since = CASE WHEN failing_since = 0 THEN $2 ELSE failing_since END WHERE id = $1`, a.SubID, ms(a.At))
	}
	if err != nil {
		return false, fmt.Errorf("record delivery: %w", err)
	}
	if _, err := t.Exec(ctx, `INSERT INTO webhook_log (id, sub_id, event_id, case_id, kind, attempt, at, status, ok, error, response, duration_ms, node)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
		a.LogID, a.SubID, a.EventID, a.CaseID, a.Kind, a.Attempts+1, ms(a.At), a.Status, boolInt(a.OK), a.Error, a.Response,
		a.Duration.Milliseconds(), a.Node); err != nil {
		return false, fmt.Errorf("log delivery: %w", err)
	}
	return true, nil
}

// TrimLog keeps a subscription's latest keep log entries.
func (t *Tx) TrimLog(ctx context.Context, subID string, keep int) error {
	_, err := t.Exec(ctx, `DELETE FROM webhook_log WHERE sub_id = $1 AND id < COALESCE((SELECT id FROM webhook_log
		WHERE sub_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2), '')`, subID, keep-1)
	if err != nil {
		return fmt.Errorf("trim webhook log: %w", err)
	}
	return nil
}

// PauseSubscription pauses an active subscription; false when it was not
// active (paused already, by another node or an administrator).
func (t *Tx) PauseSubscription(ctx context.Context, id, reason string, now time.Time) (bool, error) {
	res, err := t.Exec(ctx, `UPDATE webhook_subs SET state = 'paused', pause_reason = $2, paused_at = $3, updated_at = $3
		WHERE id = $1 AND state = 'active'`, id, reason, ms(now))
	if err != nil {
		return false, fmt.Errorf("pause webhook subscription: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// LogEntry is one logged attempt.
type LogEntry struct {
	ID         string    `json:"id"`
	EventID    string    `json:"event_id"`
	CaseID     string    `json:"case_id"`
	Kind       string    `json:"kind"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	Status     int       `json:"status"`
	OK         bool      `json:"ok"`
	Error      string    `json:"error,omitempty"`
	Response   string    `json:"response,omitempty"`
	DurationMs int64     `json:"duration_ms"`
	Node       string    `json:"node"`
}

// DeliveryLog reads a subscription's latest attempts, newest first.
func (db *DB) DeliveryLog(ctx context.Context, subID string, limit int) ([]LogEntry, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, event_id, case_id, kind, attempt, at, status, ok, error, response, duration_ms, node
		FROM webhook_log WHERE sub_id = $1 ORDER BY id DESC LIMIT $2`, subID, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook log: %w", translate(err))
	}
	defer rows.Close()
	var out []LogEntry
	for rows.Next() {
		var e LogEntry
		var at int64
		var ok int
		if err := rows.Scan(&e.ID, &e.EventID, &e.CaseID, &e.Kind, &e.Attempt, &at, &e.Status, &ok, &e.Error, &e.Response, &e.DurationMs, &e.Node); err != nil {
			return nil, err
		}
		e.At, e.OK = time.UnixMilli(at).UTC(), ok != 0
		out = append(out, e)
	}
	return out, rows.Err()
}

// OutboxItem is a queued event as the ordering rule sees it (tests, the
// console's queue).
type OutboxItem struct {
	webhook.Item
	EventID  string
	Attempts int
}

// Outbox reads a subscription's queued events in case and step order.
func (db *DB) Outbox(ctx context.Context, subID string, now time.Time) ([]OutboxItem, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT sub_id, case_id, seq, next_at, lease_until, event_id, attempts
		FROM webhook_outbox WHERE sub_id = $1 ORDER BY case_id, seq`, subID)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", translate(err))
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var it OutboxItem
		var next, lease int64
		if err := rows.Scan(&it.Sub, &it.CaseID, &it.Seq, &next, &lease, &it.EventID, &it.Attempts); err != nil {
			return nil, err
		}
		it.NextAt, it.Leased = time.UnixMilli(next).UTC(), lease > ms(now)
		out = append(out, it)
	}
	return out, rows.Err()
}

// HotlineOrder maps a 12345 work order to its case.
type HotlineOrder struct {
	Number     string
	CaseID     string
	KeyID      string
	ReceivedAt time.Time
	LimitAt    time.Time
	Doc        []byte // the order as received
}

// InsertHotlineOrder records an order with its case, in the report's
// transaction; an order number already taken is ErrConflict.
func (t *Tx) InsertHotlineOrder(ctx context.Context, o HotlineOrder) error {
	_, err := t.Exec(ctx, `INSERT INTO hotline_orders (number, case_id, key_id, received_at, limit_at, doc) VALUES ($1,$2,$3,$4,$5,$6)`,
		o.Number, o.CaseID, o.KeyID, ms(o.ReceivedAt), zeroMs(o.LimitAt), string(o.Doc))
	if err != nil {
		return fmt.Errorf("hotline order %s: %w", o.Number, err)
	}
	return nil
}

// HotlineOrder reads an order by its number in the write transaction.
func (t *Tx) HotlineOrder(ctx context.Context, number string) (HotlineOrder, error) {
	return scanOrder(t.QueryRow(ctx, `SELECT number, case_id, key_id, received_at, limit_at, doc FROM hotline_orders WHERE number = $1`, number))
}

// HotlineOrder reads an order by its number.
func (db *DB) HotlineOrder(ctx context.Context, number string) (HotlineOrder, error) {
	return scanOrder(db.read.QueryRowContext(ctx, `SELECT number, case_id, key_id, received_at, limit_at, doc FROM hotline_orders WHERE number = $1`, number))
}

func scanOrder(row interface{ Scan(...any) error }) (HotlineOrder, error) {
	var o HotlineOrder
	var recv, limit int64
	var doc string
	if err := row.Scan(&o.Number, &o.CaseID, &o.KeyID, &recv, &limit, &doc); err != nil {
		return o, fmt.Errorf("hotline order: %w", translate(err))
	}
	o.ReceivedAt, o.LimitAt, o.Doc = time.UnixMilli(recv).UTC(), msTime(limit), []byte(doc)
	return o, nil
}
