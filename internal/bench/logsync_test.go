package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"zhizhi/internal/store"
)

// BenchmarkIntakeLogSync compares, in one run, the two orders of a SQLite
// group commit and its fsync (store/walsync.go): "serial", each batch's log
// synced before the writer starts the next (what a COMMIT with
// synchronous=FULL does), and "pipelined", the next batch running while the
// last one's fsync is under way, which is what the store does. Each is run
// on this disk and with 8 ms added to every fsync, as on a busier or slower
// disk (the morning of 2026-12-05 here: 10-12 ms commits). Each sub-run
// starts its own node on a fresh database with the demo and posts b.N
// reports from the same clients as BenchmarkIntakeHTTP; with -count each
// runs that many times in a row (not in turn).
func BenchmarkIntakeLogSync(b *testing.B) {
	for _, delay := range []time.Duration{0, 8 * time.Millisecond} {
		for _, serial := range []bool{true, false} {
			mode := "pipelined"
			if serial {
				mode = "serial"
			}
			b.Run(fmt.Sprintf("%s/added=%s", mode, delay), func(b *testing.B) {
				store.SerialLogSync(serial)
				store.DelayLogSync(delay)
				defer store.SerialLogSync(false)
				defer store.DelayLogSync(0)
				driveFreshIntake(b)
			})
		}
	}
}

// BenchmarkIntakeLogWrites compares, in one run, the writer's log written
// through the store's VFS, each commit's frames gathered into writes of up
// to 128 KiB ("gathered", store/walvfs.go, what the store does), and
// through SQLite's own, two writes a frame ("per-frame"). Each sub-run
// starts its own node on a fresh database with the demo and posts b.N
// reports from the same clients as BenchmarkIntakeHTTP. With -count each
// mode runs that many times in a row, not in turn: to alternate them, run
// one mode at a time (-bench 'IntakeLogWrites/gathered', then /per-frame).
func BenchmarkIntakeLogWrites(b *testing.B) {
	for _, gathered := range []bool{true, false} {
		mode := "gathered"
		if !gathered {
			mode = "per-frame"
		}
		b.Run(mode, func(b *testing.B) {
			store.GatherLogWrites(gathered)
			defer store.GatherLogWrites(true)
			driveFreshIntake(b)
		})
	}
}

// driveFreshIntake starts a node of its own on a fresh database with the
// demo, drives intake into it (driveIntake) and removes it.
func driveFreshIntake(b *testing.B) {
	e, err := newPlatform()
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(e.dir)
	defer e.p.Close(context.Background())
	driveIntake(b, e)
}
