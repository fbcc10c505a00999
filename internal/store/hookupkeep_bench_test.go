package store

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"zhizhi/internal/webhook"
)

// BenchmarkHookUpkeep times the two statements of the delivery loop that
// run on the writer whatever the traffic: the outbox's claim (once a
// second on every node, also with nothing in the outbox) and the purge of
// the events every cursor has passed (every 2 s, every 30 s while intake
// runs), with `events` events kept (bodies of 700 bytes, about a report's),
// planner statistics taken (ANALYZE), an empty outbox and one subscription
// whose cursor is at the start (a paused or lagging subscription: every
// event is kept, none may go); and a read the console's list of
// subscriptions makes at each view, the count of each one's queue
// (QueuedCounts, stopping past 10,000).
//
//	go test ./internal/store -run '^$' -bench HookUpkeep -benchtime 20x
func BenchmarkHookUpkeep(b *testing.B) {
	for _, engine := range []Dialect{SQLite, Postgres} {
		if engine == Postgres && os.Getenv(pgEnv) == "" {
			continue
		}
		for _, n := range []int{20_000, 150_000} {
			b.Run(fmt.Sprintf("%s/events=%d", engine, n), func(b *testing.B) { benchHookUpkeep(b, n) })
		}
	}
}

func benchHookUpkeep(b *testing.B, n int) {
	ctx := context.Background()
	db, err := Open(ctx, testDSN(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	fill := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
		INSERT INTO webhook_events (case_id, seq, event_id, kind, source, region_path, units, queued_at, body)
		SELECT printf('c%07d', i), 1, printf('e%07d', i), 'report', 'patrol', '/500000/500103/', ' ', i, printf('{"n":"%.*c"}', 690, 'x') FROM n`
	if db.Dialect == Postgres {
		fill = `INSERT INTO webhook_events (case_id, seq, event_id, kind, source, region_path, units, queued_at, body)
			SELECT 'c' || i, 1, 'e' || i, 'report', 'patrol', '/500000/500103/', ' ', i, '{"n":"' || repeat('x', 690) || '"}' FROM generate_series(1, $1) i`
	}
	putSub(b, db, "s1", webhook.Active)
	if err := db.Write(ctx, func(tx *Tx) error { _, err := tx.Exec(ctx, fill, n); return err }); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Raw().ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Run("claim", func(b *testing.B) {
		for b.Loop() {
			err := db.Write(ctx, func(tx *Tx) error {
				ds, err := tx.ClaimDeliveries(ctx, now, now.Add(time.Minute), "claim", testLease, 32)
				if err == nil && len(ds) != 0 {
					err = fmt.Errorf("claimed %d from an empty outbox", len(ds))
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("purge", func(b *testing.B) {
		for b.Loop() {
			err := db.Write(ctx, func(tx *Tx) error {
				k, err := tx.PurgeHookEvents(ctx, 5000)
				if err == nil && k != 0 {
					err = fmt.Errorf("purged %d behind a cursor at the start", k)
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("queued", func(b *testing.B) {
		for b.Loop() {
			got, err := db.QueuedCounts(ctx, 10000)
			if err != nil {
				b.Fatal(err)
			}
			if got["s1"] != 10001 {
				b.Fatalf("queued %v, want s1 counted to 10,001", got)
			}
		}
	})
}
