package service

import (
	"sync"
	"time"
)

// Recent keeps values by key for a short time, so that every open board of
// one scope costs one reading per TTL instead of one each. It forgets
// everything once it holds 10,000 keys, which bounds it. The zero value
// needs TTL set; it is safe for concurrent use.
type Recent[V any] struct {
	TTL time.Duration

	mu sync.Mutex
	m  map[string]recent[V]
}

type recent[V any] struct {
	v  V
	at time.Time
}

// Get returns the value kept for key if it is younger than TTL, else what
// load returns (kept unless it failed).
func (r *Recent[V]) Get(key string, load func() (V, error)) (V, error) {
	r.mu.Lock()
	if e, ok := r.m[key]; ok && time.Since(e.at) < r.TTL {
		r.mu.Unlock()
		return e.v, nil
	}
	r.mu.Unlock()
	v, err := load()
	if err != nil {
		return v, err
	}
	r.mu.Lock()
	if r.m == nil || len(r.m) > 10000 {
		r.m = map[string]recent[V]{}
	}
	r.m[key] = recent[V]{v: v, at: time.Now()}
	r.mu.Unlock()
	return v, nil
}
