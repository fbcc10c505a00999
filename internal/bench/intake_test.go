package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// intakeClients is how many concurrent HTTP clients post reports:
// GOMAXPROCS × intakeParallelism goroutines (128 on a 2-core machine).
const intakeParallelism = 64

// reportBodies returns n JSON report bodies: patrol reports of categories
// without required questions, at points inside the Yuzhong grids.
func reportBodies(e *platform, n int) [][]byte {
	var cats []cases.Category
	for _, c := range demo.Categories() {
		if len(c.Questions) == 0 {
			cats = append(cats, c)
		}
	}
	places := []string{"路口", "小区门口", "楼栋旁", "人行道", "菜市场", "公交站", "背街小巷", "梯坎"}
	out := make([][]byte, n)
	for i := range out {
		c := cats[i%len(cats)]
		p := e.points[i%len(e.points)]
		sev := sla.Normal
		if i%7 == 0 {
			sev = sla.Urgent
		}
		r := cases.Report{Source: cases.SourcePatrol, Point: &p, Category: c.Code, Severity: sev,
			Address:     "新影村社区" + places[i%len(places)],
			Description: fmt.Sprintf("巡查发现%s%s存在%s问题（%s），请尽快处理。编号%d", "新影村社区", places[(i/3)%len(places)], c.Name, c.Keywords[0], i)}
		out[i], _ = json.Marshal(r)
	}
	return out
}

func newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

func postReport(client *http.Client, e *platform, body []byte) (int, []byte, error) {
	req, _ := http.NewRequest(http.MethodPost, e.base+"/api/v1/cases", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// BenchmarkIntakeHTTP posts reports over HTTP from many keep-alive clients. A
// report is acknowledged (201) only after it is placed in its grid, routed,
// clocked and durably committed (the write-ahead log synced) by the group-commit
// writer.
func BenchmarkIntakeHTTP(b *testing.B) {
	rate := driveIntake(b, startPlatform(b))
	if b.N >= 1000 {
		rateMu.Lock()
		intakeRate = rate
		rateMu.Unlock()
	}
}

// driveIntake checks that one report is accepted and placed, then posts
// b.N reports from intakeParallelism × GOMAXPROCS keep-alive clients and
// reports the rate, the reports per commit and the commit time; it returns
// the rate.
func driveIntake(b *testing.B, e *platform) float64 {
	bodies := reportBodies(e, 1<<13)
	client := newClient()
	// Warm the connection pool and check that reports are accepted and placed.
	status, resp, err := postReport(client, e, bodies[0])
	if err != nil || status != http.StatusCreated {
		b.Fatalf("report: %d %s %v", status, resp, err)
	}
	var c cases.Case
	if err := json.Unmarshal(resp, &c); err != nil || c.GridCode == "" || c.Number == "" {
		b.Fatalf("report not placed: %s", resp)
	}
	var next, failed atomic.Int64
	b.SetParallelism(intakeParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	before, logWrites := e.p.DB.WriterStats(), store.LogWrites()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			status, body, err := postReport(client, e, bodies[int(i)&(len(bodies)-1)])
			if err != nil || status != http.StatusCreated {
				if failed.Add(1) == 1 {
					b.Errorf("report: %d %s %v", status, body, err)
				}
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "reports/s")
	after := e.p.DB.WriterStats()
	if n := after.Batches - before.Batches; n > 0 {
		b.ReportMetric(float64(after.Jobs-before.Jobs)/float64(n), "jobs/commit")
		b.ReportMetric(float64((after.CommitTime-before.CommitTime).Microseconds())/float64(n)/1000, "ms/commit")
		// The writes of the log (store/walvfs.go; 0 with SQLite's own VFS).
		b.ReportMetric(float64(store.LogWrites()-logWrites)/float64(n), "log-writes/commit")
	}
	if n := after.Syncs - before.Syncs; n > 0 {
		b.ReportMetric(float64(after.Batches-before.Batches)/float64(n), "commits/sync")
		b.ReportMetric(float64((after.SyncTime-before.SyncTime).Microseconds())/float64(n)/1000, "ms/sync")
	}
	return rate
}

// The raw baseline's database, shared by BenchmarkRawBatchedInsert's runs
// and removed by TestMain.
var (
	rawOnce    sync.Once
	rawDB      *store.DB
	rawDir     string
	rawErr     error
	rawTmpl    cases.Case
	rawStep    cases.Step
	rawWritten int
)

// BenchmarkRawBatchedInsert inserts the same rows a report writes (the case
// row with its JSON document, its full-text row, its first step and its
// running clocks) with plain prepared INSERTs in transactions of 256 cases,
// into the same schema and SQLite settings, bypassing HTTP, the service and
// the group-commit writer. One "row" in rows/s is one case with its rows.
// Like intake's platform, its database is made once and shared by the
// benchmark's runs (-count): each run grows it as intake's run grows
// intake's.
func BenchmarkRawBatchedInsert(b *testing.B) {
	e := startPlatform(b)
	ctx := context.Background()
	rawOnce.Do(func() {
		// A real report's case and step are the templates.
		rawTmpl, rawStep = rawTemplates(b, e)
		// A fresh database with the store's schema and pragmas: like
		// intake's (which holds only the demo's ten cases at the start), it
		// grows from empty by the same rows.
		rawDir, rawErr = os.MkdirTemp("", "zhizhi-bench-raw-")
		if rawErr == nil {
			rawDB, rawErr = store.Open(ctx, filepath.Join(rawDir, "raw.db"), store.Options{})
		}
	})
	if rawErr != nil {
		b.Fatal(rawErr)
	}
	db, tmpl, stepTmpl := rawDB, rawTmpl, rawStep
	const batch = 256
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		// Placed as intake places it: its grid, region and center.
		if err := db.WriteRaw(ctx, "raw", store.ClockRule{}, rawRows(e, tmpl, stepTmpl, rawWritten+done, n)); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	rawWritten += b.N
	elapsed := time.Since(start)
	b.StopTimer()
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "rows/s")
	if b.N >= 1000 {
		rateMu.Lock()
		rawRate = rate
		rateMu.Unlock()
	}
}

// BenchmarkIntakeRollups measures what keeping the evaluation's rollups
// costs intake, in one run: rollups=off posts reports with no roll running
// (the benchmarks' platform starts with RollEvery < 0); rollups=on posts the
// same reports while a goroutine rolls every second with no lag (Roll at
// now + RollupLag), so every report is rolled within a second or so of its
// acknowledgement, harder than the platform's own loop (every sweep, 10 s
// behind). Run with -count to alternate the two on the growing database.
func BenchmarkIntakeRollups(b *testing.B) {
	e := startPlatform(b)
	ctx := context.Background()
	// Bring the rollups up to date first (the first roll rebuilds).
	if _, err := e.p.Service.Roll(ctx, time.Now().Add(service.RollupLag)); err != nil {
		b.Fatal(err)
	}
	b.Run("rollups=off", func(b *testing.B) { driveIntake(b, e) })
	b.Run("rollups=on", func(b *testing.B) {
		stop := make(chan struct{})
		done := make(chan struct{})
		var rolled atomic.Int64
		go func() {
			defer close(done)
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				n, err := e.p.Service.Roll(ctx, time.Now().Add(service.RollupLag))
				if err != nil {
					b.Error(err)
				}
				rolled.Add(int64(n))
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		driveIntake(b, e)
		close(stop)
		<-done
		b.ReportMetric(float64(rolled.Load())/float64(b.N), "rolled/report")
	})
}

// intakeRun posts n reports with BenchmarkIntake's clients, the reports'
// numbers taken from next (which ends past them), and returns the rate.
// The first failed report is reported on tb.
func intakeRun(tb testing.TB, e *platform, client *http.Client, bodies [][]byte, next *atomic.Int64, n int64) float64 {
	var wg sync.WaitGroup
	var failed atomic.Int64
	end := next.Load() + n
	start := time.Now()
	for range intakeParallelism * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > end {
					return
				}
				status, body, err := postReport(client, e, bodies[int(i)&(len(bodies)-1)])
				if (err != nil || status != http.StatusCreated) && failed.Add(1) == 1 {
					tb.Errorf("report: %d %s %v", status, body, err)
				}
			}
		}()
	}
	wg.Wait()
	next.Store(end)
	return float64(n) / time.Since(start).Seconds()
}

// stopPlatform stops a platform of a test's own, its files kept.
func stopPlatform(e *platform) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.p.Close(ctx)
}

// closePlatform stops a platform of a test's own and removes its files.
func closePlatform(e *platform) {
	stopPlatform(e)
	os.RemoveAll(e.dir)
}
