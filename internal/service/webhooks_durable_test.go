package service_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/webhook"
)

// TestWebhookWaitsForDurable: on SQLite a committed batch is visible to
// readers a few milliseconds before its log is synced (store.DB.Durable).
// With the node's log syncer held, a case change commits (its event is
// readable) but is not durable; the delivery loop, woken as by an earlier
// commit's wake-up, reads the event and must not send it: the receiver
// hears nothing while the sync is held, and hears the event once it is
// released. SQLite only (PostgreSQL's commits are durable when they
// return).
func TestWebhookWaitsForDurable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := openNode(t, filepath.Join(dir, "zhizhi.db"), dir)
	t.Cleanup(func() { p.Close(context.Background()) })
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	heard := map[string]int{} // event ID → deliveries
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		heard[r.Header.Get(webhook.HeaderEventID)]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	heardOf := func(eventID string) int {
		mu.Lock()
		defer mu.Unlock()
		return heard[eventID]
	}
	system := cases.Actor{Role: cases.RoleSystem, Name: "测试"}
	if _, _, err := p.Service.CreateSubscription(ctx, system, webhook.Input{Name: "落盘", URL: rcv.URL,
		Events: []string{webhook.All}, RegionCode: "500103"}); err != nil {
		t.Fatal(err)
	}
	gw, pt := gridWorker(t, p.DB)
	report := func(desc string) (cases.Case, error) {
		return p.Service.Report(ctx, p.Service.ActorOf(gw), cases.Report{Source: cases.SourcePatrol, Category: "MS03",
			Description: desc, Point: &geo.Point{Lng: pt.Lng, Lat: pt.Lat}})
	}
	events := func() []store.CursorEvent {
		evs, err := p.DB.HookEventsAfter(ctx, store.HookCursor{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}

	// The loop polls once, at its start (it takes the subscription then),
	// and renews the lease then; after that only a wake-up makes it read.
	defer runHooks(service.WebhookSettings{Poll: time.Hour, Lease: 2 * time.Hour, Purge: time.Hour,
		Budget: webhook.Budget{Rate: -1}}, p.Service)()

	// A first event is sent and recorded; a wake-up then makes the loop
	// purge it (its one purge within the hour), so that the loop writes
	// nothing when it next reads.
	if _, err := report("落盘测试：先发的事件"); err != nil {
		t.Fatal(err)
	}
	first := events()
	if len(first) != 1 {
		t.Fatalf("%d events queued, want 1", len(first))
	}
	waitFor(t, "the first event sent and recorded", func() bool {
		return heardOf(first[0].EventID) == 1 && p.Service.WebhookBatches() == 1
	})
	waitFor(t, "the first event purged", func() bool {
		service.WakeHooks(p.Service)
		return len(events()) == 0
	})
	if err := p.DB.Durable(ctx); err != nil { // the purge's answer is out
		t.Fatal(err)
	}

	release, ok := p.DB.HoldLogSync()
	if !ok {
		t.Fatal("no log syncer on SQLite")
	}
	defer release()
	reported := make(chan error, 1)
	go func() {
		_, err := report("落盘测试：未落盘的事件")
		reported <- err
	}()
	var ev store.CursorEvent
	waitFor(t, "the second event committed", func() bool {
		evs := events()
		if len(evs) > 0 {
			ev = evs[0]
		}
		return len(evs) > 0
	})
	service.WakeHooks(p.Service) // as an earlier commit's wake-up would
	select {
	case err := <-reported:
		t.Fatalf("the report was answered (%v) before its log was synced", err)
	case <-time.After(500 * time.Millisecond):
	}
	if n := heardOf(ev.EventID); n != 0 {
		t.Fatalf("the receiver heard the event %d times before its commit was durable", n)
	}

	release()
	if err := <-reported; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the event sent once durable", func() bool { return heardOf(ev.EventID) == 1 })
}
