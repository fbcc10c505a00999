package service

import (
	"fmt"
	"testing"

	"zhizhi/internal/store"
)

// TestHookWindow: the window answers a cursor inside it with the events a
// read after that cursor would return, up to its end; reads that start
// inside it or at its end extend it, others replace it; it lets the oldest
// go past keep. Cursors are PostgreSQL's (transaction, pos) as well as
// SQLite's pos alone.
func TestHookWindow(t *testing.T) {
	t.Parallel()
	ev := func(x uint64, pos int64) store.CursorEvent {
		return store.CursorEvent{At: store.HookCursor{X: x, Pos: pos}, Kind: fmt.Sprintf("%d/%d", x, pos)}
	}
	// The stream: positions 1..20 (SQLite), or transactions 7 and 9 (PostgreSQL).
	var lite, pg []store.CursorEvent
	for p := int64(1); p <= 20; p++ {
		lite = append(lite, ev(0, p))
		pg = append(pg, ev(7+2*uint64(p/11), p))
	}
	kinds := func(evs []store.CursorEvent) string {
		s := ""
		for _, e := range evs {
			s += e.Kind + " "
		}
		return s
	}
	after := func(stream []store.CursorEvent, c store.HookCursor, n int) []store.CursorEvent {
		var out []store.CursorEvent
		for _, e := range stream {
			if c.Less(e.At) && len(out) < n {
				out = append(out, e)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		stream []store.CursorEvent
	}{{"sqlite", lite}, {"postgres", pg}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at := func(i int) store.HookCursor { // the cursor after the i-th event (0: before all)
				if i == 0 {
					return store.HookCursor{}
				}
				return tc.stream[i-1].At
			}
			w := &hookWindow{keep: 12}
			if _, _, ok := w.after(at(0), 5); ok {
				t.Fatal("an empty window answered")
			}
			w.add(at(3), after(tc.stream, at(3), 5)) // events 4..8
			for _, q := range []struct {
				from, n  int
				ok, end  bool
				wantFrom int // the events after at(wantFrom), n of them (or to 8)
			}{
				{from: 2, n: 5, ok: false}, // before the window
				{from: 3, n: 5, ok: true, end: true, wantFrom: 3},
				{from: 3, n: 2, ok: true, end: false, wantFrom: 3},
				{from: 5, n: 5, ok: true, end: true, wantFrom: 5},
				{from: 7, n: 1, ok: true, end: true, wantFrom: 7},
				{from: 8, n: 5, ok: false}, // at its end: nothing held after it
				{from: 12, n: 5, ok: false},
			} {
				got, end, ok := w.after(at(q.from), q.n)
				if ok != q.ok || end != q.end {
					t.Fatalf("after event %d (%d): ok %v end %v, want %v %v", q.from, q.n, ok, end, q.ok, q.end)
				}
				if !ok {
					continue
				}
				want := after(tc.stream, at(q.wantFrom), q.n)
				if len(want) > 8-q.wantFrom {
					want = want[:8-q.wantFrom]
				}
				if kinds(got) != kinds(want) {
					t.Fatalf("after event %d (%d): %s, want %s", q.from, q.n, kinds(got), kinds(want))
				}
			}
			// A read from inside extends it (6..12 joins 4..8 as 4..12); one
			// at its end too (12..15).
			w.add(at(5), after(tc.stream, at(5), 7))
			w.add(at(12), after(tc.stream, at(12), 3))
			if got, end, ok := w.after(at(3), 20); !ok || !end || kinds(got) != kinds(after(tc.stream, at(3), 12)) {
				t.Fatalf("after extending: %s (ok %v, end %v)", kinds(got), ok, end)
			}
			// Past keep (12 events: 4..15), it lets the oldest go: 16..17
			// make 14, down to 9 held (9..17).
			w.add(at(15), after(tc.stream, at(15), 2))
			if _, _, ok := w.after(at(7), 5); ok {
				t.Fatal("an event let go still answered")
			}
			if got, end, ok := w.after(at(8), 20); !ok || !end || kinds(got) != kinds(after(tc.stream, at(8), 9)) {
				t.Fatalf("after letting go: %s (ok %v, end %v)", kinds(got), ok, end)
			}
			// A read before it, or after a gap, replaces it.
			w.add(at(1), after(tc.stream, at(1), 2))
			if got, _, ok := w.after(at(1), 5); !ok || kinds(got) != kinds(after(tc.stream, at(1), 2)) {
				t.Fatalf("replaced from before: %s (ok %v)", kinds(got), ok)
			}
			if _, _, ok := w.after(at(8), 5); ok {
				t.Fatal("the replaced window still answered for its old events")
			}
			w.add(at(18), after(tc.stream, at(18), 5))
			if got, end, ok := w.after(at(18), 5); !ok || !end || kinds(got) != kinds(after(tc.stream, at(18), 5)) {
				t.Fatalf("replaced after a gap: %s (ok %v, end %v)", kinds(got), ok, end)
			}
			w.add(at(20), nil) // an empty read changes nothing
			if _, _, ok := w.after(at(19), 5); !ok {
				t.Fatal("an empty read emptied the window")
			}
		})
	}
}
