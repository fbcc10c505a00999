package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// BenchmarkBoardTotal times the total a case list shows above its first
// page (the command board's 共 N 件, the dashboard's lists) for the filters
// a commander picks, on the installation of ZHIZHI_BENCH_PAGE_DB (a SQLite
// file or PostgreSQL URL made by 'zhizhi bench chongqing'), in the scope of
// its district and of one of its streets: counted exactly
// (store.CountCases) and as the console counts it, up to 10,000
// (store.CountCasesUpTo). Each filter, scope and count is a sub-benchmark;
// p50 and p95 are reported.
//
//	ZHIZHI_BENCH_PAGE_DB=/tmp/page/district.db go test ./internal/bench -run '^$' -bench BoardTotal -benchtime 20x -v
func BenchmarkBoardTotal(b *testing.B) {
	dsn := os.Getenv("ZHIZHI_BENCH_PAGE_DB")
	if dsn == "" {
		b.Skip("ZHIZHI_BENCH_PAGE_DB unset")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{AnalyzeEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var path, category string
	if err := db.Raw().QueryRowContext(ctx, `SELECT region_path, category FROM cases ORDER BY id DESC LIMIT 1`).Scan(&path, &category); err != nil {
		b.Fatal(err)
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 3 {
		b.Fatalf("region path %q", path)
	}
	district := "/" + strings.Join(parts[:2], "/") + "/"
	street := "/" + strings.Join(parts[:3], "/") + "/"
	now := time.Now()
	open, yes := true, true
	filters := []struct {
		name string
		f    store.CaseFilter
	}{
		{"open", store.CaseFilter{Open: &open}},
		{"open_overdue", store.CaseFilter{Open: &open, Overdue: &yes}},
		{"all", store.CaseFilter{}},
		{"closed", store.CaseFilter{States: []cases.State{cases.Closed}}},
		{"all_category", store.CaseFilter{Category: category}},
		{"all_last7days", store.CaseFilter{From: now.AddDate(0, 0, -7)}},
		{"all_text", store.CaseFilter{Text: "井盖"}},
	}
	for _, scope := range []struct{ name, path string }{{"district", district}, {"street", street}} {
		for _, fl := range filters {
			for _, limit := range []int{0, 10000} {
				name := scope.name + "/" + fl.name + "/exact"
				if limit > 0 {
					name = fmt.Sprintf("%s/%s/upto%d", scope.name, fl.name, limit)
				}
				b.Run(name, func(b *testing.B) {
					f := fl.f
					f.Scope, f.Now = store.Scope{RegionPath: scope.path}, now
					var times []time.Duration
					n, more := 0, false
					for b.Loop() {
						start := time.Now()
						if n, more, err = db.CountCasesUpTo(ctx, f, limit); err != nil {
							b.Fatal(err)
						}
						times = append(times, time.Since(start))
					}
					p50, p95, _ := percentiles(times)
					b.ReportMetric(p50, "ms_p50")
					b.ReportMetric(p95, "ms_p95")
					b.ReportMetric(float64(n), "cases")
					plus := ""
					if more {
						plus = "+"
					}
					fmt.Printf("%s: %d%s cases, p50 %.1f ms, p95 %.1f ms\n", name, n, plus, p50, p95)
				})
			}
		}
	}
}
