package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/webhook"
)

// Webhook subscriptions, their outbox and delivery log, and the 12345
// hotline's orders (migration 17, docs/webhooks.md).

// A case write adds one webhook_events row per step that some
// subscription takes (PutHookEvent, held and written with the batch like
// the steps), whatever the number of subscriptions, with its body once.
// Each subscription reads the events after its cursor (hookcursor.go,
// migration 34); webhook_outbox holds only the deliveries that failed
// (waiting for their retry) and the later events of their case behind
// them, narrow rows naming the event (migration 30), claimed and recorded
// a batch at a time (ClaimDeliveries, RecordAttempts). An event goes once
// every cursor has passed it and no outbox row names it (PurgeHookEvents).

// hookEventRows are the event rows a case write adds.
var hookEventRows = kind("webhook_events", "case_id, seq, event_id, kind, source, region_path, units, queued_at, body",
	[]colType{ct, ci, ct, ct, ct, ct, ct, ci, ct}, "")

// outboxRows are the outbox's deliveries: a failed delivery (one attempt)
// or an event behind one, held and written with the transaction's other
// rows.
var outboxRows = kind("webhook_outbox", "case_id, sub_id, seq, created_at, next_at, attempts",
	[]colType{ct, ct, ci, ci, ci, ci}, " ON CONFLICT (case_id, sub_id, seq) DO NOTHING")

// HookEvent is a case step some subscription takes.
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

// PutOutbox queues one event for one subscription in the outbox, due at
// at: a narrow row naming the event, whose body, ID and kind stay with the
// event (tests; the loop writes its rows with AdvanceHookCursor).
func (t *Tx) PutOutbox(ctx context.Context, subID, caseID string, seq int, at time.Time) error {
	if err := t.put(ctx, outboxRows, caseID, subID, seq, ms(at), ms(at), 0); err != nil {
		return fmt.Errorf("outbox %s %s/%d: %w", subID, caseID, seq, err)
	}
	return nil
}

// HookEventsKept counts the event rows kept: some cursor has not passed
// them, or an outbox row names them (their bodies).
func (db *DB) HookEventsKept(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("webhook events: %w", translate(err))
	}
	return n, nil
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
	// Its outbox rows go; the events its cursor had not passed go with the
	// next purge (PurgeHookEvents), once no other cursor waits for them.
	if _, err := t.Exec(ctx, `DELETE FROM webhook_outbox WHERE sub_id = $1`, id); err != nil {
		return fmt.Errorf("delete webhook subscription: %w", err)
	}
	if _, err := t.Exec(ctx, `DELETE FROM webhook_log WHERE sub_id = $1`, id); err != nil {
		return fmt.Errorf("delete webhook subscription: %w", err)
	}
	return nil
}

// Resume sets a paused subscription active again, its failures forgotten,
// its queued events due at once and its deliveries free for any node to
// take (the node that held it let it go when it saw the pause).
func (t *Tx) ResumeSubscription(ctx context.Context, id string, now time.Time) error {
	if _, err := t.Exec(ctx, `UPDATE webhook_subs SET state = 'active', pause_reason = '', paused_at = 0, failures = 0,
		failing_since = 0, lease_claim = '', lease_until = 0, updated_at = $2 WHERE id = $1`, id, ms(now)); err != nil {
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
	return db.idCounts(ctx, `SELECT sub_id, COUNT(*) FROM webhook_outbox GROUP BY sub_id`, "outbox counts")
}

// idCounts reads a statement's rows of an ID and a count into a map.
func (db *DB) idCounts(ctx context.Context, q, what string) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
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

// The delivery loop works a batch at a time: one statement claims a batch
// of deliveries, and a batch's outcomes are recorded in a few statements
// whatever its size (RecordAttempts): the delivered rows deleted in one,
// the failed ones rescheduled in one, the subscriptions' runs of failures
// updated in one, the log rows written in one (into the log's ring, over
// the oldest: logRows). On SQLite a batch is one
// JSON array parameter read with jsonb_each (one statement text, prepared
// once on the writer: hookLiteSQL; jsonb_each hands each row to ->> as
// parsed JSONB, where json_each renders it as text that every ->> parses
// again: a third of the time for the log's 14 columns); on PostgreSQL one array per column read
// with unnest.

// claimFrom selects the deliveries that may be sent at $1 (webhook.Ready,
// in SQL), up to $4, in the claim's order (index webhook_outbox_due): of an
// active subscription whose deliveries this node holds (lease token $5),
// due, not leased, with no earlier delivery of its case and subscription
// queued (the outbox's key) and no earlier event of its case after the
// subscription's cursor (only rows queued before migration 34 can have
// one). The join with the event (its key) is where the claim reads the
// body. The joins are CROSS JOINs so that SQLite walks the outbox first
// (PostgreSQL reorders them as it would inner joins): with statistics of
// the events table and none of an empty outbox (ANALYZE writes none for
// an empty table) SQLite's planner walked every event instead and probed
// the outbox for each, on the writer, at every claim: 5–7 ms a claim
// with the events of the webhook benchmark's intake kept (up to half a
// minute's, between purges), and more the longer events are kept, as a
// paused subscription's are. TestHookPlans checks the plan.
func claimFrom(after string) string {
	return `FROM webhook_outbox o CROSS JOIN webhook_subs s CROSS JOIN webhook_events ev
		WHERE s.id = o.sub_id AND ev.case_id = o.case_id AND ev.seq = o.seq
			AND o.next_at <= $1 AND o.lease_until <= $1 AND s.state = 'active' AND s.lease_claim = $5
			AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.case_id = o.case_id AND p.sub_id = o.sub_id AND p.seq < o.seq)
			AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.case_id = o.case_id AND e.seq < o.seq AND e.fanned = 0 AND ` + after + `)
		ORDER BY o.next_at, o.sub_id, o.case_id LIMIT $4`
}

var (
	sqlClaimLite = `UPDATE webhook_outbox SET lease_until = $2, claim = $3
		WHERE (case_id, sub_id, seq) IN (SELECT o.case_id, o.sub_id, o.seq ` + claimFrom(`e.pos > s.cursor_pos`) + `)
		RETURNING sub_id, case_id, seq, attempts,
			(SELECT url FROM webhook_subs WHERE id = webhook_outbox.sub_id), (SELECT secret FROM webhook_subs WHERE id = webhook_outbox.sub_id),
			(SELECT event_id || ' ' || kind || ' ' || body FROM webhook_events WHERE case_id = webhook_outbox.case_id AND seq = webhook_outbox.seq)`
	sqlClaimPG = `WITH c AS (SELECT o.sub_id, o.case_id, o.seq ` + claimFrom(`(e.xid, e.pos) > (s.cursor_xid, s.cursor_pos)`) + ` FOR UPDATE OF o SKIP LOCKED)
		UPDATE webhook_outbox o SET lease_until = $2, claim = $3 FROM c, webhook_subs s, webhook_events e
		WHERE o.sub_id = c.sub_id AND o.case_id = c.case_id AND o.seq = c.seq AND s.id = o.sub_id AND e.case_id = o.case_id AND e.seq = o.seq
		RETURNING o.sub_id, o.case_id, o.seq, o.attempts, s.url, s.secret, e.event_id, e.kind, e.body`
)

const (
	// Delivered: the rows leave the outbox, if their claim still holds.
	sqlDeliveredLite = `DELETE FROM webhook_outbox WHERE (case_id, sub_id, seq, claim) IN
		(SELECT j.value->>1, j.value->>0, j.value->>2, j.value->>3 FROM jsonb_each($1) AS j)
		RETURNING sub_id, case_id, seq`
	sqlDeliveredPG = `DELETE FROM webhook_outbox o USING unnest($1::text[], $2::text[], $3::int8[], $4::text[]) AS x(sub_id, case_id, seq, claim)
		WHERE o.sub_id = x.sub_id AND o.case_id = x.case_id AND o.seq = x.seq AND o.claim = x.claim
		RETURNING o.sub_id, o.case_id, o.seq`
	// Failed: the rows wait for their retry, if their claim still holds.
	sqlRetryLite = `UPDATE webhook_outbox SET attempts = attempts + 1, next_at = x.next_at, lease_until = 0, claim = ''
		FROM (SELECT j.value->>0 AS sub_id, j.value->>1 AS case_id, j.value->>2 AS seq, j.value->>3 AS claim, j.value->>4 AS next_at
			FROM jsonb_each($1) AS j) AS x
		WHERE webhook_outbox.sub_id = x.sub_id AND webhook_outbox.case_id = x.case_id AND webhook_outbox.seq = x.seq
			AND webhook_outbox.claim = x.claim
		RETURNING webhook_outbox.sub_id, webhook_outbox.case_id, webhook_outbox.seq`
	sqlRetryPG = `UPDATE webhook_outbox o SET attempts = o.attempts + 1, next_at = x.next_at, lease_until = 0, claim = ''
		FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::int8[]) AS x(sub_id, case_id, seq, claim, next_at)
		WHERE o.sub_id = x.sub_id AND o.case_id = x.case_id AND o.seq = x.seq AND o.claim = x.claim
		RETURNING o.sub_id, o.case_id, o.seq`
	// The subscriptions' runs of failures, once per subscription and batch:
	// reset (a delivery succeeded in the batch) sets the run to the failures
	// after the batch's last success (n, since the first of them) and last_ok
	// to that success; otherwise n failures extend the run. log_seq counts
	// the attempts logged (the log's ring).
	sqlSubRunsLite = `UPDATE webhook_subs SET
			failures = CASE WHEN x.reset = 1 THEN x.n ELSE webhook_subs.failures + x.n END,
			failing_since = CASE WHEN x.reset = 1 OR webhook_subs.failing_since = 0 THEN x.since ELSE webhook_subs.failing_since END,
			last_ok = CASE WHEN x.reset = 1 THEN x.last_ok ELSE webhook_subs.last_ok END,
			log_seq = webhook_subs.log_seq + x.logged
		FROM (SELECT j.value->>0 AS id, j.value->>1 AS reset, j.value->>2 AS n, j.value->>3 AS since, j.value->>4 AS last_ok,
			j.value->>5 AS logged FROM jsonb_each($1) AS j) AS x
		WHERE webhook_subs.id = x.id
		RETURNING webhook_subs.id, webhook_subs.state, webhook_subs.failures, webhook_subs.failing_since, webhook_subs.log_seq`
	// On PostgreSQL the subscriptions' rows are locked in ID order first, so
	// two nodes' batches never wait for each other in a cycle.
	sqlLockSubsPG = `SELECT id FROM webhook_subs WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`
	sqlSubRunsPG  = `UPDATE webhook_subs s SET
			failures = CASE WHEN x.reset = 1 THEN x.n ELSE s.failures + x.n END,
			failing_since = CASE WHEN x.reset = 1 OR s.failing_since = 0 THEN x.since ELSE s.failing_since END,
			last_ok = CASE WHEN x.reset = 1 THEN x.last_ok ELSE s.last_ok END,
			log_seq = s.log_seq + x.logged
		FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[]) AS x(id, reset, n, since, last_ok, logged)
		WHERE s.id = x.id
		RETURNING s.id, s.state, s.failures, s.failing_since, s.log_seq`
)

// LogKeep is how many attempts each subscription's log keeps: its ring's
// slots (migration 25).
const LogKeep = 100

// logRows are the delivery log's rows, written a batch at a time: attempt
// n of a subscription (its log_seq) goes to slot n mod LogKeep,
// overwriting the oldest.
var logRows = kind("webhook_log", "sub_id, slot, id, event_id, case_id, kind, attempt, at, status, ok, error, response, duration_ms, node",
	[]colType{ct, ci, ct, ct, ct, ct, ci, ci, ci, ci, ct, ct, ci, ct},
	` ON CONFLICT (sub_id, slot) DO UPDATE SET id = excluded.id, event_id = excluded.event_id, case_id = excluded.case_id,
		kind = excluded.kind, attempt = excluded.attempt, at = excluded.at, status = excluded.status, ok = excluded.ok,
		error = excluded.error, response = excluded.response, duration_ms = excluded.duration_ms, node = excluded.node`)

var sqlLogLite = logRows.jsonSQL()

// hookLiteSQL are the delivery loop's SQLite statements, prepared once on
// the writer (prepareHot) so that a batch does not parse them again.
var hookLiteSQL = []string{sqlClaimLite, sqlDeliveredLite, sqlRetryLite, sqlSubRunsLite, sqlLogLite, outboxRows.one, sqlAdvanceLite}

// Delivery is one claimed outbox row, to be sent.
type Delivery struct {
	SubID, CaseID string
	Seq           int
	EventID, Kind string
	Body          []byte
	Attempts      int // failed attempts so far
	URL, Secret   string
	Claim         string
	Queued        time.Time // when the event was queued (a delivery from a cursor)
}

// ClaimDeliveries leases up to limit outbox deliveries (failed and due for
// their retry, or behind one) that may be sent at now, in one statement
// (webhook.Ready, in SQL): of an active subscription whose deliveries the
// lease token holds (AcquireHookLeases), due, not leased, and the earliest
// queued event of its subscription and case. The lease runs until leaseUntil; the claim token makes the
// result's write conditional, so a delivery whose lease ran out and was
// claimed again is recorded once. On PostgreSQL the rows are selected FOR
// UPDATE SKIP LOCKED, like the clocks (ClaimDue), so nodes claiming at once
// never take the same row. The deliveries come in no particular order.
func (t *Tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, claim, lease string, limit int) ([]Delivery, error) {
	q := sqlClaimLite
	if t.dialect == Postgres {
		q = sqlClaimPG
	}
	rows, err := t.Query(ctx, q, ms(now), ms(leaseUntil), claim, limit, lease)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var body string
		if t.dialect == Postgres {
			err = rows.Scan(&d.SubID, &d.CaseID, &d.Seq, &d.Attempts, &d.URL, &d.Secret, &d.EventID, &d.Kind, &body)
		} else {
			// SQLite's RETURNING reads the event in one subquery: its ID,
			// kind and body joined by spaces (an ID and a kind have none).
			var ev string
			if err = rows.Scan(&d.SubID, &d.CaseID, &d.Seq, &d.Attempts, &d.URL, &d.Secret, &ev); err == nil {
				parts := strings.SplitN(ev, " ", 3)
				if len(parts) != 3 {
					err = fmt.Errorf("event of %s/%d unreadable", d.CaseID, d.Seq)
				} else {
					d.EventID, d.Kind, body = parts[0], parts[1], parts[2]
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		d.Body, d.Claim = []byte(body), claim
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
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

// SubRun is a subscription's run of failures after a batch's outcomes were
// recorded (for the pause rule).
type SubRun struct {
	ID, State    string
	Failures     int
	FailingSince time.Time
}

// RecordAttempt records one outcome (RecordAttempts) and reports whether
// its claim held.
func (t *Tx) RecordAttempt(ctx context.Context, a Attempt) (bool, error) {
	held, _, err := t.RecordAttempts(ctx, []Attempt{a})
	if err != nil {
		return false, err
	}
	return held[0], nil
}

// RecordAttempts writes a batch's outcomes, each only if its claim still
// holds: a delivered event leaves the outbox, a failed one waits for its
// retry; each subscription's run of failures is updated once, as if the
// outcomes had been recorded one by one in the batch's order; the attempts
// whose claim held are logged. A few statements whatever the batch's size.
// It reports, per attempt, whether its claim held, and the runs of the
// subscriptions it updated (in ID order). The log keeps each
// subscription's latest LogKeep attempts (a ring: logRows).
func (t *Tx) RecordAttempts(ctx context.Context, as []Attempt) ([]bool, []SubRun, error) {
	held := make([]bool, len(as))
	if len(as) == 0 {
		return held, nil, nil
	}
	type key struct {
		sub, cs string
		seq     int
	}
	first := make(map[key]int, len(as))
	var delivered, failed, again []int
	for i, a := range as {
		k := key{a.SubID, a.CaseID, a.Seq}
		if _, dup := first[k]; dup {
			again = append(again, i) // the same delivery twice: recorded after the first
			continue
		}
		first[k] = i
		if a.OK {
			delivered = append(delivered, i)
		} else {
			failed = append(failed, i)
		}
	}
	mark := func(rows *sql.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.sub, &k.cs, &k.seq); err != nil {
				return err
			}
			if i, ok := first[k]; ok {
				held[i] = true
			}
		}
		return rows.Err()
	}
	for _, part := range []struct {
		idx  []int
		ok   bool
		what string
	}{{delivered, true, "record deliveries"}, {failed, false, "record failed deliveries"}} {
		if len(part.idx) == 0 {
			continue
		}
		var rows *sql.Rows
		var err error
		if t.dialect == Postgres {
			n := len(part.idx)
			subs, cs, seqs, claims, next := make([]string, n), make([]string, n), make([]int64, n), make([]string, n), make([]int64, n)
			for j, i := range part.idx {
				a := as[i]
				subs[j], cs[j], seqs[j], claims[j], next[j] = a.SubID, a.CaseID, int64(a.Seq), a.Claim, ms(a.Retry)
			}
			if part.ok {
				rows, err = t.Query(ctx, sqlDeliveredPG, subs, cs, seqs, claims)
			} else {
				rows, err = t.Query(ctx, sqlRetryPG, subs, cs, seqs, claims, next)
			}
		} else {
			var j jsonRows
			for _, i := range part.idx {
				a := as[i]
				j.row()
				j.str(a.SubID, true)
				j.str(a.CaseID, false)
				j.int(int64(a.Seq))
				j.str(a.Claim, false)
				if !part.ok {
					j.int(ms(a.Retry))
				}
				j.end()
			}
			q := sqlDeliveredLite
			if !part.ok {
				q = sqlRetryLite
			}
			rows, err = t.Query(ctx, q, j.String())
		}
		if err == nil {
			err = mark(rows)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", part.what, err)
		}
	}

	// Each subscription's run, from its held outcomes in the batch's order.
	type run struct {
		reset         bool
		n             int
		since, lastOK int64
		logged        []int // the held attempts, in the batch's order
	}
	runs := map[string]*run{}
	var subIDs []string
	for i, a := range as {
		if !held[i] {
			continue
		}
		r := runs[a.SubID]
		if r == nil {
			r = &run{}
			runs[a.SubID] = r
			subIDs = append(subIDs, a.SubID)
		}
		if a.OK {
			r.reset, r.n, r.since, r.lastOK = true, 0, 0, ms(a.At)
		} else {
			if r.n == 0 {
				r.since = ms(a.At)
			}
			r.n++
		}
		r.logged = append(r.logged, i)
	}
	var out []SubRun
	if len(subIDs) > 0 {
		sort.Strings(subIDs)
		var rows *sql.Rows
		var err error
		if t.dialect == Postgres {
			if _, err := t.Exec(ctx, sqlLockSubsPG, subIDs); err != nil {
				return nil, nil, fmt.Errorf("record deliveries: %w", err)
			}
			n := len(subIDs)
			reset, cnt, since, lastOK, logged := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			for j, id := range subIDs {
				r := runs[id]
				reset[j], cnt[j], since[j], lastOK[j], logged[j] = int64(boolInt(r.reset)), int64(r.n), r.since, r.lastOK, int64(len(r.logged))
			}
			rows, err = t.Query(ctx, sqlSubRunsPG, subIDs, reset, cnt, since, lastOK, logged)
		} else {
			var j jsonRows
			for _, id := range subIDs {
				r := runs[id]
				j.row()
				j.str(id, true)
				j.int(int64(boolInt(r.reset)))
				j.int(int64(r.n))
				j.int(r.since)
				j.int(r.lastOK)
				j.int(int64(len(r.logged)))
				j.end()
			}
			rows, err = t.Query(ctx, sqlSubRunsLite, j.String())
		}
		if err != nil {
			return nil, nil, fmt.Errorf("record deliveries: %w", err)
		}
		// The log: a subscription's attempts numbered up to its new
		// log_seq, each in its slot of the ring (only the last LogKeep of a
		// batch, which would otherwise write a slot twice).
		var logs [][]any
		for rows.Next() {
			var r SubRun
			var since, seq int64
			if err := rows.Scan(&r.ID, &r.State, &r.Failures, &since, &seq); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("record deliveries: %w", err)
			}
			r.FailingSince = msTime(since)
			out = append(out, r)
			logged := runs[r.ID].logged
			for k, i := range logged {
				if len(logged)-k > LogKeep {
					continue
				}
				a := as[i]
				n := seq - int64(len(logged)-k) // this attempt's number, from 0
				logs = append(logs, []any{a.SubID, n % LogKeep, a.LogID, a.EventID, a.CaseID, a.Kind, int64(a.Attempts + 1), ms(a.At),
					int64(a.Status), int64(boolInt(a.OK)), a.Error, a.Response, a.Duration.Milliseconds(), a.Node})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("record deliveries: %w", err)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		if err := t.insertMany(ctx, logRows, sqlLogLite, logs); err != nil {
			return nil, nil, fmt.Errorf("log deliveries: %w", err)
		}
	}
	if len(again) > 0 {
		rest := make([]Attempt, len(again))
		for j, i := range again {
			rest[j] = as[i]
		}
		h, more, err := t.RecordAttempts(ctx, rest)
		if err != nil {
			return nil, nil, err
		}
		for j, i := range again {
			held[i] = h[j]
		}
		for _, r := range more {
			k := sort.Search(len(out), func(i int) bool { return out[i].ID >= r.ID })
			if k < len(out) && out[k].ID == r.ID {
				out[k] = r
			} else {
				out = slices.Insert(out, k, r)
			}
		}
	}
	return held, out, nil
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

const sqlOutbox = `SELECT o.sub_id, o.case_id, o.seq, o.next_at, o.lease_until, e.event_id, o.attempts
		FROM webhook_outbox o CROSS JOIN webhook_events e
		WHERE e.case_id = o.case_id AND e.seq = o.seq AND o.sub_id = $1 ORDER BY o.case_id, o.seq`

// OutboxItem is a queued event as the ordering rule sees it (tests, the
// console's queue).
type OutboxItem struct {
	webhook.Item
	EventID  string
	Attempts int
}

// Outbox reads a subscription's queued events in case and step order. It
// walks the outbox and reads each row's event by its key (a CROSS JOIN, as
// in the claim: SQLite would otherwise walk every event kept).
func (db *DB) Outbox(ctx context.Context, subID string, now time.Time) ([]OutboxItem, error) {
	rows, err := db.read.QueryContext(ctx, sqlOutbox, subID)
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
