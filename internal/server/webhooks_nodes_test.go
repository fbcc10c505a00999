package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/geo"
	"zhizhi/internal/store"
	"zhizhi/internal/store/storetest"
	"zhizhi/internal/webhook"
)

// hookSink is a receiver in the test process: it checks signatures and
// keeps, per case, the step numbers in the order they arrived.
type hookSink struct {
	mu     sync.Mutex
	count  map[string]int    // event ID → deliveries acknowledged
	seqs   map[string][]int  // case ID → seqs as they arrived
	events map[string][2]any // event ID → case ID, seq
	bad    []string
	srv    *httptest.Server
}

func newHookSink(t *testing.T, secret string) *hookSink {
	h := &hookSink{count: map[string]int{}, seqs: map[string][]int{}, events: map[string][2]any{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		time.Sleep(5 * time.Millisecond) // deliveries stay in flight for a moment
		var e webhook.Event
		err := json.Unmarshal(body, &e)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err != nil || !webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute) {
			h.bad = append(h.bad, string(body))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.count[e.ID]++
		h.seqs[e.Case.ID] = append(h.seqs[e.Case.ID], e.Step.Seq)
		h.events[e.ID] = [2]any{e.Case.ID, e.Step.Seq}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// has reports whether every case got seqs 1..n.
func (h *hookSink) has(ids []string, n int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		seen := map[int]bool{}
		for _, s := range h.seqs[id] {
			seen[s] = true
		}
		if len(seen) < n {
			return false
		}
	}
	return true
}

// TestWebhooksTwoNodesOnPostgres runs two real nodes on one PostgreSQL
// database with a subscription to a local receiver: while the receiver
// answers 2xx no event is delivered twice, every event arrives and each
// case's events arrive in order. Then one node is killed with SIGKILL in
// the middle of deliveries and started again: every event is delivered
// (at least once), none is invented, the order per case holds.
func TestWebhooksTwoNodesOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if !storetest.Postgres() {
		t.Skip(storetest.Env + " not set")
	}
	dsn, drop, err := storetest.DSN("")
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	dir := t.TempDir()
	bin := buildZhizhi(t, dir)
	photos := filepath.Join(dir, "photos")
	addrA, addrB := freeAddr(t), freeAddr(t)
	baseA, baseB := "http://"+addrA, "http://"+addrB
	client := &http.Client{Timeout: 10 * time.Second}
	hookArgs := []string{"-webhook-timeout", "2s", "-webhook-lease", "5s"}
	a := startNode(t, bin, filepath.Join(dir, "a.log"), append([]string{"demo", "-db", dsn, "-data", dir, "-photos", photos, "-addr", addrA, "-cases", "20"}, hookArgs...)...)
	waitHealthy(t, client, baseA, a)
	bArgs := append([]string{"serve", "-db", dsn, "-data", dir, "-photos", photos, "-addr", addrB}, hookArgs...)
	b := startNode(t, bin, filepath.Join(dir, "b.log"), bArgs...)
	waitHealthy(t, client, baseB, b)

	const secret = "nodes-secret-0123456789"
	sink := newHookSink(t, secret)
	admin := signIn(t, client, baseA, "admin")
	if st, err := call(client, "POST", baseA+"/api/v1/webhooks", admin, map[string]any{"name": "两节点测试", "url": sink.srv.URL,
		"events": []string{"report", "accept"}, "region_code": "500103", "secret": secret}, nil); err != nil || st != http.StatusCreated {
		t.Fatalf("subscribe: %d %v", st, err)
	}
	time.Sleep(300 * time.Millisecond) // node B reloads its subscriptions on the notice

	worker := map[string]string{baseA: signIn(t, client, baseA, "zhouchunyan"), baseB: signIn(t, client, baseB, "zhouchunyan")}
	commander := map[string]string{baseA: signIn(t, client, baseA, "syl_zhihui"), baseB: signIn(t, client, baseB, "syl_zhihui")}
	var me store.Account
	call(client, "GET", baseA+"/api/v1/me", worker[baseA], nil, &me)
	parts := strings.Split(strings.Trim(me.RegionPath, "/"), "/")
	var grid store.RegionRecord
	call(client, "GET", baseA+"/api/v1/regions/"+parts[len(parts)-1], worker[baseA], nil, &grid)
	pt, inside := pointInside(grid.Shape)
	loop := func(bases []string, n int, tag string) []string {
		var ids []string
		for i := range n {
			base := bases[i%len(bases)]
			r := map[string]any{"source": "patrol", "category": "MS03", "address": "新影村社区巡查点", "description": fmt.Sprintf("推送测试 %s #%d", tag, i)}
			if inside {
				r["point"] = geo.Point{Lng: pt.Lng, Lat: pt.Lat}
			}
			var out struct {
				ID string `json:"id"`
			}
			if st, err := call(client, "POST", base+"/api/v1/cases", worker[base], r, &out); err != nil || st != http.StatusCreated {
				t.Fatalf("report: %d %v", st, err)
			}
			other := bases[(i+1)%len(bases)]
			if st, err := call(client, "POST", other+"/api/v1/cases/"+out.ID+"/actions", commander[other], map[string]any{"action": "accept"}, nil); err != nil || st != http.StatusOK {
				t.Fatalf("accept: %d %v", st, err)
			}
			ids = append(ids, out.ID)
		}
		return ids
	}
	wait := func(ids []string) {
		t.Helper()
		for end := time.Now().Add(60 * time.Second); !sink.has(ids, 2); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("events not all delivered within a minute\nA:\n%s\nB:\n%s", tail(a.output()), tail(b.output()))
			}
		}
	}

	// Both nodes deliver; the receiver always answers 200.
	first := loop([]string{baseA, baseB}, 40, "两节点")
	wait(first)
	sink.mu.Lock()
	for _, id := range first {
		if s := sink.seqs[id]; len(s) != 2 || s[0] != 1 || s[1] != 2 {
			t.Errorf("case %s: seqs %v, want [1 2] once each", id, s)
		}
	}
	sink.mu.Unlock()

	// The node holding the subscription (its log says it took it) is
	// killed in the middle of deliveries and started again; the other
	// takes the subscription when the lease runs out.
	victim, survivor, vBase, sBase, vAddr := b, a, baseB, baseA, addrB
	if strings.Contains(a.output(), "webhooks: took subscriptions") {
		victim, survivor, vBase, sBase, vAddr = a, b, baseA, baseB, addrA
	}
	second := loop([]string{baseA, baseB}, 30, "崩溃前")
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	second = append(second, loop([]string{sBase}, 10, "崩溃中")...)
	// While the victim is down only the survivor can take the subscription
	// (once the victim's lease runs out): everything so far is delivered
	// before the victim starts again, which could otherwise take it back.
	wait(second)
	if !strings.Contains(survivor.output(), "webhooks: took subscriptions") {
		t.Errorf("the surviving node never took the subscription\n%s", tail(survivor.output()))
	}
	victim = startNode(t, bin, filepath.Join(dir, "restart.log"), append([]string{"serve", "-db", dsn, "-data", dir, "-photos", photos, "-addr", vAddr}, hookArgs...)...)
	waitHealthy(t, client, vBase, victim)
	if vBase == baseA {
		a = victim
	} else {
		b = victim
	}
	second = append(second, loop([]string{baseA, baseB}, 10, "重启后")...)
	wait(second)

	// None invented: every event received is a stored step of its case.
	db, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, s := range sink.bad {
		t.Errorf("bad delivery: %s", s)
	}
	dups := 0
	for evID, where := range sink.events {
		step, err := db.Step(context.Background(), where[0].(string), where[1].(int))
		if err != nil || step.ID != evID {
			t.Errorf("event %s (%v): no such step (%v)", evID, where, err)
		}
		dups += sink.count[evID] - 1
	}
	// In order per case as a receiver sees it, dropping the IDs it has
	// already processed (after the crash the events delivered but not yet
	// recorded are sent again).
	for _, id := range append(first, second...) {
		var arrived []int
		seen := map[int]bool{}
		for _, q := range sink.seqs[id] {
			if !seen[q] {
				seen[q] = true
				arrived = append(arrived, q)
			}
		}
		for i := 1; i < len(arrived); i++ {
			if arrived[i] < arrived[i-1] {
				t.Errorf("case %s: events out of order %v", id, sink.seqs[id])
			}
		}
	}
	t.Logf("%d events, %d delivered again after the crash", len(sink.events), dups)
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}
