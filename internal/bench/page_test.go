package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/api"
	"zhizhi/internal/demo"
	"zhizhi/internal/server"
	"zhizhi/internal/store"
)

// pageWords are the text searches of BenchmarkTextPageHTTP: the scale
// benchmarks' (2- and 4-character words, common and rare) and two of the
// small database's new reports (reportBodies).
var pageWords = []string{"消防通道", "井盖", "垃圾", "占道经营", "路灯", "漏水", "噪声", "违章搭建", "新影村社区", "梯坎"}

// pageTarget is a serving node the page benchmarks ask, with the account
// whose queue they read.
type pageTarget struct {
	name, base, token string
	client            *http.Client
	db                *store.DB
	close             func()
}

// pageTargets starts the nodes the page benchmarks run against: a fresh
// SQLite file with the demo and 300 new reports over the district (always),
// and, with ZHIZHI_BENCH_PAGE_DB set to an installation loaded by
// 'zhizhi bench chongqing' (a SQLite file of one district, or a PostgreSQL
// URL), that installation read as its district's commander (yz_zhihui),
// with its data directory in $TMPDIR/zhizhi-bench-page-data.
// The large one's rows written before migration 27 get their list items
// first (store.DB.FillItems, timed).
func pageTargets(b *testing.B) []pageTarget {
	e, err := newPlatformWith(nil)
	if err != nil {
		b.Fatal(err)
	}
	client := newClient()
	for _, body := range reportBodies(e, 300) {
		if status, resp, err := postReport(client, e, body); err != nil || status != http.StatusCreated {
			b.Fatalf("report: %d %s %v", status, resp, err)
		}
	}
	token, err := signIn(e.base, "qu_zhihui", demo.Password)
	if err != nil {
		b.Fatal(err)
	}
	out := []pageTarget{{name: "small", base: e.base, token: token, client: client, db: e.p.DB, close: func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e.p.Close(ctx)
	}}}
	dsn := os.Getenv("ZHIZHI_BENCH_PAGE_DB")
	if dsn == "" {
		b.Log("ZHIZHI_BENCH_PAGE_DB unset: the small database only")
		return out
	}
	ctx := context.Background()
	// One data directory for every run: the node seals its secrets in the
	// database under the key kept there.
	data := filepath.Join(os.TempDir(), "zhizhi-bench-page-data")
	p, err := server.Open(ctx, server.Config{Addr: "127.0.0.1:0", DB: dsn, DataDir: data, DefaultCenter: "/500000/", Logger: quietLogger(), RollEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	n, err := p.DB.FillItems(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	var total, open int
	p.DB.Raw().QueryRowContext(ctx, `SELECT count(*), count(closed_at IS NULL OR NULL) FROM cases`).Scan(&total, &open)
	b.Logf("large: %d cases (%d open); filled %d list items in %s", total, open, n, time.Since(start).Round(time.Millisecond))
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	base := "http://" + p.Addr()
	tok, err := signIn(base, "yz_zhihui", demo.Password)
	if err != nil {
		b.Fatal(err)
	}
	return append(out, pageTarget{name: fmt.Sprintf("%dk", total/1000), base: base, token: tok, client: newClient(), db: p.DB, close: func() {
		p.Close(context.Background())
	}})
}

// getPage asks for one listing and checks it is a page of cases.
func (t pageTarget) getPage(path string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, t.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+t.token)
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var page struct{ Items []json.RawMessage }
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, err
	}
	return len(page.Items), nil
}

// get asks for one listing and reads the answer whole, without decoding
// it (the clients share the node's two cores: the pages were checked before
// the timed runs).
func (t pageTarget) get(path string) error {
	req, _ := http.NewRequest(http.MethodGet, t.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+t.token)
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte(`{"items":`)) {
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return nil
}

// drivePages has clients keep-alive clients share b.N requests, the i-th
// asking for paths[i % len(paths)], and reports p50/p95 latency and pages
// per second.
func drivePages(b *testing.B, t pageTarget, clients int, paths []string) {
	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start, cpu0, rd0, w0 := time.Now(), selfCPU(), readCalls(), t.db.WriterStats().Batches
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				at := time.Now()
				if err := t.get(paths[int(i)%len(paths)]); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = time.Since(at)
			}
		}()
	}
	wg.Wait()
	elapsed, cpu, rd, w := time.Since(start), selfCPU()-cpu0, readCalls()-rd0, t.db.WriterStats().Batches-w0
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pages/s")
	// The process's CPU (node and clients alike): per page, and the cores
	// it kept busy on average. On two cores the ratio from 1 to 4 clients
	// cannot exceed 2 ÷ the cores one client keeps busy.
	b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cores")
	// Allocations in the process (node and clients) a page, and the
	// garbage collections of the run.
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "allocs/page")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N), "B/page")
	b.ReportMetric(float64(m1.NumGC-m0.NumGC), "GCs")
	// Read system calls a page (SQLite's reads of pages beyond its map,
	// and the sockets'), from /proc/self/io.
	b.ReportMetric(float64(rd)/float64(b.N), "reads/page")
	// The node's own commits a second meanwhile (its clocks firing, its
	// upkeep): each one makes every SQLite reader drop its page cache at
	// its next listing.
	b.ReportMetric(float64(w)/elapsed.Seconds(), "commits/s")
}

// writerQuiet waits until the node's writer has committed at most twice a
// second over two windows of five seconds in a row (at most limit). A node
// opened on a loaded installation commits in bursts in its first seconds
// (1,000–1,500 commits in the first ten, seen on a 1 M-case district), and
// every commit makes each SQLite reader drop its page cache at its next
// listing: a timed run taken meanwhile would pay for that alone. After it
// the node commits what the district's clocks make (about once a second).
func writerQuiet(b *testing.B, db *store.DB, limit time.Duration) {
	const window = 5 * time.Second
	start, calm := time.Now(), 0
	for calm < 2 {
		n := db.WriterStats().Batches
		time.Sleep(window)
		d := db.WriterStats().Batches - n
		if calm++; float64(d) > 2*window.Seconds() {
			calm = 0
		}
		if time.Since(start) > limit {
			b.Logf("writer: still %d commits in %s after %s: timing anyway", d, window, limit)
			return
		}
	}
	b.Logf("writer calm after %s", time.Since(start).Round(time.Second))
}

// readCalls is the read system calls this process has made (syscr of
// /proc/self/io), or 0 where there is none.
func readCalls() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscr: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkCasePageHTTP asks for one page of 50 open cases over HTTP, the
// district commander's queue (GET /api/v1/cases?open=true&limit=50), from 1
// and from 4 keep-alive clients on the same two cores as the node, and
// reports p50/p95 latency and pages per second (issue 19, "a page of
// cases"), on each target of pageTargets (the small database always;
// ZHIZHI_BENCH_PAGE_DB adds an installation of 1 M cases), in one run:
// first as the listing was before issue 19 (listing=full: whole cases
// decoded from their documents and encoded by encoding/json,
// api.ListFullCases; each statement prepared anew, store.PrepareListings;
// SQLite's readers not mapping the file, store.MapReaders), then as it is
// (listing=items). The targets are opened once for each; before a target's
// runs its writer is let calm down and its readers are warmed (warmTarget),
// both ways alike; the load average is logged before each run.
func BenchmarkCasePageHTTP(b *testing.B) {
	defer api.ListFullCases(false)
	defer store.PrepareListings(true)
	defer store.MapReaders(true)
	path := "/api/v1/cases?open=true&limit=50"
	for _, listing := range []string{"full", "items"} {
		now := listing == "items"
		api.ListFullCases(!now)
		store.PrepareListings(now)
		store.MapReaders(now)
		targets := pageTargets(b)
		for _, t := range targets {
			if n, err := t.getPage(path); err != nil || n != 50 {
				b.Fatalf("%s: first page: %d items, %v", t.name, n, err)
			}
			warmTarget(b, t, []string{path}, pageWarm)
			for _, clients := range []int{1, 4} {
				b.Run(fmt.Sprintf("db=%s/listing=%s/clients=%d", t.name, listing, clients), func(b *testing.B) {
					b.Logf("load average %s", loadAverage())
					drivePages(b, t, clients, []string{path})
				})
			}
		}
		for _, t := range targets {
			t.close()
		}
	}
}

// BenchmarkTextPageHTTP asks for text listings over HTTP, the district
// commander's (GET /api/v1/cases?q=WORD&limit=50, the words of pageWords in
// turn), from 1 and from 4 clients (issue 19, "text search under load":
// ≥ 1.7× from 1 to 4 clients, p95 < 30 ms), on each target of pageTargets,
// with SQLite's readers not mapping the file (before) and mapping it
// (store.MapReaders, now), in one run: the targets are opened once for
// each.
func BenchmarkTextPageHTTP(b *testing.B) {
	var paths []string
	for _, w := range pageWords {
		paths = append(paths, "/api/v1/cases?limit=50&q="+url.QueryEscape(w))
	}
	defer store.MapReaders(true)
	for _, mapped := range []bool{false, true} {
		store.MapReaders(mapped)
		targets := pageTargets(b)
		for _, t := range targets {
			for _, p := range paths {
				if _, err := t.getPage(p); err != nil {
					b.Fatalf("%s: %s: %v", t.name, p, err)
				}
			}
			warmTarget(b, t, paths, textWarm)
			for _, clients := range []int{1, 4} {
				b.Run(fmt.Sprintf("db=%s/mmap=%v/clients=%d", t.name, mapped, clients), func(b *testing.B) {
					b.Logf("load average %s", loadAverage())
					drivePages(b, t, clients, paths)
				})
			}
		}
		for _, t := range targets {
			t.close()
		}
	}
}

// textWarm is how many text listings BenchmarkTextPageHTTP asks, from
// four clients, before its timed runs on each target; pageWarm the pages
// of cases BenchmarkCasePageHTTP asks.
const (
	textWarm = 2000
	pageWarm = 2000
)

// warmTarget waits until the target's writer is calm (writerQuiet), then
// asks for n listings (paths in turn) from four clients, so that every
// reader connection the timed runs use has its caches (SQLite's page cache,
// the prepared statements) and the first timed run (one client) does not
// pay for them alone. A node serving for hours is in this state; a node
// just opened is not.
func warmTarget(b *testing.B, t pageTarget, paths []string, n int) {
	b.Helper()
	writerQuiet(b, t.db, 2*time.Minute)
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n / 4 {
				if err := t.get(paths[(c+4*i)%len(paths)]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// loadAverage is /proc/loadavg's first three figures, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil || runtime.GOOS != "linux" {
		return "?"
	}
	var a, c, d string
	fmt.Sscan(string(b), &a, &c, &d)
	return a + " " + c + " " + d
}
