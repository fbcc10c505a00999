package store

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

func TestGaugeKey(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/500000/500103/500103001/500103001001/500103001001001/", "/500000/500103/"},
		{"/500000/500103/500103001/", "/500000/500103/"},
		{"/500000/500103/", "/500000/500103/"},
		{"/500000/", "/500000/"},
		{"", ""},
	} {
		if got := gaugeKey(tc.path); got != tc.want {
			t.Errorf("gaugeKey(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	for path, want := range map[string]bool{"/500000/": true, "/500000/500103/": true, "/500000/500103/500103001/": false, "": false} {
		if got := gaugeScope(path); got != want {
			t.Errorf("gaugeScope(%q) = %v", path, got)
		}
	}
}

// TestOverdueGauge: the gauge follows red cases through inserts, updates
// that turn a case red, move it to another district, close it, and a job
// that fails after writing (its batch runs again without it); after every
// write it equals the recount from the cases (the rebuild's statement, whose
// key is gaugeKey in each engine's SQL), and CountRed reads it for a city and
// a district and counts live below.
func TestOverdueGauge(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		const other = "/500000/500104/500104001/500104001001/500104001001001/"
		check := func(when string, want map[string]int64) {
			t.Helper()
			got, err := db.Gauge(ctx)
			if err != nil {
				t.Fatal(err)
			}
			re, err := db.RecountGauge(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) || !maps.Equal(re, want) {
				t.Errorf("%s: gauge %v, recount %v, want %v", when, got, re, want)
			}
			for path, n := range map[string]int64{"/500000/": want["/500000/500103/"] + want["/500000/500104/"] + want["/500000/"],
				"/500000/500103/": want["/500000/500103/"], "/500000/500104/": want["/500000/500104/"]} {
				if got, err := db.CountRed(ctx, Scope{RegionPath: path}, t0.Add(time.Hour)); err != nil || int64(got) != n {
					t.Errorf("%s: CountRed(%s) = %d, %v; want %d", when, path, got, err, n)
				}
			}
		}
		red := func(c *cases.Case) { c.UpdatedAt = c.Clock.Due.Add(time.Minute) }
		c1 := newCase("G1", red)
		c2 := newCase("G2")
		c3 := newCase("G3", red, func(c *cases.Case) { c.RegionPath, c.GridCode = "/500000/", "" })
		if !c1.Red() || c2.Red() || !c3.Red() {
			t.Fatalf("fixtures: red %v %v %v", c1.Red(), c2.Red(), c3.Red())
		}
		insert(t, db, c1, c2, c3)
		check("inserted", map[string]int64{"/500000/500103/": 1, "/500000/": 1})

		update := func(old *cases.Case, mod func(*cases.Case)) *cases.Case {
			t.Helper()
			n := *old
			n.Version++
			mod(&n)
			if err := db.Write(ctx, func(tx *Tx) error {
				return tx.UpdateCase(ctx, old, &n, stepOf(&n, cases.ActUrge), ClockRule{})
			}); err != nil {
				t.Fatal(err)
			}
			return &n
		}
		c2 = update(c2, red)
		check("second red", map[string]int64{"/500000/500103/": 2, "/500000/": 1})
		c1 = update(c1, func(c *cases.Case) { c.RegionPath = other; red(c) })
		check("moved", map[string]int64{"/500000/500103/": 1, "/500000/500104/": 1, "/500000/": 1})
		// Extended: due after the change, no longer red.
		c2 = update(c2, func(c *cases.Case) { c.Clock.Due = c.UpdatedAt.Add(time.Hour) })
		check("extended", map[string]int64{"/500000/500104/": 1, "/500000/": 1})

		// A job failing after its write: the batch runs again without it,
		// and its change to the gauge goes with it.
		failed := errors.New("after the write")
		n := *c1
		n.Version++
		n.State, n.ClosedAt = cases.Closed, n.UpdatedAt
		err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.UpdateCase(ctx, c1, &n, stepOf(&n, cases.ActClose), ClockRule{}); err != nil {
				return err
			}
			return failed
		})
		if !errors.Is(err, failed) {
			t.Fatalf("failing job: %v", err)
		}
		check("failed job", map[string]int64{"/500000/500104/": 1, "/500000/": 1})
		c1 = update(c1, func(c *cases.Case) { c.State, c.ClosedAt = cases.Closed, c.UpdatedAt })
		check("closed", map[string]int64{"/500000/": 1})

		// Rebuilt from the cases: the same.
		if err := db.RebuildGauge(ctx); err != nil {
			t.Fatal(err)
		}
		check("rebuilt", map[string]int64{"/500000/": 1})
		// Below a district the count is live: due before now.
		if got, err := db.CountRed(ctx, Scope{RegionPath: streetPath}, t0.Add(10*time.Hour)); err != nil || got != 1 {
			t.Errorf("street: %d, %v; want 1 (G2, due before then)", got, err)
		}
	})
}
