package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/store"
)

// BenchmarkCountOverdue times the command board's 超期未结 count
// (store.CountOverdue) for the city, the district, a street, a community and
// a grid, in a fresh SQLite file of ZHIZHI_BENCH_OVERDUE_CASES open cases
// (default 120,000, about the open cases of section 2c's district file right
// after its flood of 100,000 reports), written as intake writes them
// (store.DB.WriteRaw) and all past due at the count's "now" (a year on): the
// worst case, where every open case is overdue. Each scope is a sub-benchmark.
func BenchmarkCountOverdue(b *testing.B) {
	e := startPlatform(b)
	ctx := context.Background()
	n := envInt("ZHIZHI_BENCH_OVERDUE_CASES", 120000)
	tmpl, stepTmpl := rawTemplates(b, e)
	dir := b.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "overdue.db"), store.Options{AnalyzeEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	defer os.RemoveAll(dir)
	for done := 0; done < n; {
		k := min(256, n-done)
		if err := db.WriteRaw(ctx, "raw", store.ClockRule{}, rawRows(e, tmpl, stepTmpl, done, k)); err != nil {
			b.Fatal(err)
		}
		done += k
	}
	// The scopes of the first sample point's grid, from the city down.
	grid, _ := e.p.Service.Locate(e.points[0])
	path, _ := e.p.Service.RegionPath(grid)
	parts := strings.SplitAfter(path, "/") // "", "500000/", district, street, community, grid, ""
	now := time.Now().AddDate(1, 0, 0)
	for i, name := range []string{"city", "district", "street", "community", "grid"} {
		scope := store.Scope{RegionPath: strings.Join(parts[:i+2], "")}
		b.Run(name, func(b *testing.B) {
			var got int
			for b.Loop() {
				if got, err = db.CountOverdue(ctx, scope, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(got), "overdue")
		})
	}
}
