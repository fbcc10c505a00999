package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
	"zhizhi/internal/store/storetest"
	"zhizhi/internal/webhook"
)

// fanSink is a receiver standing in for several subscribers (one path
// each): it checks each delivery's signature with the path's secret and
// keeps, per path, how often each event arrived and each case's steps in
// the order they arrived.
type fanSink struct {
	mu      sync.Mutex
	secrets map[string]string         // path → secret
	count   map[string]map[string]int // path → event ID → deliveries
	seqs    map[string]map[string][]int
	bad     []string
	srv     *httptest.Server
}

func newFanSink(t *testing.T) *fanSink {
	h := &fanSink{secrets: map[string]string{}, count: map[string]map[string]int{}, seqs: map[string]map[string][]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var e webhook.Event
		err := json.Unmarshal(body, &e)
		h.mu.Lock()
		defer h.mu.Unlock()
		secret, ok := h.secrets[r.URL.Path]
		if err != nil || !ok || !webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute) ||
			r.Header.Get(webhook.HeaderIdem) != e.ID {
			h.bad = append(h.bad, r.URL.Path+" "+string(body))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if h.count[r.URL.Path] == nil {
			h.count[r.URL.Path], h.seqs[r.URL.Path] = map[string]int{}, map[string][]int{}
		}
		h.count[r.URL.Path][e.ID]++
		h.seqs[r.URL.Path][e.Case.ID] = append(h.seqs[r.URL.Path][e.Case.ID], e.Step.Seq)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// subscribe makes a subscription of the district for every event, to path.
func (h *fanSink) subscribe(t *testing.T, s *service.Service, path string) {
	t.Helper()
	secret := "fan-out-secret-" + strings.Trim(path, "/")
	h.mu.Lock()
	h.secrets[path] = secret
	h.mu.Unlock()
	if _, _, err := s.CreateSubscription(context.Background(), cases.Actor{Role: cases.RoleSystem, Name: "测试"},
		webhook.Input{Name: "扇出" + path, URL: h.srv.URL + path, Events: []string{webhook.All}, RegionCode: "500103", Secret: secret}); err != nil {
		t.Fatal(err)
	}
}

// delivered reports how many distinct events path received.
func (h *fanSink) delivered(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.count[path])
}

// check fails unless path received each of the cases' steps 1..n exactly
// once, in order, and nothing it should not have.
func (h *fanSink) check(t *testing.T, path string, ids []string, n int) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range h.bad {
		t.Errorf("bad delivery: %s", b)
	}
	for _, id := range ids {
		want := []int{}
		for i := 1; i <= n; i++ {
			want = append(want, i)
		}
		if got := h.seqs[path][id]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: case %s got steps %v, want %v", path, id, got, want)
		}
	}
	for ev, c := range h.count[path] {
		if c != 1 {
			t.Errorf("%s: event %s delivered %d times", path, ev, c)
		}
	}
}

// reportAccept reports n cases in a grid of the district through s and
// accepts each: two events per case.
func reportAccept(t *testing.T, ss []*service.Service, db *store.DB, n int, tag string) []string {
	t.Helper()
	ctx := context.Background()
	gw, pt := gridWorker(t, db)
	commander := cases.Actor{AccountID: "cmd", Name: "指挥长", Role: cases.RoleCommander, RegionPath: "/500000/500103/"}
	var ids []string
	for i := range n {
		s, other := ss[i%len(ss)], ss[(i+1)%len(ss)]
		c, err := s.Report(ctx, s.ActorOf(gw), cases.Report{Source: cases.SourcePatrol, Category: "MS03",
			Description: fmt.Sprintf("扇出测试 %s #%d", tag, i), Point: &geo.Point{Lng: pt.Lng, Lat: pt.Lat}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := other.Act(ctx, commander, c.ID, cases.Command{Action: cases.ActAccept}, 0); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	return ids
}

// runHooks runs the delivery loop of each service with cfg until the
// returned stop is called, which waits for every loop to end.
func runHooks(cfg service.WebhookSettings, ss ...*service.Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.RunWebhooks(ctx, cfg)
		}()
	}
	return func() { cancel(); wg.Wait() }
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(60 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("not within a minute: %s", what)
		}
	}
}

// TestWebhookCursorAfterRestart: with three subscriptions, a case change
// writes one event and no delivery; the node stops before any delivery (as
// a crash would stop it); a node started on the same database reads the
// events after each subscription's cursor, in small batches, and delivers
// each to each subscription exactly once, in order per case; a subscription created after the events were queued
// receives none of them, but the events after its creation. SQLite, or
// PostgreSQL with ZHIZHI_TEST_POSTGRES.
func TestWebhookCursorAfterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn, drop, err := storetest.DSN(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	a := openNode(t, dsn, dir)
	if err := demo.Load(ctx, a.Service, demo.Options{Cases: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	sink := newFanSink(t)
	for _, path := range []string{"/s1", "/s2", "/s3"} {
		sink.subscribe(t, a.Service, path)
	}
	const n = 12
	ids := reportAccept(t, []*service.Service{a.Service}, a.DB, n, "重启前")
	if events, queued, err := a.DB.HookBacklog(ctx); err != nil || events != 2*n || queued != 0 {
		t.Fatalf("after %d changes with 3 subscriptions: %d events, %d deliveries (%v); want one event per change", 2*n, events, queued, err)
	}
	a.Close(ctx)

	b := openNode(t, dsn, dir)
	t.Cleanup(func() { b.Close(context.Background()) })
	sink.subscribe(t, b.Service, "/later")
	defer runHooks(service.WebhookSettings{Batch: 5, Poll: 50 * time.Millisecond}, b.Service)()
	waitFor(t, "every event delivered", func() bool {
		return sink.delivered("/s1") == 2*n && sink.delivered("/s2") == 2*n && sink.delivered("/s3") == 2*n
	})
	more := reportAccept(t, []*service.Service{b.Service}, b.DB, 2, "重启后")
	waitFor(t, "the later events delivered", func() bool {
		return sink.delivered("/later") == 4 && sink.delivered("/s1") == 2*n+4 && sink.delivered("/s2") == 2*n+4 && sink.delivered("/s3") == 2*n+4
	})
	for _, path := range []string{"/s1", "/s2", "/s3"} {
		sink.check(t, path, append(ids, more...), 2)
	}
	sink.check(t, "/later", more, 2)
	waitFor(t, "the outbox empty (outcomes recorded)", func() bool {
		events, queued, err := b.DB.HookBacklog(ctx)
		return err == nil && events == 0 && queued == 0
	})
	// The loop counts a batch's attempts once its record has committed,
	// a moment after the backlog reads empty.
	want := int64(3*(2*n+4) + 4)
	waitFor(t, "the attempts counted", func() bool { sent, _ := b.Service.WebhookStats(); return sent >= want })
	time.Sleep(100 * time.Millisecond) // none counted twice
	if sent, failed := b.Service.WebhookStats(); sent != want || failed != 0 {
		t.Errorf("sent %d, %d failed; want %d sent", sent, failed, want)
	}
	if k := b.Service.WebhookBatches(); k < 3*(2*n)/5 {
		t.Errorf("%d batches recorded, want at least %d of 5 events", k, 3*(2*n)/5)
	}
	// Every cursor has passed every event: the purge leaves none.
	waitFor(t, "the events purged", func() bool {
		n, err := b.DB.HookEventsKept(ctx)
		return err == nil && n == 0
	})
}

// TestWebhookCursorTwoNodesOnPostgres: two nodes on one PostgreSQL database
// take reports and actions and run their delivery loops at once, reading
// in small batches: each subscription is held by one node at a time, so
// each receives each event exactly once (the nodes' acknowledged
// deliveries add up to the events times the subscriptions), in order per
// case.
func TestWebhookCursorTwoNodesOnPostgres(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip(storetest.Env + " not set")
	}
	ctx := context.Background()
	dsn, drop, err := storetest.DSN("")
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	a := openNode(t, dsn, t.TempDir())
	t.Cleanup(func() { a.Close(context.Background()) })
	if err := demo.Load(ctx, a.Service, demo.Options{Cases: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	sink := newFanSink(t)
	for _, path := range []string{"/s1", "/s2", "/s3"} {
		sink.subscribe(t, a.Service, path)
	}
	b := openNode(t, dsn, t.TempDir()) // reads the subscriptions at start
	t.Cleanup(func() { b.Close(context.Background()) })
	defer runHooks(service.WebhookSettings{Batch: 3, Poll: 20 * time.Millisecond}, a.Service, b.Service)()
	const n = 40
	ids := reportAccept(t, []*service.Service{a.Service, b.Service}, a.DB, n, "两节点")
	waitFor(t, "every event delivered", func() bool {
		return sink.delivered("/s1") == 2*n && sink.delivered("/s2") == 2*n && sink.delivered("/s3") == 2*n
	})
	for _, path := range []string{"/s1", "/s2", "/s3"} {
		sink.check(t, path, ids, 2)
	}
	waitFor(t, "the outcomes recorded", func() bool {
		sa, _ := a.Service.WebhookStats()
		sb, _ := b.Service.WebhookStats()
		return sa+sb >= 3*2*n
	})
	time.Sleep(200 * time.Millisecond)
	sa, _ := a.Service.WebhookStats()
	sb, _ := b.Service.WebhookStats()
	if sa+sb != 3*2*n {
		t.Errorf("nodes acknowledged %d + %d deliveries, want %d in all", sa, sb, 3*2*n)
	}
	t.Logf("delivered by node: A %d, B %d", sa, sb)
}
