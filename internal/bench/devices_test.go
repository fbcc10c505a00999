package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/sensors"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestDevices657800 measures what depends on the number of registered
// devices (issue 16: Yuzhong's 657,800): it registers N devices
// (ZHIZHI_BENCH_DEVICES, e.g. 657800) through the device import
// (service.ImportDevices, the administrators' path: CSV, validated, placed
// in grids, 100,000 rows an import) on a node with the demo and its sensor
// rules, then reports the import's time, the heap of the node's in-memory
// sensor state (devices, last readings, rules), a device lookup and a
// rule evaluation per reading on that state, readings committed through
// service.Ingest over random devices, and the console's device list page's
// queries. ZHIZHI_BENCH_DEVICES_DB names the database (a postgres:// URL of
// an empty database; default a new SQLite file).
//
//	ZHIZHI_BENCH_DEVICES=657800 go test ./internal/bench -run TestDevices657800 -v -timeout 30m
func TestDevices657800(t *testing.T) {
	n := envInt("ZHIZHI_BENCH_DEVICES", 0)
	if n == 0 {
		t.Skip("ZHIZHI_BENCH_DEVICES=657800 not set")
	}
	dsn := os.Getenv("ZHIZHI_BENCH_DEVICES_DB")
	e, err := newPlatformWith(func(c *server.Config) {
		if dsn != "" {
			c.DB = dsn
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		e.p.Close(ctx)
		cancel()
		os.RemoveAll(e.dir)
	}()
	ctx := context.Background()
	svc := e.p.Service
	engine := "SQLite"
	if e.p.DB.Dialect == store.Postgres {
		engine = "PostgreSQL"
	}
	t.Logf("%s, load average at start: %s", engine, loadavg())
	if _, err := demo.LoadSensors(ctx, svc, 40, 1); err != nil {
		t.Fatal(err)
	}
	kinds := demo.SensorKinds
	rnd := rand.New(rand.NewPCG(16, 657800))
	start := time.Now()
	for lo := 40; lo < n; lo += service.MaxDeviceImport {
		hi := min(lo+service.MaxDeviceImport, n)
		var b strings.Builder
		b.WriteString("id,kind,lng,lat,area\n")
		for i := lo; i < hi; i++ {
			k := kinds[i%len(kinds)]
			p := e.points[rnd.IntN(len(e.points))]
			area := ""
			if k.Code == "crowd" {
				area = fmt.Sprintf("A%04d", i/500) // crowd counters summed in areas of ~80
			}
			fmt.Fprintf(&b, "D%07d,%s,%.6f,%.6f,%s\n", i, k.Code, p.Lng, p.Lat, area)
		}
		if _, probs, err := svc.ImportDevices(ctx, cases.System, strings.NewReader(b.String())); err != nil {
			t.Fatal(err, probs[:min(len(probs), 3)])
		}
	}
	imported := time.Since(start)
	have, err := e.p.DB.CountDevices(ctx)
	if err != nil || have != n {
		t.Fatalf("%d devices registered, want %d (%v)", have, n, err)
	}
	rules, _ := svc.SensorRules(ctx)
	t.Logf("registered %d devices through the import (%d imports of at most %d rows) in %s: %.0f devices/s; %d rules",
		n, (n-40+service.MaxDeviceImport-1)/service.MaxDeviceImport, service.MaxDeviceImport, imported.Round(time.Millisecond), float64(n-40)/imported.Seconds(), len(rules))

	// The node's sensor state (loaded on first use, already loaded here
	// by the sensor tick) is refreshed when reference data changes: a kind
	// saved again refreshes the kinds, rules and open incidents on the
	// node's engine; an import (here one device already registered, as it
	// is) reads every device again.
	start = time.Now()
	if err := svc.PutDeviceKind(ctx, cases.System, kinds[0]); err != nil {
		t.Fatal(err)
	}
	t.Logf("refreshing the node's sensor state after a kind saved (the devices kept): %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if _, probs, err := svc.ImportDevices(ctx, cases.System, strings.NewReader(fmt.Sprintf("id,kind,lng,lat,area\nD%07d,%s,%.6f,%.6f,\n",
		41, kinds[41%len(kinds)].Code, e.points[0].Lng, e.points[0].Lat))); err != nil {
		t.Fatal(err, probs)
	}
	t.Logf("an import of one device (every device read again): %s", time.Since(start).Round(time.Millisecond))

	// Its memory: the same engine built again (devices, then a last
	// reading for every device, as once all have reported).
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	devs, err := e.p.DB.Devices(ctx, store.DeviceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]sensors.Device, len(devs))
	ids := make([]string, len(devs))
	for i, d := range devs {
		plain[i], ids[i] = d.Device, d.ID
	}
	devs = nil
	h0 := heap()
	eng := sensors.NewEngine(plain, rules, time.Now())
	h1 := heap()
	seedAt := time.Now().Add(-2 * time.Hour)
	for _, d := range plain {
		eng.Seed(sensors.Reading{Device: d.ID, Kind: d.Kind, Value: 1, At: seedAt})
	}
	h2 := heap()
	t.Logf("rules engine memory for %d devices: %.0f MiB (%.0f B a device); with every device's last reading %.0f MiB (%.0f B a device)",
		n, float64(h1-h0)/(1<<20), float64(h1-h0)/float64(n), float64(h2-h0)/(1<<20), float64(h2-h0)/float64(n))
	lookup := testing.Benchmark(func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, ok := eng.Device(ids[(i*7919)%len(ids)]); !ok {
				b.Fatal("missing")
			}
		}
	})
	base := time.Now().Add(-time.Hour)
	observe := testing.Benchmark(func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			d := plain[(i*7919)%len(plain)]
			eng.Observe(sensors.Reading{Device: d.ID, Kind: d.Kind, Value: 1, At: base.Add(time.Duration(i) * time.Millisecond)})
		}
	})
	t.Logf("per reading on %d devices and %d rules: device lookup %s, rules evaluated (Engine.Observe) %s", len(plain), len(rules),
		time.Duration(lookup.NsPerOp()), time.Duration(observe.NsPerOp()))

	// Readings committed through the service over random devices.
	const batch, batches = 2000, 25
	now := time.Now()
	start = time.Now()
	for j := range batches {
		in := make([]service.Incoming, batch)
		for i := range in {
			d := plain[rnd.IntN(len(plain))]
			in[i] = service.Incoming{Reading: sensors.Reading{Device: d.ID, Kind: d.Kind, Value: 1, At: now.Add(-time.Minute).Add(time.Duration(j*batch+i) * time.Millisecond)}}
		}
		res, err := svc.Ingest(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != batch {
			t.Fatalf("accepted %d of %d: %v", res.Accepted, batch, res.Problems[:5])
		}
	}
	took := time.Since(start)
	t.Logf("service.Ingest, %d batches of %d readings over random devices of %d: %.0f readings/s (%s a reading)", batches, batch, n,
		float64(batch*batches)/took.Seconds(), took/time.Duration(batch*batches))

	// The console's device list page (/sensors): its queries.
	page := func(f store.DeviceFilter) testing.BenchmarkResult {
		return testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				f.Limit = 101
				if _, err := svc.Devices(ctx, f); err != nil {
					b.Fatal(err)
				}
				if _, err := e.p.DB.CountDevices(ctx); err != nil {
					b.Fatal(err)
				}
				if _, err := svc.SensorRules(ctx); err != nil {
					b.Fatal(err)
				}
				if _, err := e.p.DB.Incidents(ctx, store.IncidentFilter{Limit: 50}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, c := range []struct {
		name string
		f    store.DeviceFilter
	}{
		{"first page", store.DeviceFilter{}},
		{"a page in the middle", store.DeviceFilter{After: ids[len(ids)/2]}},
		{"kind water_level", store.DeviceFilter{Kind: "water_level"}},
		{"area A0100", store.DeviceFilter{Area: "A0100"}},
		{"state silent (none)", store.DeviceFilter{State: sensors.Silent}},
	} {
		r := page(c.f)
		t.Logf("device list page, %s: %s a page (%d runs)", c.name, time.Duration(r.NsPerOp()).Round(time.Microsecond), r.N)
	}
	count := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			e.p.DB.CountDevices(ctx)
		}
	})
	heard := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := e.p.DB.DevicesHeardSince(ctx, time.Now().Add(-15*time.Second)); err != nil {
				b.Fatal(err)
			}
		}
	})
	t.Logf("the sensor tick's query of the devices heard in the last 15 s (DevicesHeardSince, each tick): %s", time.Duration(heard.NsPerOp()).Round(time.Microsecond))
	t.Logf("of which the total count (count(*) over %d devices): %s", n, time.Duration(count.NsPerOp()).Round(time.Microsecond))
	t.Logf("load average at end: %s", loadavg())
}
