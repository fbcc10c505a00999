// Package bench holds the platform's end-to-end performance benchmarks: report
// intake over HTTP against raw batched SQLite inserts, and case listing on a
// million synthetic cases. Everything lives in _test.go files; run them with
//
//	go test ./internal/bench -run '^$' -bench . -benchtime 20000x
//	ZHIZHI_BENCH_1M=1 go test ./internal/bench -run '^$' -bench CaseList1M -benchtime 2000x -timeout 30m
//	ZHIZHI_BENCH_PG_SCALE=postgres://… go test ./internal/bench -run '^$' -bench PGScale -benchtime 1400x -v -timeout 30m
//
// See docs/benchmarks.md for the figures.
package bench
