package service_test

import (
	"context"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/webhook"
)

// TestWebhookBudget: while the node writes case changes its deliveries
// keep to the budget, counted: a node whose budget is 40 deliveries a
// second after a burst of 4, busy for the whole test (Quiet an hour after
// the cases written before its loop starts), cannot have delivered the
// cases' 60 events sooner than (60 − 4)/40 s after its loop started —
// a lower bound that a slower machine only makes easier, so the check
// cannot fail by chance, only when the budget is not kept — and
// delivers every event once, in order per case. The same events on a
// node that is quiet (Quiet a nanosecond) wait for no turn at all. The
// budget's turns given out in ticks (the default's, and longer ones) or
// each at its own time keep the same bound.
// SQLite, or PostgreSQL with ZHIZHI_TEST_POSTGRES.
func TestWebhookBudget(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quiet time.Duration
		tick  time.Duration // 0: the default's ticks; negative: none
		busy  bool
	}{
		{"busy", time.Hour, 0, true},
		{"busy, each turn at its own time", time.Hour, -1, true},
		{"busy, long ticks", time.Hour, 300 * time.Millisecond, true},
		{"quiet", time.Nanosecond, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := demoNode(t)
			rcv := newStepsReceiver(t)
			system := cases.Actor{Role: cases.RoleSystem, Name: "测试"}
			if _, _, err := p.Service.CreateSubscription(ctx, system, webhook.Input{Name: "预算", URL: rcv.URL,
				Events: []string{webhook.All}, RegionCode: "500103"}); err != nil {
				t.Fatal(err)
			}
			const n, burst, rate = 30, 4, 40 // 30 cases reported and accepted: 60 events
			ids := reportAccept(t, []*service.Service{p.Service}, p.DB, n, "预算")
			start := time.Now()
			defer runHooks(service.WebhookSettings{Poll: 50 * time.Millisecond,
				Budget: webhook.Budget{Rate: rate, Burst: burst, Quiet: tc.quiet, Tick: tc.tick}}, p.Service)()
			count := func() int { return rcv.count("") }
			waitFor(t, "every event delivered", func() bool { return count() >= 2*n })
			elapsed := time.Since(start)
			time.Sleep(100 * time.Millisecond) // nothing more comes
			if c := count(); c != 2*n {
				t.Errorf("%d deliveries, want %d", c, 2*n)
			}
			for _, id := range ids {
				if s := rcv.steps("/", id); len(s) != 2 || s[0] >= s[1] {
					t.Errorf("case %s: steps received %v, want two in order", id, s)
				}
			}
			waited := p.Service.WebhookWaited()
			if tc.busy {
				if least := time.Duration(float64(2*n-burst) / rate * float64(time.Second)); elapsed < least {
					t.Errorf("%d deliveries in %v, sooner than the budget allows (%v)", 2*n, elapsed, least)
				}
				if waited == 0 {
					t.Error("no delivery waited for its turn")
				}
			} else if waited != 0 {
				t.Errorf("%d deliveries of a quiet node waited for their turn", waited)
			}
		})
	}
}
