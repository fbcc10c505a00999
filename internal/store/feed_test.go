package store

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// settleFeed waits until the feed may read every committed step (on
// PostgreSQL other suites' transactions in the same database hold it back
// for as long as they run).
func settleFeed(t *testing.T, db *DB) {
	t.Helper()
	for end := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		lag, err := db.FeedLag(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if lag == 0 {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("the feed lags %d steps after 60 s", lag)
		}
	}
}

// TestFeedCursor: the updates feed reads steps in commit order after a
// cursor; on PostgreSQL a writing transaction still running holds back the
// steps of every later transaction (they could otherwise be read before
// the older one commits a step at a place before them), and lets them go
// when it ends.
func TestFeedCursor(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		dsn := testDSN(t)
		db := mustOpen(t, dsn)
		insert(t, db, newCase("F1"))
		settleFeed(t, db)
		end1, err := db.FeedEnd(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all, err := db.StepsBetween(ctx, StepFilter{After: &FeedCursor{}})
		if err != nil || len(all) != 1 || all[0].Cursor != end1 {
			t.Fatalf("from the beginning: %+v %v (end %+v)", all, err, end1)
		}
		if got, _ := db.StepsBetween(ctx, StepFilter{After: &end1}); len(got) != 0 {
			t.Fatalf("after the end: %+v", got)
		}
		var hold *sql.Tx
		if engineOf(t) == Postgres {
			// Another session of the same database starts writing first.
			raw, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if hold, err = raw.BeginTx(ctx, nil); err != nil {
				t.Fatal(err)
			}
			defer hold.Rollback()
			var xid string
			if err := hold.QueryRowContext(ctx, `SELECT pg_current_xact_id()::text`).Scan(&xid); err != nil {
				t.Fatal(err)
			}
		}
		insert(t, db, newCase("F2"), newCase("F3"))
		lag, err := db.FeedLag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.StepsBetween(ctx, StepFilter{After: &end1})
		if err != nil {
			t.Fatal(err)
		}
		if hold != nil {
			if lag < 2 || len(got) != 0 {
				t.Fatalf("with an older transaction running: lag %d, read %d", lag, len(got))
			}
			if end, _ := db.FeedEnd(ctx); end1.Less(end) {
				t.Fatalf("the end moved past a running transaction: %+v, was %+v", end, end1)
			}
			hold.Rollback()
			settleFeed(t, db)
			if got, err = db.StepsBetween(ctx, StepFilter{After: &end1}); err != nil {
				t.Fatal(err)
			}
		} else if lag != 0 {
			t.Fatalf("lag %d on SQLite", lag)
		}
		settleFeed(t, db)
		if len(got) != 2 || !end1.Less(got[0].Cursor) || !got[0].Cursor.Less(got[1].Cursor) {
			t.Fatalf("after the first: %+v", got)
		}
		if got[0].CaseNumber != "ZZF2" && got[0].CaseNumber != "ZZF3" {
			t.Fatalf("read %s", got[0].CaseNumber)
		}
		// Until bounds a read, and the window form still reads by time.
		if until, _ := db.StepsBetween(ctx, StepFilter{After: &FeedCursor{}, Until: &end1}); len(until) != 1 {
			t.Fatalf("until the first end: %d", len(until))
		}
		if lag, _ := db.FeedLag(ctx); lag != 0 {
			t.Fatalf("lag %d at rest", lag)
		}
	})
}
