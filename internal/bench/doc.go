// Package bench holds the platform's end-to-end performance benchmarks: report
// intake over HTTP against raw batched SQLite inserts, case listing on a
// million synthetic cases, intake while a backlog of clocks falls due, and lists, case reads, intake and sweeps on an
// installation made by `zhizhi bench chongqing` (the city on PostgreSQL, a
// district on SQLite). Everything lives in _test.go files; run them with
//
//	go test ./internal/bench -run '^$' -bench . -benchtime 20000x
//	ZHIZHI_BENCH_1M=1 go test ./internal/bench -run '^$' -bench CaseList1M -benchtime 2000x -timeout 30m
//	ZHIZHI_BENCH_SCALE=postgres://…|file.db go test ./internal/bench -run '^$' -bench ScaleList -benchtime 1400x -v -timeout 30m
//	ZHIZHI_BENCH_BACKLOG=50000 go test ./internal/bench -run '^$' -bench SweepBacklog -benchtime 1x -v -timeout 60m
//
// See docs/benchmarks.md for the figures.
package bench
