package service

import (
	"errors"
	"testing"
	"time"
)

// TestRecent checks that a value is reused within its TTL, read again
// after it, and that a failed load is not kept.
func TestRecent(t *testing.T) {
	r := Recent[int]{TTL: 300 * time.Millisecond}
	calls := 0
	load := func() (int, error) { calls++; return calls, nil }
	if v, _ := r.Get("k", load); v != 1 {
		t.Fatalf("first %d", v)
	}
	if v, _ := r.Get("k", load); v != 1 || calls != 1 {
		t.Fatalf("within TTL: %d after %d loads", v, calls)
	}
	if v, _ := r.Get("other", load); v != 2 {
		t.Fatalf("other key %d", v)
	}
	time.Sleep(350 * time.Millisecond)
	if v, _ := r.Get("k", load); v != 3 {
		t.Fatalf("after TTL %d", v)
	}
	boom := errors.New("boom")
	if _, err := r.Get("bad", func() (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	if v, _ := r.Get("bad", load); v != 4 {
		t.Fatalf("failed load was kept: %d", v)
	}
}
