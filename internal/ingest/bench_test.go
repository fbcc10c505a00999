package ingest_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"zhizhi/internal/ingest"
)

// TestMQTTThroughput measures readings per second through Mosquitto: first
// to a plain subscriber (QoS 1, acknowledged on receipt, nothing done), then
// into zhizhi (validated, committed to SQLite with aggregates, rules run,
// acknowledged after the commit), publisher, broker and subscriber on this
// machine. It runs only with ZHIZHI_BENCH_MQTT=N (readings per run);
// docs/benchmarks.md has the figures.
func TestMQTTThroughput(t *testing.T) {
	n := 0
	fmt.Sscan(os.Getenv("ZHIZHI_BENCH_MQTT"), &n)
	if n <= 0 {
		t.Skip("set ZHIZHI_BENCH_MQTT=20000 to measure")
	}
	addr := broker(t)
	const devices = 1000
	// The publisher keeps at most window readings ahead of what the
	// subscriber has received: Mosquitto drops QoS 1 messages past a
	// client's max_queued_messages (1000 by default), so an unpaced
	// publisher measures the drops, not the subscriber.
	const window = 800
	var received func() int64
	publish := func(prefix string) time.Duration {
		pub, err := ingest.NewPublisher(addr, "zt-pub-"+rnd(), prefix)
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close()
		base := time.Now().Add(-time.Hour)
		start := time.Now()
		var last mqtt.Token
		for i := 0; i < n; i++ {
			for int64(i)-received() > window {
				time.Sleep(200 * time.Microsecond)
			}
			d := i % devices
			last = pub.Publish("crowd", fmt.Sprintf("C%03d", d), payload(float64(i%500), base.Add(time.Duration(i/devices)*time.Millisecond)))
		}
		last.WaitTimeout(time.Minute)
		return time.Since(start)
	}

	// Plain subscriber.
	prefix := "zt" + rnd() + "/readings"
	var got atomic.Int64
	done := make(chan struct{})
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(addr).SetClientID("zt-plain-" + rnd()).SetProtocolVersion(4).SetCleanSession(true))
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if tok := sub.Subscribe(prefix+"/+/+", 1, func(_ mqtt.Client, _ mqtt.Message) {
		if got.Add(1) == int64(n) {
			close(done)
		}
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	received = got.Load
	start := time.Now()
	pubPlain := publish(prefix)
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("plain subscriber got %d of %d", got.Load(), n)
	}
	plain := time.Since(start)
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
	received = func() int64 { return m.Stats().Received }
	start = time.Now()
	pubZ := publish(prefix)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, _ := db.CountReadings(ctx, "")
		if c >= int64(n) {
			break
		}
		if time.Now().After(deadline) {
			rej, _ := db.Rejects(ctx, "", 20)
			t.Fatalf("zhizhi committed %d of %d; stats %+v; rejects %+v", c, n, m.Stats(), rej)
		}
		time.Sleep(5 * time.Millisecond)
	}
	z := time.Since(start)
	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	t.Logf("%d readings, %d devices, GOMAXPROCS %d", n, devices, runtime.GOMAXPROCS(0))
	t.Logf("plain subscriber: %.0f readings/s (publishing took %s)", rate(plain), pubPlain.Round(time.Millisecond))
	t.Logf("zhizhi ingest (SQLite): %.0f readings/s (publishing took %s), %.0f%% of the plain subscriber", rate(z), pubZ.Round(time.Millisecond), 100*rate(z)/rate(plain))
	t.Logf("ingest stats %+v", m.Stats())
}
