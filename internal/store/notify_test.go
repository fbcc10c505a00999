package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestNotifyCase checks that a committed transaction's case notice reaches a
// listener on another connection, in order, and that a rolled-back job's
// notice never does.
func TestNotifyCase(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		if engineOf(t) != Postgres {
			t.Skip("notices are PostgreSQL only; SQLite is one process")
		}
		dsn := testDSN(t)
		a, b := mustOpen(t, dsn), mustOpen(t, dsn)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := make(chan CaseNotice, 16)
		ready := make(chan struct{})
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			// The first notice is a probe sent until the listener is up.
			b.ListenCases(ctx, func(n CaseNotice) {
				if n.Node == "probe" {
					select {
					case <-ready:
					default:
						close(ready)
					}
					return
				}
				got <- n
			}, nil)
		}()
		probe := func() {
			a.Write(ctx, func(tx *Tx) error { return tx.NotifyCase(ctx, "probe", "x", 0) })
		}
		for up := false; !up; {
			probe()
			select {
			case <-ready:
				up = true
			case <-waitShort():
			}
		}
		refused := errors.New("refused")
		if err := a.Write(ctx, func(tx *Tx) error {
			if err := tx.NotifyCase(ctx, "n1", "rolled-back", 1); err != nil {
				return err
			}
			return refused
		}); !errors.Is(err, refused) {
			t.Fatalf("write = %v, want refused", err)
		}
		for v := 1; v <= 3; v++ {
			if err := a.Write(ctx, func(tx *Tx) error { return tx.NotifyCase(ctx, "n1", "case-1", v) }); err != nil {
				t.Fatal(err)
			}
		}
		for v := 1; v <= 3; v++ {
			n := <-got
			if n != (CaseNotice{Node: "n1", CaseID: "case-1", Version: v}) {
				t.Fatalf("notice %d = %+v", v, n)
			}
		}
		// A change of reference data reaches the other node as a reload.
		if err := a.Write(ctx, func(tx *Tx) error { return tx.NotifyReload(ctx, "n1") }); err != nil {
			t.Fatal(err)
		}
		if n := <-got; n != (CaseNotice{Node: "n1", Reload: true}) {
			t.Fatalf("reload notice = %+v", n)
		}
		// So do revoked tokens.
		for _, h := range []string{"*", "0f3a"} {
			if err := a.Write(ctx, func(tx *Tx) error { return tx.NotifyTokens(ctx, "n1", h) }); err != nil {
				t.Fatal(err)
			}
			if n := <-got; n != (CaseNotice{Node: "n1", Tokens: h}) {
				t.Fatalf("tokens notice = %+v", n)
			}
		}
		if err := a.Write(ctx, func(tx *Tx) error { return tx.NotifyTokens(ctx, "n1", "a b") }); err == nil {
			t.Error("a hash with a space must be refused")
		}
		cancel()
		<-stopped
		select {
		case n := <-got:
			t.Errorf("unexpected notice %+v (a rolled-back job's?)", n)
		default:
		}
	})
}

// waitShort paces a retry loop (not an assertion).
func waitShort() <-chan time.Time { return time.After(50 * time.Millisecond) }
