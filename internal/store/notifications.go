package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"zhizhi/internal/notify"
)

// Notifications to people (issue 18, docs/notifications.md). An event is
// written to the outbox (notify_events) in the transaction of the change
// that made it, held with the case's rows (hold.go), so a crash never loses
// one and a case write costs no extra round trip. A fan-out claims pending
// events, writes each person's inbox row and the deliveries of the outbound
// channels; a sender claims due deliveries by lease.

// PutNotifyEvent writes an event to the outbox in this transaction.
func (t *Tx) PutNotifyEvent(ctx context.Context, id string, e notify.Event) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode notification event: %w", err)
	}
	return t.put(ctx, notifyRows, id, e.CaseID, ms(e.At), string(doc))
}

// NotifyEvent is an outbox row.
type NotifyEvent struct {
	ID    string
	Event notify.Event
}

// ClaimNotifyEvents marks up to limit events not yet fanned out as fanned
// and returns them, oldest first. It runs in the transaction that writes
// their fan-out, so a crash un-claims them; on PostgreSQL rows another node
// holds are skipped, so each event is fanned out by one node.
func (t *Tx) ClaimNotifyEvents(ctx context.Context, limit int) ([]NotifyEvent, error) {
	lock := ""
	if t.dialect == Postgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := t.Query(ctx, `SELECT id, doc FROM notify_events WHERE fanned = 0 ORDER BY id LIMIT $1`+lock, limit)
	if err != nil {
		return nil, fmt.Errorf("claim notification events: %w", err)
	}
	var found []NotifyEvent
	for rows.Next() {
		var e NotifyEvent
		var doc string
		if err := rows.Scan(&e.ID, &doc); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim notification events: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &e.Event); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decode notification event %s: %w", e.ID, err)
		}
		found = append(found, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim notification events: %w", err)
	}
	out := found[:0]
	for _, e := range found {
		res, err := t.Exec(ctx, `UPDATE notify_events SET fanned = 1 WHERE id = $1 AND fanned = 0`, e.ID)
		if err != nil {
			return nil, fmt.Errorf("claim notification event %s: %w", e.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = append(out, e)
		}
	}
	return out, nil
}

// Person is an account an event reaches.
type Person struct {
	ID    string
	Phone string
}

// Audience returns the active accounts an audience names: staff of its
// units (unit and community roles), its accounts, the commanders of its
// center, the grid workers and chiefs of its grid and, when asked, the
// leaders supervising caseID, the administrators above its Admins path;
// the account in Except is left out.
func (t *Tx) Audience(ctx context.Context, a notify.Audience, caseID string) ([]Person, error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	list := func(vs []string) string {
		ph := make([]string, len(vs))
		for i, v := range vs {
			ph[i] = arg(v)
		}
		return strings.Join(ph, ", ")
	}
	if len(a.Units) > 0 {
		conds = append(conds, `(role IN ('unit', 'community') AND unit_id IN (`+list(a.Units)+`))`)
	}
	if len(a.Accounts) > 0 {
		conds = append(conds, `id IN (`+list(a.Accounts)+`)`)
	}
	if a.Center != "" {
		conds = append(conds, `(role = 'commander' AND region_path = `+arg(a.Center)+`)`)
	}
	if a.Grid != "" {
		conds = append(conds, `(role IN ('gridworker', 'gridchief') AND region_path = `+arg(a.Grid)+`)`)
	}
	if a.Supervisor && caseID != "" {
		conds = append(conds, `id IN (SELECT supervisor_id FROM supervisions WHERE case_id = `+arg(caseID)+`)`)
	}
	if a.ListOwners && caseID != "" {
		conds = append(conds, `id IN (SELECT l.owner_id FROM list_items i JOIN leader_lists l ON l.id = i.list_id WHERE i.kind = 'case' AND i.ref_id = `+arg(caseID)+`)`)
	}
	if a.Admins != "" {
		// Administrators of the path's region or of a region above it.
		conds = append(conds, `(role = 'admin' AND region_path <> '' AND substr(CAST(`+arg(a.Admins)+` AS TEXT), 1, length(region_path)) = region_path)`)
	}
	if len(conds) == 0 {
		return nil, nil
	}
	rows, err := t.Query(ctx, `SELECT id, phone FROM accounts WHERE active = 1 AND id <> `+arg(a.Except)+
		` AND (`+strings.Join(conds, " OR ")+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("notification audience: %w", err)
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.ID, &p.Phone); err != nil {
			return nil, fmt.Errorf("notification audience: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PrefsOf returns the preferences of the accounts that set any.
func (t *Tx) PrefsOf(ctx context.Context, ids []string) (map[string]notify.Prefs, error) {
	out := map[string]notify.Prefs{}
	if len(ids) == 0 {
		return out, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = fmt.Sprintf("$%d", i+1), id
	}
	rows, err := t.Query(ctx, `SELECT account_id, doc FROM notify_prefs WHERE account_id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("notification preferences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("notification preferences: %w", err)
		}
		var p notify.Prefs
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			return nil, fmt.Errorf("decode preferences of %s: %w", id, err)
		}
		out[id] = p
	}
	return out, rows.Err()
}

// PushSub is a Web Push subscription of a browser.
type PushSub struct {
	ID        string    `json:"id"` // derived from the endpoint
	AccountID string    `json:"-"`
	Endpoint  string    `json:"endpoint"`
	P256dh    string    `json:"p256dh"`
	Auth      string    `json:"auth"`
	CreatedAt time.Time `json:"created_at"`
}

// PushSubsOf returns the subscriptions of the accounts.
func (t *Tx) PushSubsOf(ctx context.Context, ids []string) (map[string][]PushSub, error) {
	out := map[string][]PushSub{}
	if len(ids) == 0 {
		return out, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = fmt.Sprintf("$%d", i+1), id
	}
	rows, err := t.Query(ctx, `SELECT id, account_id, endpoint, p256dh, auth, created_at FROM push_subs WHERE account_id IN (`+strings.Join(ph, ", ")+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s PushSub
		var at int64
		if err := rows.Scan(&s.ID, &s.AccountID, &s.Endpoint, &s.P256dh, &s.Auth, &at); err != nil {
			return nil, fmt.Errorf("push subscriptions: %w", err)
		}
		s.CreatedAt = time.UnixMilli(at)
		out[s.AccountID] = append(out[s.AccountID], s)
	}
	return out, rows.Err()
}

// PushSubscription returns one subscription by ID.
func (db *DB) PushSubscription(ctx context.Context, id string) (PushSub, error) {
	var s PushSub
	var at int64
	err := db.read.QueryRowContext(ctx, `SELECT id, account_id, endpoint, p256dh, auth, created_at FROM push_subs WHERE id = $1`, id).
		Scan(&s.ID, &s.AccountID, &s.Endpoint, &s.P256dh, &s.Auth, &at)
	if err != nil {
		return s, fmt.Errorf("push subscription: %w", translate(err))
	}
	s.CreatedAt = time.UnixMilli(at)
	return s, nil
}

// PutPushSub stores a subscription (the same endpoint again replaces it,
// also when another account signs in on the same browser).
func (t *Tx) PutPushSub(ctx context.Context, s PushSub) error {
	_, err := t.Exec(ctx, `INSERT INTO push_subs (id, account_id, endpoint, p256dh, auth, created_at) VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at`,
		s.ID, s.AccountID, s.Endpoint, s.P256dh, s.Auth, ms(s.CreatedAt))
	if err != nil {
		return fmt.Errorf("put push subscription: %w", err)
	}
	return nil
}

// DeletePushSub removes a subscription; account, when not empty, must own it.
func (t *Tx) DeletePushSub(ctx context.Context, id, account string) (bool, error) {
	q, args := `DELETE FROM push_subs WHERE id = $1`, []any{id}
	if account != "" {
		q, args = q+` AND account_id = $2`, append(args, account)
	}
	res, err := t.Exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("delete push subscription: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Notification is one entry of a person's inbox.
type Notification struct {
	ID        string      `json:"id"`
	AccountID string      `json:"-"`
	EventID   string      `json:"event_id"`
	Kind      notify.Kind `json:"kind"`
	CaseID    string      `json:"case_id,omitempty"`
	Number    string      `json:"number,omitempty"`
	Urgent    bool        `json:"urgent"`
	Title     string      `json:"title"`
	Body      string      `json:"body,omitempty"`
	Link      string      `json:"link,omitempty"`
	At        time.Time   `json:"at"`
	ReadAt    time.Time   `json:"read_at,omitzero"`
}

type notificationDoc struct {
	Number string `json:"number,omitempty"`
	Title  string `json:"title"`
	Body   string `json:"body,omitempty"`
	Link   string `json:"link,omitempty"`
}

// InsertNotification adds an inbox entry; false if the person already has
// one for the event (a fan-out run again).
func (t *Tx) InsertNotification(ctx context.Context, n Notification) (bool, error) {
	doc, _ := json.Marshal(notificationDoc{Number: n.Number, Title: n.Title, Body: n.Body, Link: n.Link})
	urgent := 0
	if n.Urgent {
		urgent = 1
	}
	res, err := t.Exec(ctx, `INSERT INTO notifications (id, account_id, event_id, kind, case_id, urgent, at, doc) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (account_id, event_id) DO NOTHING`, n.ID, n.AccountID, n.EventID, string(n.Kind), n.CaseID, urgent, ms(n.At), string(doc))
	if err != nil {
		return false, fmt.Errorf("insert notification: %w", err)
	}
	k, _ := res.RowsAffected()
	return k == 1, nil
}

// NotifyInbox announces, on PostgreSQL, that an account's inbox changed,
// so the node holding its live connection sends the unread count again.
func (t *Tx) NotifyInbox(ctx context.Context, node, account string) error {
	if t.dialect != Postgres {
		return nil
	}
	if account == "" || strings.ContainsAny(account, " \t\n") {
		return fmt.Errorf("notify inbox: bad account %q", account)
	}
	t.notices = append(t.notices, node+" inbox "+account)
	return nil
}

// InboxFilter selects inbox entries.
type InboxFilter struct {
	Account string
	Unread  bool
	Before  string // an entry ID: page older than it
	Limit   int
}

// Notifications lists an account's inbox, newest first.
func (db *DB) Notifications(ctx context.Context, f InboxFilter) ([]Notification, error) {
	q := `SELECT id, event_id, kind, case_id, urgent, at, read_at, doc FROM notifications WHERE account_id = $1`
	args := []any{f.Account}
	if f.Unread {
		q += ` AND read_at = 0`
	}
	if f.Before != "" {
		args = append(args, f.Before)
		q += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", translate(err))
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n := Notification{AccountID: f.Account}
		var urgent int
		var at, read int64
		var doc, kind string
		if err := rows.Scan(&n.ID, &n.EventID, &kind, &n.CaseID, &urgent, &at, &read, &doc); err != nil {
			return nil, fmt.Errorf("notifications: %w", err)
		}
		var d notificationDoc
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fmt.Errorf("decode notification %s: %w", n.ID, err)
		}
		n.Kind, n.Urgent, n.At = notify.Kind(kind), urgent == 1, time.UnixMilli(at)
		if read != 0 {
			n.ReadAt = time.UnixMilli(read)
		}
		n.Number, n.Title, n.Body, n.Link = d.Number, d.Title, d.Body, d.Link
		out = append(out, n)
	}
	return out, rows.Err()
}

// Unread counts an account's unread notifications.
func (db *DB) Unread(ctx context.Context, account string) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND read_at = 0`, account).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("unread notifications: %w", translate(err))
	}
	return n, nil
}

// MarkRead marks one of the account's notifications read (ErrNotFound if
// it has none by that ID); marking it again changes nothing.
func (t *Tx) MarkRead(ctx context.Context, account, id string, now time.Time) error {
	res, err := t.Exec(ctx, `UPDATE notifications SET read_at = CASE WHEN read_at = 0 THEN $3 ELSE read_at END WHERE account_id = $1 AND id = $2`, account, id, ms(now))
	if err != nil {
		return fmt.Errorf("mark notification read: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// MarkAllRead marks every unread notification of the account read.
func (t *Tx) MarkAllRead(ctx context.Context, account string, now time.Time) (int, error) {
	res, err := t.Exec(ctx, `UPDATE notifications SET read_at = $2 WHERE account_id = $1 AND read_at = 0`, account, ms(now))
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Prefs returns an account's preferences (the defaults if it set none).
func (db *DB) Prefs(ctx context.Context, account string) (notify.Prefs, error) {
	var p notify.Prefs
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM notify_prefs WHERE account_id = $1`, account).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	} else if err != nil {
		return p, fmt.Errorf("notification preferences: %w", translate(err))
	}
	return p, json.Unmarshal([]byte(doc), &p)
}

// PutPrefs stores an account's preferences.
func (t *Tx) PutPrefs(ctx context.Context, account string, p notify.Prefs) error {
	doc, _ := json.Marshal(p)
	_, err := t.Exec(ctx, `INSERT INTO notify_prefs (account_id, doc) VALUES ($1, $2) ON CONFLICT (account_id) DO UPDATE SET doc = excluded.doc`, account, string(doc))
	if err != nil {
		return fmt.Errorf("put notification preferences: %w", err)
	}
	return nil
}

// NotifyDelivery is one push or SMS to send.
type NotifyDelivery struct {
	ID        string         `json:"id"`
	EventID   string         `json:"event_id"`
	AccountID string         `json:"account_id,omitempty"` // "" for a resident's SMS
	Channel   notify.Channel `json:"channel"`
	Target    string         `json:"target"` // a push subscription's ID, or a phone number
	State     string         `json:"state"`  // pending, sent, failed
	Attempts  int            `json:"attempts"`
	NextAt    time.Time      `json:"next_at"`
	LastError string         `json:"last_error,omitempty"`
	SentAt    time.Time      `json:"sent_at,omitzero"`
	Event     notify.Event   `json:"event"`
}

// InsertNotifyDelivery adds a delivery; nothing if the same event already has one
// on that channel to that target.
func (t *Tx) InsertNotifyDelivery(ctx context.Context, d NotifyDelivery) error {
	doc, err := json.Marshal(d.Event)
	if err != nil {
		return fmt.Errorf("encode delivery: %w", err)
	}
	_, err = t.Exec(ctx, `INSERT INTO notify_deliveries (id, event_id, account_id, channel, target, state, next_at, doc) VALUES ($1,$2,$3,$4,$5,'pending',$6,$7)
		ON CONFLICT (event_id, channel, target) DO NOTHING`, d.ID, d.EventID, d.AccountID, string(d.Channel), d.Target, ms(d.NextAt), string(doc))
	if err != nil {
		return fmt.Errorf("insert delivery: %w", err)
	}
	return nil
}

// ClaimNotifyDeliveries leases up to limit pending deliveries due at now: each
// one's next try moves to now + lease and its attempts count up, with a
// conditional update, so while the lease runs no other node (or sweep) takes
// it; a node that dies while sending leaves it to be tried again after the
// lease.
func (t *Tx) ClaimNotifyDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]NotifyDelivery, error) {
	lock := ""
	if t.dialect == Postgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := t.Query(ctx, `SELECT id, event_id, account_id, channel, target, attempts, next_at, doc FROM notify_deliveries
		WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at, event_id LIMIT $2`+lock, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	var found []NotifyDelivery
	for rows.Next() {
		var d NotifyDelivery
		var next int64
		var ch, doc string
		if err := rows.Scan(&d.ID, &d.EventID, &d.AccountID, &ch, &d.Target, &d.Attempts, &next, &doc); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &d.Event); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decode delivery %s: %w", d.ID, err)
		}
		d.Channel, d.NextAt, d.State = notify.Channel(ch), time.UnixMilli(next), "pending"
		found = append(found, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out := found[:0]
	for _, d := range found {
		res, err := t.Exec(ctx, `UPDATE notify_deliveries SET next_at = $1, attempts = attempts + 1
			WHERE id = $2 AND state = 'pending' AND attempts = $3 AND next_at = $4`, ms(now.Add(lease)), d.ID, d.Attempts, ms(d.NextAt))
		if err != nil {
			return nil, fmt.Errorf("claim delivery %s: %w", d.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			d.Attempts++
			out = append(out, d)
		}
	}
	return out, nil
}

// FinishNotifyDelivery records the outcome of the attempt a claim counted: sent,
// or failed with the next try at next (zero: given up). A holder whose
// lease another node already took over (attempts moved on) changes nothing.
func (t *Tx) FinishNotifyDelivery(ctx context.Context, d NotifyDelivery, sent bool, errText string, next, now time.Time) error {
	var err error
	switch {
	case sent:
		_, err = t.Exec(ctx, `UPDATE notify_deliveries SET state = 'sent', sent_at = $1, last_error = '' WHERE id = $2 AND attempts = $3 AND state = 'pending'`, ms(now), d.ID, d.Attempts)
	case next.IsZero():
		_, err = t.Exec(ctx, `UPDATE notify_deliveries SET state = 'failed', last_error = $1 WHERE id = $2 AND attempts = $3 AND state = 'pending'`, trimErr(errText), d.ID, d.Attempts)
	default:
		_, err = t.Exec(ctx, `UPDATE notify_deliveries SET next_at = $1, last_error = $2 WHERE id = $3 AND attempts = $4 AND state = 'pending'`, ms(next), trimErr(errText), d.ID, d.Attempts)
	}
	if err != nil {
		return fmt.Errorf("finish delivery %s: %w", d.ID, err)
	}
	return nil
}

func trimErr(s string) string {
	if r := []rune(s); len(r) > 500 {
		return string(r[:500])
	}
	return s
}

// DeliveryFilter selects deliveries to look at.
type DeliveryFilter struct {
	EventID string
	Channel notify.Channel
	Account string
}

// Deliveries lists deliveries, oldest first (at most 500).
func (db *DB) Deliveries(ctx context.Context, f DeliveryFilter) ([]NotifyDelivery, error) {
	q := `SELECT id, event_id, account_id, channel, target, state, attempts, next_at, last_error, sent_at, doc FROM notify_deliveries WHERE 1 = 1`
	var args []any
	if f.EventID != "" {
		args = append(args, f.EventID)
		q += fmt.Sprintf(` AND event_id = $%d`, len(args))
	}
	if f.Channel != "" {
		args = append(args, string(f.Channel))
		q += fmt.Sprintf(` AND channel = $%d`, len(args))
	}
	if f.Account != "" {
		args = append(args, f.Account)
		q += fmt.Sprintf(` AND account_id = $%d`, len(args))
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY id LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", translate(err))
	}
	defer rows.Close()
	var out []NotifyDelivery
	for rows.Next() {
		var d NotifyDelivery
		var next, sent int64
		var ch, doc string
		if err := rows.Scan(&d.ID, &d.EventID, &d.AccountID, &ch, &d.Target, &d.State, &d.Attempts, &next, &d.LastError, &sent, &doc); err != nil {
			return nil, fmt.Errorf("deliveries: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &d.Event); err != nil {
			return nil, fmt.Errorf("decode delivery %s: %w", d.ID, err)
		}
		d.Channel, d.NextAt = notify.Channel(ch), time.UnixMilli(next)
		if sent != 0 {
			d.SentAt = time.UnixMilli(sent)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// NotifyBacklog counts the events not yet fanned out and the deliveries
// still pending.
func (db *DB) NotifyBacklog(ctx context.Context) (events, deliveries int, err error) {
	if err = db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_events WHERE fanned = 0`).Scan(&events); err != nil {
		return 0, 0, fmt.Errorf("notification backlog: %w", translate(err))
	}
	if err = db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_deliveries WHERE state = 'pending'`).Scan(&deliveries); err != nil {
		return 0, 0, fmt.Errorf("notification backlog: %w", translate(err))
	}
	return events, deliveries, nil
}
