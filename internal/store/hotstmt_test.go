package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/notify"
	"zhizhi/internal/webhook"
)

// A case's writes on SQLite run prepared: the held rows' statements (the
// event row's among them, which was parsed at every write) from the first
// write on, and any other statement of the writer from its third run on.
func TestWriterLearnsStatements(t *testing.T) {
	t.Parallel()
	db := openTestDB(t) // SQLite: the writer's statements are SQLite's
	ctx := context.Background()
	// A round of what a case's report and first action write: the case, its
	// step, clocks and units, its webhook event and a notification event,
	// and a statement no list names.
	round := func(i int) {
		t.Helper()
		c := newCase(fmt.Sprintf("HOT%03d", i))
		err := db.Write(ctx, func(tx *Tx) error {
			step := stepOf(c, cases.ActReport)
			if err := tx.InsertCase(ctx, c, step, ClockRule{EscalateAfter: time.Hour}); err != nil {
				return err
			}
			if err := tx.PutHookEvent(ctx, HookEvent{CaseID: c.ID, Seq: step.Seq, EventID: step.ID, QueuedAt: t0,
				Facts: webhook.Facts{Kind: "report", RegionPath: c.RegionPath}, Body: []byte(`{}`)}); err != nil {
				return err
			}
			if err := tx.PutNotifyEvent(ctx, "NE"+c.ID, notify.Event{Kind: notify.Dispatched, CaseID: c.ID, At: t0}); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, "hot."+c.ID, "1")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	counted := func(i int) (parsed int64) {
		before := db.WriterParses()
		round(i)
		return db.WriterParses() - before
	}
	// The first two rounds parse the settings statement (and nothing held).
	if n := counted(1); n != 1 {
		t.Fatalf("first round parsed %d statements, want 1 (the unnamed one)", n)
	}
	if n := counted(2); n != 1 {
		t.Fatalf("second round parsed %d statements, want 1", n)
	}
	// Learned between the batches: the third parses nothing.
	if n := counted(3); n != 0 {
		t.Fatalf("third round parsed %d statements, want 0", n)
	}
	if _, learned := db.WriterStatements(); learned != 1 {
		t.Fatalf("learned %d statements, want 1", learned)
	}
	// What the learned statement wrote is there, prepared or not.
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE key LIKE 'hot.%'`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("settings written: %d %v", n, err)
	}
	if kept, err := db.HookEventsKept(ctx); err != nil || kept != 3 {
		t.Fatalf("events kept: %d %v", kept, err)
	}
}

// The set is bounded, and a statement that cannot be prepared is not tried
// again at every batch.
func TestWriterStatementsBounded(t *testing.T) {
	t.Parallel()
	db := openTestDB(t) // SQLite: the writer's statements are SQLite's
	ctx := context.Background()
	kept0, learned0 := db.WriterStatements()
	named := kept0 - learned0
	// Twice each, in separate batches: more texts than the set may keep.
	texts := maxHotStmts - named + 20
	for range 2 {
		for i := 0; i < texts; i += 100 {
			err := db.Write(ctx, func(tx *Tx) error {
				for j := i; j < min(i+100, texts); j++ {
					var v int
					if err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT %d + $1`, j), 1).Scan(&v); err != nil {
						return err
					}
					if v != j+1 {
						return fmt.Errorf("SELECT %d + 1 = %d", j, v)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	db.Write(ctx, func(*Tx) error { return nil }) // the learn after the last batch has run
	kept, learned := db.WriterStatements()
	if kept != maxHotStmts || learned != maxHotStmts-named {
		t.Fatalf("kept %d (learned %d), want the bound %d (%d learned)", kept, learned, maxHotStmts, maxHotStmts-named)
	}

	// A statement SQLite cannot prepare here (its table does not exist, as
	// when a transaction makes it just before): learn tries it once, then
	// leaves it to be parsed at each run.
	h := &hotStmts{}
	h.add(ctx, db.write, nil, true)
	for range 3 {
		h.miss(`SELECT COUNT(*) FROM hot_scratch`)
		h.miss(`SELECT COUNT(*) FROM hot_scratch`)
		h.learn(ctx, db.write)
	}
	if h.learned.Load() != 0 || len(h.failed) != 1 {
		t.Fatalf("learned %d, failed %v: want 0 and the one statement", h.learned.Load(), h.failed)
	}
	if _, ok := h.missed[`SELECT COUNT(*) FROM hot_scratch`]; ok {
		t.Fatal("the failed statement is still counted for the next learn")
	}
}
