package bench

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// TestIntakeGrowth reports intake over HTTP (BenchmarkIntake's clients)
// stage by stage as one file grows: ZHIZHI_BENCH_GROWTH stages of
// ZHIZHI_BENCH_GROWTH_STAGE reports (default 20,000), each stage's
// reports/s and the writer's time in COMMIT and syncing the log.
// ZHIZHI_BENCH_GROWTH_PROFILE=N:FILE writes a CPU profile of stage N;
// ZHIZHI_BENCH_GROWTH_KEEP=1 keeps the grown file (its path is logged).
func TestIntakeGrowth(t *testing.T) {
	stages, _ := strconv.Atoi(os.Getenv("ZHIZHI_BENCH_GROWTH"))
	if stages <= 0 {
		t.Skip("set ZHIZHI_BENCH_GROWTH=N to run N stages of intake into one file")
	}
	stage := envInt("ZHIZHI_BENCH_GROWTH_STAGE", 20000)
	profStage, profFile := 0, ""
	if v := os.Getenv("ZHIZHI_BENCH_GROWTH_PROFILE"); v != "" {
		if _, err := fmt.Sscanf(v, "%d:%s", &profStage, &profFile); err != nil {
			t.Fatalf("ZHIZHI_BENCH_GROWTH_PROFILE=%q: want N:FILE", v)
		}
	}
	e, err := newPlatform()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("ZHIZHI_BENCH_GROWTH_KEEP") != "" {
		defer func() {
			stopPlatform(e)
			t.Logf("kept %s", e.dir)
		}()
	} else {
		defer closePlatform(e)
	}
	bodies := reportBodies(e, 1<<13)
	client := newClient()
	var next atomic.Int64
	for s := 1; s <= stages; s++ {
		if s == profStage {
			f, err := os.Create(profFile)
			if err != nil {
				t.Fatal(err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				t.Fatal(err)
			}
		}
		w0 := e.p.DB.WriterStats()
		start := time.Now()
		rate := intakeRun(t, e, client, bodies, &next, int64(stage))
		d := time.Since(start)
		if s == profStage {
			pprof.StopCPUProfile()
		}
		w := e.p.DB.WriterStats()
		commits := w.Batches - w0.Batches
		t.Logf("stage %d (to %d reports): %.0f reports/s, %d commits (%.0f reports a commit), in COMMIT %.0f%% of the time (%.1f ms a commit), syncing %.0f%%",
			s, next.Load(), rate, commits, float64(stage)/float64(max(commits, 1)),
			100*(w.CommitTime-w0.CommitTime).Seconds()/d.Seconds(), float64((w.CommitTime-w0.CommitTime).Microseconds())/1000/float64(max(commits, 1)),
			100*(w.SyncTime-w0.SyncTime).Seconds()/d.Seconds())
	}
}
