package service_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/webhook"
)

// TestWebhookOutcomes: three subscriptions whose receiver answers 204, 500
// and not within the attempt's time limit take the same case's two events;
// the delivery loop records each subscription's batch: the acknowledged
// events are passed by the cursor, the failed first events wait in the
// outbox for their retry with one attempt counted and hold back the case's
// second event (queued behind, unsent); the subscriptions' runs of
// failures and the delivery logs say what happened (every failure, and a
// batch's last success). SQLite, or PostgreSQL with ZHIZHI_TEST_POSTGRES.
func TestWebhookOutcomes(t *testing.T) {
	ctx := context.Background()
	p := demoNode(t)
	var mu sync.Mutex
	hits := map[string]int{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(http.StatusNoContent)
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("down\n"))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}))
	t.Cleanup(rcv.Close)
	system := cases.Actor{Role: cases.RoleSystem, Name: "测试"}
	subs := map[string]string{}
	for _, path := range []string{"/ok", "/fail", "/slow"} {
		_, v, err := p.Service.CreateSubscription(ctx, system, webhook.Input{Name: "结果" + path, URL: rcv.URL + path,
			Events: []string{webhook.All}, RegionCode: "500103"})
		if err != nil {
			t.Fatal(err)
		}
		subs[path] = v.ID
	}
	ids := reportAccept(t, []*service.Service{p.Service}, p.DB, 1, "结果")
	start := time.Now()
	defer runHooks(service.WebhookSettings{Timeout: 300 * time.Millisecond, Poll: 50 * time.Millisecond, BackoffBase: time.Hour}, p.Service)()
	logOf := func(path string) int {
		log, err := p.Service.DeliveryLog(ctx, system, subs[path], 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(log)
	}
	// The log keeps every failure and, of a batch's successes, the last.
	waitFor(t, "every outcome recorded", func() bool { return logOf("/ok") == 1 && logOf("/fail") == 1 && logOf("/slow") == 1 })
	time.Sleep(200 * time.Millisecond) // nothing more is due for an hour

	for path, want := range map[string]struct {
		status   int
		ok       bool
		err      string
		response string
	}{
		"/ok":   {204, true, "", ""},
		"/fail": {500, false, "HTTP 500", "down\n"},
		"/slow": {0, false, "Timeout", ""},
	} {
		log, err := p.Service.DeliveryLog(ctx, system, subs[path], 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range log {
			if e.Status != want.status || e.OK != want.ok || !strings.Contains(e.Error, want.err) || (want.err == "" && e.Error != "") ||
				e.Response != want.response || e.Attempt != 1 || e.CaseID != ids[0] {
				t.Errorf("%s: logged %+v, want %+v", path, e, want)
			}
		}
		if first, want := log[len(log)-1].Kind, map[bool]string{true: "accept", false: "report"}[want.ok]; first != want {
			t.Errorf("%s: logged %s, want %s", path, first, want)
		}
		v, err := p.Service.Subscription(ctx, system, subs[path])
		if err != nil {
			t.Fatal(err)
		}
		if want.ok {
			if v.Queued != 0 || v.Failures != 0 || v.LastOK.IsZero() {
				t.Errorf("%s: %d queued, %d failures, last ok %v", path, v.Queued, v.Failures, v.LastOK)
			}
			continue
		}
		if v.Queued != 2 || v.Failures != 1 || v.FailingSince.Before(start.Add(-time.Second)) || !v.LastOK.IsZero() || v.State != webhook.Active {
			t.Errorf("%s: %d queued, %d failures since %v, last ok %v, %s", path, v.Queued, v.Failures, v.FailingSince, v.LastOK, v.State)
		}
		items, err := p.DB.Outbox(ctx, subs[path], time.Now())
		if err != nil || len(items) != 2 {
			t.Fatalf("%s: outbox %+v %v", path, items, err)
		}
		if first := items[0]; first.Attempts != 1 || first.Leased || first.NextAt.Before(start.Add(50*time.Minute)) {
			t.Errorf("%s: the failed event %+v, want one attempt and its retry in an hour", path, first)
		}
		if second := items[1]; second.Attempts != 0 {
			t.Errorf("%s: the held-back event %+v was attempted", path, second)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["/ok"] != 2 || hits["/fail"] != 1 || hits["/slow"] != 1 {
		t.Errorf("receiver hits %v", hits)
	}
}

// TestSubscriptionQueuedCap: a paused subscription's queue is shown up to
// service.QueuedCap events, and past it as "more than that", without
// counting the rest.
func TestSubscriptionQueuedCap(t *testing.T) {
	ctx := context.Background()
	p := demoNode(t)
	system := cases.Actor{Role: cases.RoleSystem, Name: "测试"}
	_, v, err := p.Service.CreateSubscription(ctx, system, webhook.Input{Name: "积压", URL: "http://127.0.0.1:1/hook",
		Events: []string{webhook.All}, RegionCode: "500103"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Service.SetSubscriptionState(ctx, system, v.ID, webhook.Paused); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if err := p.DB.Write(ctx, func(tx *store.Tx) error {
		for i := range service.QueuedCap + 1 {
			if err := tx.PutHookEvent(ctx, store.HookEvent{CaseID: fmt.Sprintf("c%05d", i), Seq: 1, EventID: fmt.Sprintf("e%05d", i), QueuedAt: at,
				Body: []byte(`{}`), Facts: webhook.Facts{Kind: "report", Source: "patrol", RegionPath: "/500000/500103/"}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		queued int
		more   bool
	}{{service.QueuedCap, true}, {service.QueuedCap, false}, {service.QueuedCap - 1, false}} {
		got, err := p.Service.Subscription(ctx, system, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Queued != want.queued || got.QueuedMore != want.more {
			t.Errorf("queued %d (more: %v), want %d (more: %v)", got.Queued, got.QueuedMore, want.queued, want.more)
		}
		if err := p.DB.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM webhook_events WHERE case_id = (SELECT MIN(case_id) FROM webhook_events)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}
