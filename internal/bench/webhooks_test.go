package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
// report writes one event, which the loop fans out into one delivery per
// subscription and delivers while intake goes on; deliveries/s counts from
// the first report until no event or delivery is left. The three run in
// turn, webhookRounds times (the subscriptions removed after each round),
// so that a shared machine's changing load falls on all three alike.
func BenchmarkIntakeWebhooks(b *testing.B) {
	e := startPlatform(b)
	ctx := context.Background()
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
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
	defer unsubscribe()
	for range webhookRounds {
		b.Run("subs=0", func(b *testing.B) { driveIntake(b, e) })
		for _, subs := range []int{1, 10} {
			for i := len(ids); i < subs; i++ {
				_, sub, err := e.p.Service.CreateSubscription(ctx, system, webhook.Input{Name: fmt.Sprintf("基准接收方%d", i), URL: rcv.URL,
					Events: []string{webhook.All}, RegionCode: "500103"})
				if err != nil {
					b.Fatal(err)
				}
				ids = append(ids, sub.ID)
			}
			b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
				before := got.Load()
				start := time.Now()
				driveIntake(b, e)
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
			})
		}
		unsubscribe()
	}
}

// webhookRounds is how many times BenchmarkIntakeWebhooks runs its three
// sub-benchmarks in turn.
const webhookRounds = 3
