package store

import (
	"slices"
	"testing"
)

// TestCollect: what collect takes from a channel, and why it stops.
func TestCollect(t *testing.T) {
	t.Parallel()
	ready := func(n int, closed bool) chan int {
		ch := make(chan int, 10)
		for i := range n {
			ch <- i
		}
		if closed {
			close(ch)
		}
		return ch
	}
	fired := make(chan struct{})
	close(fired)
	for _, tc := range []struct {
		name     string
		ch       chan int
		most     int
		until    <-chan struct{}
		want     []int
		wantOpen bool
	}{
		{"takes what is ready", ready(3, false), 0, nil, []int{9, 0, 1, 2}, true},
		{"stops at most", ready(5, false), 3, nil, []int{9, 0, 1}, true},
		{"already full", ready(5, false), 1, nil, []int{9}, true},
		{"closed after the ready ones", ready(2, true), 0, nil, []int{9, 0, 1}, false},
		{"until fired, nothing ready", ready(0, false), 5, fired, []int{9}, true},
		{"closed, with until", ready(1, true), 5, make(chan struct{}), []int{9, 0}, false},
	} {
		got, open := collect(tc.ch, []int{9}, tc.most, tc.until)
		if !slices.Equal(got, tc.want) || open != tc.wantOpen {
			t.Errorf("%s: %v open %v, want %v open %v", tc.name, got, open, tc.want, tc.wantOpen)
		}
	}
}
