package service

import (
	"sort"

	"zhizhi/internal/store"
)

// hookWindow holds the events this node's delivery loop read last, kept
// from one round to the next: every event after from through the last one
// held, in commit order, as HookEventsAfter returns them. A subscription
// whose cursor lies inside takes its next events from here instead of
// reading the same rows again. Subscriptions of one district drift apart
// as their batches are sent at different speeds, and each read its own
// copy of the events the others had read just before: under intake, the
// reads were most of the delivery loop's allocations.
//
// The events after a cursor never change once read: an event is written
// once, in its case change's transaction, and read only when no
// transaction before it can still commit (store.HookCursor); the purge
// deletes only events every cursor has passed. So the events the window
// holds after a cursor are those a read after it would return, up to the
// window's end.
type hookWindow struct {
	from store.HookCursor
	evs  []store.CursorEvent
	keep int // the most events held (the oldest are let go first)
}

// after returns up to n events after c when the window holds c's next
// ones (from ≤ c, and c before the last held): ok is false otherwise.
// end is true when they run to the window's end: events may have come
// after it since.
func (w *hookWindow) after(c store.HookCursor, n int) (evs []store.CursorEvent, end, ok bool) {
	if len(w.evs) == 0 || c.Less(w.from) || !c.Less(w.evs[len(w.evs)-1].At) {
		return nil, false, false
	}
	i := w.next(c)
	j := min(i+n, len(w.evs))
	return w.evs[i:j:j], j == len(w.evs), true
}

// next is the index of the first event held after c.
func (w *hookWindow) next(c store.HookCursor) int {
	return sort.Search(len(w.evs), func(i int) bool { return c.Less(w.evs[i].At) })
}

// add takes in a read of the events after c: joined to the window when it
// starts inside it or at its end, in its place otherwise. Neither the
// window nor the batches change the events, so they are not copied until
// the window outgrows keep.
func (w *hookWindow) add(c store.HookCursor, evs []store.CursorEvent) {
	if len(evs) == 0 {
		return
	}
	if len(w.evs) > 0 && !c.Less(w.from) && !w.evs[len(w.evs)-1].At.Less(c) {
		// Those after the window's last are new; the others it holds.
		last := w.evs[len(w.evs)-1].At
		i := sort.Search(len(evs), func(i int) bool { return last.Less(evs[i].At) })
		w.evs = append(w.evs, evs[i:]...)
	} else {
		w.from, w.evs = c, evs[:len(evs):len(evs)] // appended to, it is copied
	}
	if w.keep > 0 && len(w.evs) > w.keep {
		// Down to three quarters of keep, so that not every read copies.
		drop := len(w.evs) - w.keep*3/4
		w.from = w.evs[drop-1].At
		w.evs = append(w.evs[:0:0], w.evs[drop:]...)
	}
}
