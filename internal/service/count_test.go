package service_test

import (
	"context"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// TestCountUpTo: a list's total stops at its limit and says there are more;
// under the limit, and without one, it is the exact count; the open cases
// are counted exactly whatever the limit.
func TestCountUpTo(t *testing.T) {
	ctx := context.Background()
	p := demoNode(t)
	system := cases.Actor{Role: cases.RoleSystem, Name: "测试"}
	open := true
	for _, f := range []store.CaseFilter{{Open: &open}, {}} {
		all, err := p.Service.Count(ctx, system, f)
		if err != nil {
			t.Fatal(err)
		}
		if all < 3 {
			t.Fatalf("%d cases in the demo", all)
		}
		for _, tc := range []struct {
			limit int
			n     int
			more  bool
		}{{0, all, false}, {all, all, false}, {all - 1, all - 1, true}, {1, 1, true}} {
			n, more, err := p.Service.CountUpTo(ctx, system, f, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if f.Open != nil {
				tc.n, tc.more = all, false
			}
			if n != tc.n || more != tc.more {
				t.Errorf("open %v, limit %d: %d (more %v), want %d (more %v)", f.Open != nil, tc.limit, n, more, tc.n, tc.more)
			}
		}
	}
}
