package id

import (
	"sort"
	"testing"
	"time"
)

func TestOrderAndValidity(t *testing.T) {
	var g Generator
	base := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	var ids []string
	for i := 0; i < 2000; i++ {
		ids = append(ids, g.At(base.Add(time.Duration(i/10)*time.Millisecond)))
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids are not increasing")
	}
	seen := map[string]bool{}
	for _, s := range ids {
		if !Valid(s) {
			t.Fatalf("invalid id %q", s)
		}
		if seen[s] {
			t.Fatalf("duplicate id %q", s)
		}
		seen[s] = true
	}
	if g.At(base.Add(time.Hour)) <= ids[len(ids)-1] {
		t.Fatal("a later time must sort later")
	}
}

func TestValidRejects(t *testing.T) {
	for _, s := range []string{"", "abc", "01ARZ3NDEKTSV4RRFFQ69G5FAVX", "01ARZ3NDEKTSV4RRFFQ69G5FAI", "81ARZ3NDEKTSV4RRFFQ69G5FAV"} {
		if Valid(s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}

func TestLast(t *testing.T) {
	at := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	bound := Last(at)
	if !Valid(bound) {
		t.Fatalf("Last: %q not valid", bound)
	}
	for i := 0; i < 1000; i++ {
		if a := At(at); a > bound {
			t.Fatalf("ID %s made at t sorts above Last(t) %s", a, bound)
		}
	}
	if b := At(at.Add(time.Millisecond)); b <= bound {
		t.Errorf("ID %s made after t sorts at or below Last(t) %s", b, bound)
	}
}

func TestFirst(t *testing.T) {
	at := time.Date(2026, 12, 5, 4, 30, 0, 123456789, time.UTC)
	bound := First(at)
	if !Valid(bound) {
		t.Fatalf("First: %q not valid", bound)
	}
	if got, ok := Time(bound); !ok || !got.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("Time(First(t)) = %v, want %v", got, at.Truncate(time.Millisecond))
	}
	var g Generator
	for i := 0; i < 1000; i++ {
		if a := g.At(at); a < bound {
			t.Fatalf("ID %s made at t sorts below First(t) %s", a, bound)
		}
	}
	// Made in the millisecond before: below, however many were made there.
	before := at.Add(-time.Millisecond)
	for i := 0; i < 1000; i++ {
		if a := g.At(before); a >= bound {
			t.Fatalf("ID %s made before t sorts at or above First(t) %s", a, bound)
		}
	}
	if Last(before) >= bound {
		t.Errorf("Last(t-1ms) %s sorts at or above First(t) %s", Last(before), bound)
	}
}

func TestTime(t *testing.T) {
	for _, at := range []time.Time{time.UnixMilli(0), time.UnixMilli(1764700000123), time.Date(2026, 12, 3, 22, 0, 0, 456e6, time.UTC)} {
		for _, s := range []string{At(at), First(at), Last(at)} {
			got, ok := Time(s)
			if !ok || !got.Equal(at.Truncate(time.Millisecond)) {
				t.Errorf("Time(%s) = %v %v, want %v", s, got, ok, at)
			}
		}
	}
	if _, ok := Time("not an id"); ok {
		t.Error("Time accepted a bad ID")
	}
}
