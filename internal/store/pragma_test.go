package store

import (
	"context"
	"testing"
)

// TestDurabilityPragmas: SQLite's writer runs in WAL mode with
// synchronous=NORMAL, its commits' log synced by the store before any caller
// is answered (walsync.go; TestWALSyncBeforeAnswer); a bulk load turns
// synchronous off for itself and its Close puts NORMAL back (and says so if
// it cannot).
func TestDurabilityPragmas(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		if db.Dialect != SQLite {
			b, err := db.Bulk(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			return
		}
		check := func(when string) {
			t.Helper()
			var sync int
			var mode string
			if err := db.write.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
				t.Fatal(err)
			}
			if err := db.write.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if sync != 1 || mode != "wal" || db.walSync == nil {
				t.Errorf("%s: synchronous %d, journal_mode %s, log synced by the store %v; want 1 (NORMAL), wal, true", when, sync, mode, db.walSync != nil)
			}
		}
		check("after open")
		b, err := db.Bulk(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var during int
		if err := db.write.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&during); err != nil || during != 0 {
			t.Errorf("during the load: synchronous %d %v, want 0", during, err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		check("after a bulk load")
	})
}
