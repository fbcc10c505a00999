package server_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/geo"
	"zhizhi/internal/store"
	"zhizhi/internal/store/storetest"
)

// TestWebhooksKilledNode runs one real node (SQLite, or PostgreSQL with
// ZHIZHI_TEST_POSTGRES) with a subscription to a local receiver and kills
// it with SIGKILL while its cursor batches are being delivered; started
// again on the same database it takes the subscription again (its lease
// runs out) and delivers from the cursor: every event arrives, none is
// invented, each case's events arrive in order (after the receiver drops
// the IDs it has already processed: the events delivered but not yet
// recorded when the node died are sent again).
func TestWebhooksKilledNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	dsn, drop, err := storetest.DSN(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	bin := buildZhizhi(t, dir)
	photos := filepath.Join(dir, "photos")
	addr := freeAddr(t)
	base := "http://" + addr
	client := &http.Client{Timeout: 10 * time.Second}
	hookArgs := []string{"-webhook-timeout", "1s", "-webhook-lease", "3s"}
	n := startNode(t, bin, filepath.Join(dir, "a.log"), append([]string{"demo", "-db", dsn, "-data", dir, "-photos", photos, "-addr", addr, "-cases", "20"}, hookArgs...)...)
	waitHealthy(t, client, base, n)

	const secret = "killed-node-secret-0123"
	sink := newHookSink(t, secret)
	admin := signIn(t, client, base, "admin")
	if st, err := call(client, "POST", base+"/api/v1/webhooks", admin, map[string]any{"name": "崩溃测试", "url": sink.srv.URL,
		"events": []string{"report", "accept"}, "region_code": "500103", "secret": secret}, nil); err != nil || st != http.StatusCreated {
		t.Fatalf("subscribe: %d %v", st, err)
	}
	var me store.Account
	worker, commander := signIn(t, client, base, "zhouchunyan"), signIn(t, client, base, "syl_zhihui")
	call(client, "GET", base+"/api/v1/me", worker, nil, &me)
	parts := strings.Split(strings.Trim(me.RegionPath, "/"), "/")
	var grid store.RegionRecord
	call(client, "GET", base+"/api/v1/regions/"+parts[len(parts)-1], worker, nil, &grid)
	pt, inside := pointInside(grid.Shape)
	report := func(count int, tag string) []string {
		var ids []string
		for i := range count {
			r := map[string]any{"source": "patrol", "category": "MS03", "address": "新影村社区巡查点", "description": fmt.Sprintf("崩溃测试 %s #%d", tag, i)}
			if inside {
				r["point"] = geo.Point{Lng: pt.Lng, Lat: pt.Lat}
			}
			var out struct {
				ID string `json:"id"`
			}
			if st, err := call(client, "POST", base+"/api/v1/cases", worker, r, &out); err != nil || st != http.StatusCreated {
				t.Fatalf("report: %d %v", st, err)
			}
			if st, err := call(client, "POST", base+"/api/v1/cases/"+out.ID+"/actions", commander, map[string]any{"action": "accept"}, nil); err != nil || st != http.StatusOK {
				t.Fatalf("accept: %d %v", st, err)
			}
			ids = append(ids, out.ID)
		}
		return ids
	}
	ids := report(60, "崩溃前")
	// Killed once some of the events have arrived, not all.
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		sink.mu.Lock()
		got := len(sink.events)
		sink.mu.Unlock()
		if got > 0 || time.Now().After(end) {
			break
		}
	}
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-n.done
	sink.mu.Lock()
	atKill := len(sink.events)
	sink.mu.Unlock()
	n = startNode(t, bin, filepath.Join(dir, "b.log"), append([]string{"serve", "-db", dsn, "-data", dir, "-photos", photos, "-addr", addr}, hookArgs...)...)
	waitHealthy(t, client, base, n)
	worker, commander = signIn(t, client, base, "zhouchunyan"), signIn(t, client, base, "syl_zhihui")
	ids = append(ids, report(10, "重启后")...)
	for end := time.Now().Add(60 * time.Second); !sink.has(ids, 2); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("events not all delivered within a minute\n%s", tail(n.output()))
		}
	}

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
	// In order per case as a receiver sees it: dropping the IDs it has
	// already processed (an event sent again after the crash repeats the
	// batch that was delivered but not yet recorded), each case's events
	// arrive in order.
	for _, id := range ids {
		var first []int
		seen := map[int]bool{}
		for _, q := range sink.seqs[id] {
			if !seen[q] {
				seen[q] = true
				first = append(first, q)
			}
		}
		for i := 1; i < len(first); i++ {
			if first[i] < first[i-1] {
				t.Errorf("case %s: events out of order %v", id, sink.seqs[id])
			}
		}
	}
	t.Logf("%d events, %d had arrived when the node was killed, %d delivered again after the crash", len(sink.events), atKill, dups)
}
