package store

import (
	"context"
	"testing"
)

// TestDurabilityPragmas: the store promises synchronous=FULL and WAL on
// SQLite's writer, where every acknowledged write is committed; a bulk load
// turns synchronous off for itself and its Close puts FULL back (and says
// so if it cannot).
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
			if sync != 2 || mode != "wal" {
				t.Errorf("%s: synchronous %d, journal_mode %s; want 2 (FULL), wal", when, sync, mode)
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
