package store

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// TestWALSyncBeforeAnswer: on SQLite a write's caller is answered only after
// the write-ahead log has been synced past its commit, Durable waits for the
// same, and a failed fsync fails the batch's callers and refuses every later
// write (walsync.go).
func TestWALSyncBeforeAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mustOpen(t, t.TempDir()+"/zhizhi.db")
	ws := db.walSync
	if ws == nil {
		t.Fatal("no log syncer on SQLite")
	}
	release := make(chan error)
	var calls atomic.Int64
	ws.syncFn = func(f *os.File) error {
		calls.Add(1)
		if err := <-release; err != nil {
			return err
		}
		return fdatasync(f)
	}
	put := func(key string) chan error {
		done := make(chan error, 1)
		go func() {
			done <- db.Write(ctx, func(tx *Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, '1')`, key)
				return err
			})
		}()
		return done
	}
	committed := func(key string) bool {
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = $1`, key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	// The write commits (readers see it) but its caller waits for the sync.
	first := put("walsync-a")
	deadline := time.Now().Add(10 * time.Second)
	for !committed("walsync-a") {
		if time.Now().After(deadline) {
			t.Fatal("the write did not commit")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-first:
		t.Fatalf("answered before the log was synced: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	for calls.Load() == 0 { // the syncer is in the sync that covers the write
		if time.Now().After(deadline) {
			t.Fatal("no sync started")
		}
		time.Sleep(time.Millisecond)
	}
	durable := make(chan error, 1)
	go func() { durable <- db.Durable(ctx) }()
	release <- nil
	if err := <-first; err != nil {
		t.Fatalf("write: %v", err)
	}
	// Durable waits for an fsync that starts after it was called.
	select {
	case err := <-durable:
		if calls.Load() < 2 {
			t.Fatalf("Durable returned (%v) without a sync of its own", err)
		}
	case release <- nil:
		if err := <-durable; err != nil {
			t.Fatalf("durable: %v", err)
		}
	}
	// A failed fsync: the batch's caller is told, and later writes are
	// refused without running.
	second := put("walsync-b")
	release <- errors.New("EIO")
	if err := <-second; !errors.Is(err, errWALSync) {
		t.Fatalf("write after a failed sync: %v, want %v", err, errWALSync)
	}
	ran := false
	err := db.Write(ctx, func(tx *Tx) error { ran = true; return nil })
	if !errors.Is(err, errWALSync) || ran {
		t.Fatalf("write after the failure: ran %v, %v; want refused with %v", ran, err, errWALSync)
	}
	if err := db.Durable(ctx); !errors.Is(err, errWALSync) {
		t.Fatalf("durable after the failure: %v", err)
	}
}

// TestHoldLogSync: while the log syncer is held, a write commits (readers
// see it) but neither its caller nor a Durable caller is answered; both are
// once it is released.
func TestHoldLogSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mustOpen(t, t.TempDir()+"/zhizhi.db")
	release, ok := db.HoldLogSync()
	if !ok {
		t.Fatal("no log syncer on SQLite")
	}
	defer release()
	wrote, durable := make(chan error, 1), make(chan error, 1)
	go func() {
		wrote <- db.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('hold', '1')`)
			return err
		})
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = 'hold'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write did not commit")
		}
	}
	go func() { durable <- db.Durable(ctx) }()
	select {
	case err := <-wrote:
		t.Fatalf("the write was answered (%v) while the sync was held", err)
	case err := <-durable:
		t.Fatalf("Durable returned (%v) while the sync was held", err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if err := <-durable; err != nil {
		t.Fatal(err)
	}
}

// TestDurableCounted: WriterStats counts Durable calls on SQLite, each of
// which waits for an fsync (the benchmark of issue 18 reports them).
func TestDurableCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mustOpen(t, t.TempDir()+"/zhizhi.db")
	before := db.WriterStats()
	for range 3 {
		if err := db.Durable(ctx); err != nil {
			t.Fatal(err)
		}
	}
	after := db.WriterStats()
	if d, w, s := after.Durables-before.Durables, after.DurableWaits-before.DurableWaits, after.Syncs-before.Syncs; d != 3 || w != 3 || s < 1 {
		t.Errorf("3 Durable calls counted %d, %d waited, %d fsyncs", d, w, s)
	}
}
