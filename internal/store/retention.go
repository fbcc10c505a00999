package store

import (
	"context"
	"fmt"
)

// HistoryPurged counts what PurgeHistory deleted.
type HistoryPurged struct {
	Notifications int // read inbox entries
	Deliveries    int // sent or given-up notification deliveries (push, SMS)
	Events        int // notification events fanned out
	WebhookLog    int // webhook delivery log entries
	HookEvents    int // webhook events every subscription's cursor has passed, with no outbox row left (store.PurgeHookEvents)
}

// Total is the number of rows deleted.
func (h HistoryPurged) Total() int {
	return h.Notifications + h.Deliveries + h.Events + h.WebhookLog + h.HookEvents
}

// PurgeHistory deletes the notification and webhook history made before
// the identifier bound (identifiers sort by their time: id.At of the
// retention's start): read notifications, notification deliveries no
// longer pending, fanned-out notification events, and webhook delivery
// log entries; and, whatever their age, webhook events that every
// subscription's cursor has passed with no outbox row left
// (PurgeHookEvents; the delivery loop purges them too). Unread
// notifications, pending deliveries, notification events not yet fanned
// out and webhook events still to be delivered are never touched. Each transaction deletes at most batch rows of one table, so
// a large backlog never holds the writer long; it goes on until nothing
// is left.
func (db *DB) PurgeHistory(ctx context.Context, bound string, batch int) (HistoryPurged, error) {
	var out HistoryPurged
	for _, p := range []struct {
		table, cond string
		n           *int
	}{
		{"notifications", "read_at <> 0", &out.Notifications},
		{"notify_deliveries", "state <> 'pending'", &out.Deliveries},
		{"notify_events", "fanned = 1", &out.Events},
		{"webhook_log", "1 = 1", &out.WebhookLog},
	} {
		q := `DELETE FROM ` + p.table + ` WHERE id IN (SELECT id FROM ` + p.table + ` WHERE id < $1 AND ` + p.cond + ` ORDER BY id LIMIT $2)`
		for {
			var n int64
			err := db.Write(ctx, func(tx *Tx) error {
				res, err := tx.Exec(ctx, q, bound, batch)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return out, fmt.Errorf("purge %s: %w", p.table, err)
			}
			*p.n += int(n)
			if n < int64(batch) || ctx.Err() != nil {
				break
			}
		}
	}
	// Webhook events every cursor has passed and no outbox row names:
	// whatever their age, as they are needed no more.
	for ctx.Err() == nil {
		var n int
		err := db.Write(ctx, func(tx *Tx) error {
			var err error
			n, err = tx.PurgeHookEvents(ctx, batch)
			return err
		})
		if err != nil {
			return out, fmt.Errorf("purge webhook events: %w", err)
		}
		out.HookEvents += n
		if n < batch {
			break
		}
	}
	return out, ctx.Err()
}
