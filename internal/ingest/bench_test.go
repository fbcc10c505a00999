package ingest_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"zhizhi/internal/ingest"
	"zhizhi/internal/ingest/brokertest"
)

// benchBroker is the broker of the benchmarks: a private Mosquitto started
// with deploy/mosquitto/zhizhi.conf when the binary exists (so the figures
// do not depend on the system broker's limits), or the system's broker
// with ZHIZHI_BENCH_MQTT_BROKER=system.
func benchBroker(t *testing.T) (string, *brokertest.Broker) {
	if os.Getenv("ZHIZHI_BENCH_MQTT_BROKER") == "system" || brokertest.Binary() == "" {
		return broker(t), nil
	}
	b := brokertest.Start(t)
	return b.Addr, b
}

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// pacedPublish publishes n crowd readings of devices C000… at rate per
// second (0: as fast as the client goes) and returns when the broker has
// acknowledged the last; at(i) is the moment reading i was handed to the
// client (for latencies).
func pacedPublish(t *testing.T, addr, prefix string, n, devices, rate int, sent []int64) time.Duration {
	t.Helper()
	pub, err := ingest.NewPublisher(addr, "zt-pub-"+rnd(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	base := time.Now().Add(-time.Hour)
	start := time.Now()
	toks := make([]mqtt.Token, 0, n)
	for i := 0; i < n; i++ {
		if rate > 0 {
			due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
			if d := time.Until(due); d > time.Millisecond {
				time.Sleep(d)
			}
		}
		// At most window publications unacknowledged by the broker
		// (paho has 65,535 message IDs).
		const window = 20000
		if i >= window {
			if tok := toks[i-window]; !tok.WaitTimeout(time.Minute) || tok.Error() != nil {
				t.Fatalf("publish: %v", tok.Error())
			}
		}
		d := i % devices
		if sent != nil {
			sent[i] = time.Now().UnixNano()
		}
		toks = append(toks, pub.Publish("crowd", fmt.Sprintf("C%03d", d), payload(float64(i%50), base.Add(time.Duration(i/devices)*time.Millisecond))))
	}
	for _, tok := range toks {
		if !tok.WaitTimeout(time.Minute) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	return time.Since(start)
}

// TestMQTTThroughput measures readings per second through Mosquitto at an
// offered rate: first to a plain subscriber (QoS 1, acknowledged on
// receipt, nothing done), then into zhizhi (validated, committed to SQLite
// with aggregates, rules run, acknowledged after the commit), publisher,
// broker and subscriber on this machine, in the same run. It runs only
// with ZHIZHI_BENCH_MQTT=N (readings per run); ZHIZHI_BENCH_MQTT_RATE is
// the offered rate (default 20000 a second, 0: unpaced);
// ZHIZHI_BENCH_MQTT_CPUPROFILE=FILE profiles the zhizhi part. Any reading
// lost fails it, and the broker's drops are reported. docs/benchmarks.md
// has the figures.
func TestMQTTThroughput(t *testing.T) {
	n := 0
	fmt.Sscan(os.Getenv("ZHIZHI_BENCH_MQTT"), &n)
	if n <= 0 {
		t.Skip("set ZHIZHI_BENCH_MQTT=200000 to measure")
	}
	rate := 20000
	if v := os.Getenv("ZHIZHI_BENCH_MQTT_RATE"); v != "" {
		fmt.Sscan(v, &rate)
	}
	addr, br := benchBroker(t)
	const devices = 1000
	t.Logf("load average at start: %s", loadavg())

	// Plain subscriber.
	prefix := "zt" + rnd() + "/readings"
	var got atomic.Int64
	var last atomic.Int64
	done := make(chan struct{})
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(addr).SetClientID("zt-plain-" + rnd()).SetProtocolVersion(4).SetCleanSession(true))
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if tok := sub.Subscribe(prefix+"/+/+", 1, func(_ mqtt.Client, _ mqtt.Message) {
		last.Store(time.Now().UnixNano())
		if got.Add(1) == int64(n) {
			close(done)
		}
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	start := time.Now()
	pubPlain := pacedPublish(t, addr, prefix, n, devices, rate, nil)
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("plain subscriber got %d of %d (broker drops logged: %d)", got.Load(), n, drops(br))
	}
	plain := time.Unix(0, last.Load()).Sub(start)
	sub.Disconnect(0)

	// zhizhi.
	db, s := world(t, devices)
	ctx := context.Background()
	prefix = "zt" + rnd() + "/readings"
	cfg := ingest.Config{Broker: addr, ClientID: "zt-bench-" + rnd(), Prefix: prefix, Group: "g" + rnd()}
	t.Cleanup(func() { ingest.ForgetSessions(addr, cfg.ClientID, 0) })
	m, err := ingest.Start(ctx, cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	if f := os.Getenv("ZHIZHI_BENCH_MQTT_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		pprof.StartCPUProfile(out)
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	start = time.Now()
	pubZ := pacedPublish(t, addr, prefix, n, devices, rate, nil)
	deadline := time.Now().Add(2 * time.Minute)
	for m.Stats().Committed < int64(n) {
		if time.Now().After(deadline) {
			c, _ := db.CountReadings(ctx, "")
			rej, _ := db.Rejects(ctx, "", 20)
			t.Fatalf("zhizhi committed %d of %d; stats %+v; broker drops logged: %d; rejects %+v", c, n, m.Stats(), drops(br), rej)
		}
		time.Sleep(time.Millisecond)
	}
	z := time.Since(start)
	if c, _ := db.CountReadings(ctx, ""); c != int64(n) {
		t.Fatalf("%d readings stored, want %d", c, n)
	}
	rate2 := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	t.Logf("%d readings, %d devices, offered %d/s, GOMAXPROCS %d, broker %s", n, devices, rate, runtime.GOMAXPROCS(0), brokerName(br))
	t.Logf("plain subscriber: %.0f readings/s (publishing took %s: %.0f/s)", rate2(plain), pubPlain.Round(time.Millisecond), rate2(pubPlain))
	t.Logf("zhizhi ingest (SQLite): %.0f readings/s (publishing took %s: %.0f/s), %.0f%% of the plain subscriber", rate2(z), pubZ.Round(time.Millisecond), rate2(pubZ), 100*rate2(z)/rate2(plain))
	w := db.WriterStats()
	t.Logf("ingest stats %+v; writer: %d commits, %.0f readings a commit", m.Stats(), w.Batches, float64(n)/float64(max(w.Batches, 1)))
	t.Logf("broker drops logged: %d; load average at end: %s", drops(br), loadavg())
}

func drops(b *brokertest.Broker) int {
	if b == nil {
		return -1 // the system broker's log is not ours to read
	}
	return b.Drops()
}

func brokerName(b *brokertest.Broker) string {
	if b == nil {
		return "system (its own configuration)"
	}
	return "private mosquitto -c deploy/mosquitto/zhizhi.conf"
}
