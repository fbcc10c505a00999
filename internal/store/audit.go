package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AuditEntry is one change to reference data: who changed what, when, and
// the record before and after (JSON; empty when created or removed).
type AuditEntry struct {
	ID        string          `json:"id"`
	At        time.Time       `json:"at"`
	ActorID   string          `json:"actor_id"`
	ActorName string          `json:"actor_name"`
	Kind      string          `json:"kind"` // unit, category, account, calendar, regions, evaluation_rules, api_key, personal_data
	ObjectID  string          `json:"object_id"`
	Action    string          `json:"action"` // create, update, revoke; read (of personal data)
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
}

// Audit appends an entry to the audit trail, in the transaction of the
// change it records.
func (t *Tx) Audit(ctx context.Context, e AuditEntry) error {
	_, err := t.Exec(ctx, `INSERT INTO audit (id, at, actor_id, actor_name, kind, object_id, action, before_doc, after_doc)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		e.ID, ms(e.At), e.ActorID, e.ActorName, e.Kind, e.ObjectID, e.Action, string(e.Before), string(e.After))
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", e.Kind, e.ObjectID, err)
	}
	return nil
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	Kind     string
	ObjectID string
	ActorID  string
	Action   string
	From, To time.Time // entries at or after From and before To
	Before   string    // keyset cursor: entries with ID below this
	Limit    int
}

// AuditLog lists audit entries newest first.
func (db *DB) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	q := `SELECT id, at, actor_id, actor_name, kind, object_id, action, before_doc, after_doc FROM audit WHERE 1 = 1`
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.Kind != "" {
		q += ` AND kind = ` + arg(f.Kind)
	}
	if f.ObjectID != "" {
		q += ` AND object_id = ` + arg(f.ObjectID)
	}
	if f.ActorID != "" {
		q += ` AND actor_id = ` + arg(f.ActorID)
	}
	if f.Action != "" {
		q += ` AND action = ` + arg(f.Action)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ` + arg(ms(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND at < ` + arg(ms(f.To))
	}
	if f.Before != "" {
		q += ` AND id < ` + arg(f.Before)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q += ` ORDER BY id DESC LIMIT ` + arg(f.Limit)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", translate(err))
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		var before, after string
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.ActorName, &e.Kind, &e.ObjectID, &e.Action, &before, &after); err != nil {
			return nil, fmt.Errorf("audit log: %w", translate(err))
		}
		e.At = time.UnixMilli(at).UTC()
		if before != "" {
			e.Before = json.RawMessage(before)
		}
		if after != "" {
			e.After = json.RawMessage(after)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
