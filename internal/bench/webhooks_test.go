package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/webhook"
)

// BenchmarkIntakeWebhooks measures, in one run on one platform, intake with
// no webhook subscription (subs=0), with one and with ten subscriptions of
// the whole district to a local receiver that acknowledges at once (subs=1,
// subs=10), and the deliveries per second of the background loop: every
// report writes one event, which each subscription's cursor reads and
// delivers while intake goes on; deliveries/s counts from
// the first report until no event or delivery is left,
// deliveries/s_in_intake only while the reports were being made. A fourth
// sub-benchmark (subs=10,paced) has the ten subscriptions' receiver admit
// deliveries at pacedRate a second (each answer waits for its turn), the
// issue's 1,000 deliveries/s: intake beside deliveries held at that rate;
// its deliveries/s counts the deliveries received while intake ran, and the
// deliveries still queued when intake ends are dropped with the
// subscriptions. Each sub-benchmark with subscriptions reports its intake
// as a percentage of its round's subs=0 (intake_%). The four run in turn,
// webhookRounds times (the subscriptions removed after each round), so
// that a shared machine's changing load falls on all alike.
func BenchmarkIntakeWebhooks(b *testing.B) {
	e := startPlatform(b)
	ctx := context.Background()
	var got atomic.Int64
	var paced atomic.Bool
	pacer := newPacer(pacedRate)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if paced.Load() {
			pacer.wait()
		}
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	system := cases.Actor{Role: cases.RoleSystem, Name: "基准测试"}
	var ids []string
	unsubscribe := func() {
		for _, id := range ids {
			if err := e.p.Service.DeleteSubscription(ctx, system, id); err != nil {
				b.Fatal(err)
			}
		}
		ids = nil
	}
	subscribe := func(subs int) {
		for i := len(ids); i < subs; i++ {
			_, sub, err := e.p.Service.CreateSubscription(ctx, system, webhook.Input{Name: fmt.Sprintf("基准接收方%d", i), URL: rcv.URL,
				Events: []string{webhook.All}, RegionCode: "500103"})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, sub.ID)
		}
	}
	defer unsubscribe()
	for range webhookRounds {
		var base float64 // this round's reports/s without subscriptions
		b.Run("subs=0", func(b *testing.B) { base = driveIntake(b, e) })
		for _, subs := range []int{1, 10} {
			subscribe(subs)
			b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
				before := got.Load()
				start := time.Now()
				rate := driveIntake(b, e)
				during := float64(got.Load()-before) / time.Since(start).Seconds()
				// Until every event of these reports is delivered.
				for {
					events, queued, err := e.p.DB.HookBacklog(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if events+queued == 0 {
						break
					}
					if time.Since(start) > 10*time.Minute {
						b.Fatalf("%d events and %d deliveries still queued", events, queued)
					}
					time.Sleep(20 * time.Millisecond)
				}
				n := got.Load() - before
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "deliveries/s")
				b.ReportMetric(float64(n)/float64(b.N), "deliveries/report")
				b.ReportMetric(during, "deliveries/s_in_intake")
				b.ReportMetric(100*rate/base, "intake_%")
			})
		}
		b.Run("subs=10,paced", func(b *testing.B) {
			paced.Store(true)
			defer paced.Store(false)
			before := got.Load()
			start := time.Now()
			rate := driveIntake(b, e)
			elapsed := time.Since(start)
			n := got.Load() - before
			b.ReportMetric(float64(n)/elapsed.Seconds(), "deliveries/s")
			b.ReportMetric(100*rate/base, "intake_%")
			// The deliveries still queued go with the subscriptions, so the
			// next round starts with an empty outbox.
			unsubscribe()
			subscribe(10)
		})
		unsubscribe()
	}
}

// webhookRounds is how many times BenchmarkIntakeWebhooks runs its
// sub-benchmarks in turn.
const webhookRounds = 3

// pacedRate is the deliveries per second the paced receiver admits.
const pacedRate = 1000

// pacer admits callers at a fixed rate: each waits for its own turn, one
// every 1/rate seconds (turns missed while nobody asked are not saved up
// beyond a few milliseconds).
type pacer struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newPacer(rate int) *pacer { return &pacer{every: time.Second / time.Duration(rate)} }

func (p *pacer) wait() {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now.Add(-5 * time.Millisecond)) {
		p.next = now.Add(-5 * time.Millisecond)
	}
	turn := p.next
	p.next = p.next.Add(p.every)
	p.mu.Unlock()
	if d := time.Until(turn); d > 0 {
		time.Sleep(d)
	}
}
