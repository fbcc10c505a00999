package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
)

// BenchmarkSweepBacklog makes ZHIZHI_BENCH_BACKLOG clocks (50,000 in
// docs/benchmarks.md) fall due at once on a fresh SQLite installation, as
// after a long outage: that many reports made through the service on a clock
// set a week back (escalation off, so each clock fires its yellow and its
// red warning), then the clock set to the present. It then sweeps the
// backlog while 64 keep-alive clients post reports over HTTP, and reports,
// from the same run, the sweep rate (clocks and events a second until the
// backlog is drained) and the intake rate meanwhile. The variants: no
// backlog (intake alone, for 10 s), the whole backlog claimed in one
// transaction (the old way, for comparison), back-to-back slices of 200
// clocks without yielding (the sweeper before slicing yielded), and the
// sweeper as it runs (service.Sweep). One run per variant: use -benchtime 1x.
//
//	ZHIZHI_BENCH_BACKLOG=50000 go test ./internal/bench -run '^$' -bench SweepBacklog -benchtime 1x -v -timeout 60m
func BenchmarkSweepBacklog(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("ZHIZHI_BENCH_BACKLOG"))
	if n <= 0 {
		b.Skip("set ZHIZHI_BENCH_BACKLOG=50000 to run")
	}
	for _, v := range []struct {
		name string
		opt  *service.SweepOptions // nil: no backlog
	}{
		{"none", nil},
		{"unbounded", &service.SweepOptions{Slice: n * 2, NoYield: true}},
		{"slices200-noyield", &service.SweepOptions{Slice: 200, NoYield: true}},
		{"sliced", &service.SweepOptions{}},
	} {
		b.Run(v.name, func(b *testing.B) { runBacklog(b, n, v.opt) })
	}
}

func runBacklog(b *testing.B, n int, opt *service.SweepOptions) {
	ctx := context.Background()
	var offset atomic.Int64 // how far the service's clock is behind
	offset.Store(int64(7 * 24 * time.Hour))
	now := func() time.Time { return time.Now().Add(-time.Duration(offset.Load())) }
	e, err := newPlatformWith(func(c *server.Config) {
		c.Now = now
		c.SweepEvery = time.Hour // the benchmark sweeps itself
		c.EscalateAfter = 0
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		e.p.Close(cctx)
		cancel()
		os.RemoveAll(e.dir)
	}()
	svc := e.p.Service
	if opt != nil {
		acct, err := e.p.DB.AccountByUsername(ctx, "zhouchunyan")
		if err != nil {
			b.Fatal(err)
		}
		actor := svc.ActorOf(acct)
		bodies := reportBodies(e, 1<<13)
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					var r cases.Report
					json.Unmarshal(bodies[i&(len(bodies)-1)], &r)
					if _, err := svc.Report(ctx, actor, r); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.Logf("backlog: %d reports in %.1f s", n, time.Since(start).Seconds())
		offset.Store(0)
		due, err := e.p.DB.DueCount(ctx, now())
		if err != nil {
			b.Fatal(err)
		}
		if due < int64(n) {
			b.Fatalf("%d clocks due, want at least %d", due, n)
		}
	} else {
		offset.Store(0)
	}

	// The session of the demo load began a week ago: sign in again.
	if e.token, err = signIn(e.base, "zhouchunyan", demo.Password); err != nil {
		b.Fatal(err)
	}
	// Intake from 64 keep-alive clients until the backlog is drained (or
	// for 10 s with no backlog).
	client := newClient()
	bodies := reportBodies(e, 1<<13)
	stop := make(chan struct{})
	var posted, failed atomic.Int64
	var wg sync.WaitGroup
	var latMu sync.Mutex
	var lats []time.Duration // of the reports acknowledged while measuring
	measuring := atomic.Bool{}
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := i; ; k += 64 {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				status, body, err := postReport(client, e, bodies[k&(len(bodies)-1)])
				if measuring.Load() {
					latMu.Lock()
					lats = append(lats, time.Since(t0))
					latMu.Unlock()
				}
				if err != nil || status != http.StatusCreated {
					if failed.Add(1) == 1 {
						b.Errorf("report: %d %s %v", status, body, err)
					}
					return
				}
				posted.Add(1)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // clients connected and posting
	before := e.p.DB.WriterStats()
	p0 := posted.Load()
	measuring.Store(true)
	start := time.Now()
	fired := 0
	if opt != nil {
		fired, err = svc.SweepWith(ctx, now(), *opt)
		if err != nil {
			b.Error(err)
		}
	} else {
		time.Sleep(10 * time.Second)
	}
	elapsed := time.Since(start)
	p1 := posted.Load()
	measuring.Store(false)
	after := e.p.DB.WriterStats()
	close(stop)
	wg.Wait()
	slices.Sort(lats)
	if len(lats) > 0 {
		b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "ms-p50")
		b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "ms-p99")
	}
	intake := float64(p1-p0) / elapsed.Seconds()
	b.ReportMetric(intake, "reports/s")
	if opt != nil {
		b.ReportMetric(float64(n)/elapsed.Seconds(), "clocks/s")
		b.ReportMetric(float64(fired)/elapsed.Seconds(), "events/s")
		b.ReportMetric(elapsed.Seconds(), "s-drain")
		if left, err := e.p.DB.DueCount(ctx, now().Add(-time.Minute)); err != nil || left > 0 {
			b.Errorf("%d clocks still due after the sweep (%v)", left, err)
		}
	}
	if nb := after.Batches - before.Batches; nb > 0 {
		b.ReportMetric(float64((after.CommitTime-before.CommitTime).Microseconds())/float64(nb)/1000, "ms/commit")
		b.ReportMetric(float64(after.Jobs-before.Jobs)/float64(nb), "jobs/commit")
	}
	b.Logf("%d events fired in %.1f s; %d reports acknowledged meanwhile (%.0f/s)", fired, elapsed.Seconds(), p1-p0, intake)
}
