package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/webhook"
)

// TestWebhookSharedReads: subscriptions whose cursors are at one place
// share one read of the events after it (RunWebhooks' round): four
// subscriptions of every event and one of accepts only, created before
// the events, read them once between them at first — fewer reads than
// recorded batches, which a read per subscription would make equal —
// and each still gets exactly the events it takes, each once, in order
// per case. SQLite, or PostgreSQL with ZHIZHI_TEST_POSTGRES.
func TestWebhookSharedReads(t *testing.T) {
	ctx := context.Background()
	p := demoNode(t)
	rcv := newStepsReceiver(t)
	system := cases.Actor{Role: cases.RoleSystem, Name: "测试"}
	paths := []string{"/a", "/b", "/c", "/d", "/accepts"}
	for _, path := range paths {
		events := []string{webhook.All}
		if path == "/accepts" {
			events = []string{"accept"}
		}
		if _, _, err := p.Service.CreateSubscription(ctx, system, webhook.Input{Name: "共享" + path, URL: rcv.URL + path,
			Events: events, RegionCode: "500103"}); err != nil {
			t.Fatal(err)
		}
	}
	const n = 20
	ids := reportAccept(t, []*service.Service{p.Service}, p.DB, n, "共享") // 40 events
	defer runHooks(service.WebhookSettings{Poll: 50 * time.Millisecond, Batch: 15}, p.Service)()
	want := 4*2*n + n
	waitFor(t, "every event delivered", func() bool { return rcv.count("") >= want })
	time.Sleep(200 * time.Millisecond) // nothing more comes
	if c := rcv.count(""); c != want {
		t.Errorf("%d deliveries, want %d", c, want)
	}
	for _, path := range paths {
		for _, id := range ids {
			s := rcv.steps(path, id)
			if path == "/accepts" && (len(s) != 1 || s[0] != 2) || path != "/accepts" && (len(s) != 2 || s[0] != 1 || s[1] != 2) {
				t.Errorf("%s, case %s: steps received %v", path, id, s)
			}
		}
	}
	waitFor(t, "the batches recorded", func() bool { return p.Service.WebhookBatches() >= int64(len(paths)*3) }) // 40 events, batches of 15
	if reads, batches := p.Service.WebhookReads(), p.Service.WebhookBatches(); reads >= batches {
		t.Errorf("%d reads for %d batches: the subscriptions at one cursor did not share a read", reads, batches)
	}
}

// TestWebhookWindowDrifted: subscriptions whose cursors have drifted apart
// take the events one of them read (the loop's window, hookwindow.go)
// instead of reading them again. One subscription is paused while the
// other is sent the first 20 events; resumed, it is 20 events behind
// when 10 more come. The loop then reads once, after the cursor further
// behind, and the other takes its 10 from that read: one read for the two
// batches, where a read each would make two. Each subscription still gets
// every event once, in order per case. SQLite, or PostgreSQL with
// ZHIZHI_TEST_POSTGRES.
func TestWebhookWindowDrifted(t *testing.T) {
	ctx := context.Background()
	p := demoNode(t)
	rcv := newStepsReceiver(t)
	system := cases.Actor{Role: cases.RoleSystem, Name: "测试"}
	subs := map[string]string{}
	for _, path := range []string{"/behind", "/ahead"} {
		_, sub, err := p.Service.CreateSubscription(ctx, system, webhook.Input{Name: "漂移" + path, URL: rcv.URL + path,
			Events: []string{webhook.All}, RegionCode: "500103"})
		if err != nil {
			t.Fatal(err)
		}
		subs[path] = sub.ID
	}
	if _, err := p.Service.SetSubscriptionState(ctx, system, subs["/behind"], webhook.Paused); err != nil {
		t.Fatal(err)
	}
	run := func(until func() bool) {
		t.Helper()
		stop := runHooks(service.WebhookSettings{Poll: 50 * time.Millisecond, Batch: 100}, p.Service)
		waitFor(t, "the deliveries", until)
		time.Sleep(200 * time.Millisecond) // nothing more comes, the batches recorded
		stop()
	}
	ids := reportAccept(t, []*service.Service{p.Service}, p.DB, 10, "漂移前") // 20 events
	run(func() bool { return rcv.count("/ahead") >= 20 })
	if _, err := p.Service.SetSubscriptionState(ctx, system, subs["/behind"], webhook.Active); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, reportAccept(t, []*service.Service{p.Service}, p.DB, 5, "漂移后")...) // 10 more
	reads, batches := p.Service.WebhookReads(), p.Service.WebhookBatches()
	run(func() bool { return rcv.count("/behind") >= 30 && rcv.count("/ahead") >= 30 })
	if r, b := p.Service.WebhookReads()-reads, p.Service.WebhookBatches()-batches; r != 1 || b < 2 {
		t.Errorf("%d reads for %d batches of the two subscriptions at different cursors, want 1 read", r, b)
	}
	for _, path := range []string{"/behind", "/ahead"} {
		for _, id := range ids {
			if s := rcv.steps(path, id); len(s) != 2 || s[0] != 1 || s[1] != 2 {
				t.Errorf("%s, case %s: steps received %v", path, id, s)
			}
		}
	}
}

// stepsReceiver acknowledges every delivery (204) and records, by path and
// case, the steps it was sent, in the order received.
type stepsReceiver struct {
	URL string
	mu  sync.Mutex
	got map[string]map[string][]int // path → case → steps
}

func newStepsReceiver(t *testing.T) *stepsReceiver {
	t.Helper()
	r := &stepsReceiver{got: map[string]map[string][]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var e webhook.Event
		body, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("body: %v", err)
		}
		r.mu.Lock()
		if r.got[req.URL.Path] == nil {
			r.got[req.URL.Path] = map[string][]int{}
		}
		r.got[req.URL.Path][e.Case.ID] = append(r.got[req.URL.Path][e.Case.ID], e.Step.Seq)
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// count is how many deliveries the path received ("": all paths).
func (r *stepsReceiver) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := 0
	for p, byCase := range r.got {
		if path == "" || p == path {
			for _, s := range byCase {
				c += len(s)
			}
		}
	}
	return c
}

// steps are the steps of the case the path received, in order.
func (r *stepsReceiver) steps(path, caseID string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got[path][caseID])
}
