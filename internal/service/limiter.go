package service

import "time"

// windows counts events per key (a client address, a username, a phone) in
// fixed windows, in one node's memory: the sign-in guard and the anonymous
// doors' guard share it. A key's window starts at its first event and lasts
// window; the count starts again after. It is not safe for concurrent use:
// its owner holds a lock around it.
type windows struct {
	window time.Duration
	m      map[string]*failWindow
}

type failWindow struct {
	n     int
	start time.Time
}

// maxKeys bounds a windows' memory under a flood of keys (made-up names,
// many addresses): past it the expired keys are forgotten.
const maxKeys = 100_000

func newWindows(window time.Duration) *windows {
	return &windows{window: window, m: map[string]*failWindow{}}
}

// count is how many events key has in its current window.
func (w *windows) count(key string, now time.Time) int {
	if x := w.m[key]; key != "" && x != nil && now.Sub(x.start) < w.window {
		return x.n
	}
	return 0
}

// wait is how long key must wait before it has fewer than limit events in
// its window: zero when it has fewer already.
func (w *windows) wait(key string, limit int, now time.Time) time.Duration {
	if x := w.m[key]; key != "" && x != nil && x.n >= limit && now.Sub(x.start) < w.window {
		return w.window - now.Sub(x.start)
	}
	return 0
}

// add counts one event of key and returns the count in its window.
func (w *windows) add(key string, now time.Time) int {
	if key == "" {
		return 0
	}
	x := w.m[key]
	if x == nil || now.Sub(x.start) >= w.window {
		if len(w.m) > maxKeys {
			for k, old := range w.m {
				if now.Sub(old.start) >= w.window {
					delete(w.m, k)
				}
			}
		}
		x = &failWindow{start: now}
		w.m[key] = x
	}
	x.n++
	return x.n
}

// take uncounts one event of key (an attempt that did not happen after all).
func (w *windows) take(key string) {
	if x := w.m[key]; x != nil && x.n > 0 {
		x.n--
	}
}

// forget drops key's window.
func (w *windows) forget(key string) { delete(w.m, key) }
