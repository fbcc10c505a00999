package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/region"
	"zhizhi/internal/server"
	"zhizhi/internal/store"
)

// rates measured in this run, for the intake/raw ratio printed at the end.
var (
	rateMu     sync.Mutex
	intakeRate float64
	rawRate    float64
)

func TestMain(m *testing.M) {
	// The benchmarks' nodes run in this process: its collector is set as
	// 'zhizhi serve' sets a node's (server.GC), and the raw baseline runs
	// under the same setting.
	fmt.Printf("garbage collector: %s\n", server.DefaultGC().Apply(os.Getenv))
	code := m.Run()
	if env != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		env.p.Close(ctx)
		cancel()
		os.RemoveAll(env.dir)
	}
	if rawDB != nil {
		rawDB.Close()
		os.RemoveAll(rawDir)
	}
	rateMu.Lock()
	if intakeRate > 0 && rawRate > 0 {
		fmt.Printf("intake over HTTP: %.0f reports/s; raw batched inserts: %.0f rows/s; ratio intake/raw = %.3f (raw is %.1fx faster)\n",
			intakeRate, rawRate, intakeRate/rawRate, rawRate/intakeRate)
	}
	rateMu.Unlock()
	os.Exit(code)
}

// platform is one running node with the demo loaded, shared by the intake
// benchmarks (the testing package calls a benchmark several times).
type platform struct {
	dir    string
	p      *server.Platform
	base   string
	token  string
	grids  []store.RegionRecord
	points []geo.Point
}

var (
	envOnce sync.Once
	env     *platform
	envErr  error
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startPlatform(b *testing.B) *platform {
	b.Helper()
	envOnce.Do(func() { env, envErr = newPlatform() })
	if envErr != nil {
		b.Fatal(envErr)
	}
	return env
}

func newPlatform() (*platform, error) { return newPlatformWith(platformAdjust) }

// platformAdjust, if not nil, changes the shared platform's configuration
// (budget_env_test.go).
var platformAdjust func(*server.Config)

// newPlatformWith starts a node on a fresh SQLite file with the demo
// loaded; adjust, if not nil, changes its configuration first.
func newPlatformWith(adjust func(*server.Config)) (*platform, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "zhizhi-bench-")
	if err != nil {
		return nil, err
	}
	e := &platform{dir: dir}
	cfg := server.Config{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "zhizhi.db"), DataDir: dir,
		DefaultCenter: demo.District, Logger: quietLogger(), RollEvery: -1} // BenchmarkIntakeRollups rolls itself
	if adjust != nil {
		adjust(&cfg)
	}
	e.p, err = server.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := demo.Load(ctx, e.p.Service, demo.Options{Cases: 10, Seed: 1}); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := e.p.Service.Reload(ctx); err != nil {
		return nil, err
	}
	if err := e.p.Start(); err != nil {
		return nil, err
	}
	e.base = "http://" + e.p.Addr()
	body, _ := json.Marshal(map[string]string{"username": "zhouchunyan", "password": demo.Password})
	resp, err := http.Post(e.base+"/api/v1/sessions", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("sign in: status %d, %v", resp.StatusCode, err)
	}
	e.token = out.Token
	e.grids, err = e.p.DB.Regions(ctx, store.RegionFilter{Level: region.Grid, WithShape: true})
	if err != nil {
		return nil, err
	}
	e.points = samplePoints(rand.New(rand.NewPCG(1, 2)), e.grids, 1<<14)
	return e, nil
}

// samplePoints returns n points, each inside a randomly chosen grid.
func samplePoints(rnd *rand.Rand, grids []store.RegionRecord, n int) []geo.Point {
	out := make([]geo.Point, 0, n)
	for len(out) < n {
		g := grids[rnd.IntN(len(grids))]
		out = append(out, pointIn(rnd, g.Shape))
	}
	return out
}

func pointIn(rnd *rand.Rand, shape geo.MultiPolygon) geo.Point {
	b := shape.Bounds()
	for range 500 {
		p := geo.Point{Lng: b.Min.Lng + rnd.Float64()*(b.Max.Lng-b.Min.Lng), Lat: b.Min.Lat + rnd.Float64()*(b.Max.Lat-b.Min.Lat)}
		if shape.Contains(p) {
			return p
		}
	}
	return shape.Centroid()
}
