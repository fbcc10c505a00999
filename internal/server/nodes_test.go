package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/store"
	"zhizhi/internal/store/storetest"
)

// sse opens the event stream of base as the token's account and returns the
// IDs of the cases it hears about, in order.
func sse(t *testing.T, base, token string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %v %v", resp, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != ": connected" {
	}
	out := make(chan string, 4096)
	go func() {
		defer close(out)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var e struct {
					CaseID string `json:"case_id"`
				}
				if json.Unmarshal([]byte(data), &e) == nil && e.CaseID != "" {
					select {
					case out <- e.CaseID:
					default:
					}
				}
			}
		}
	}()
	return out
}

// waitLive reads the stream until it names the case; a closed stream fails.
func waitLive(t *testing.T, live <-chan string, caseID string) {
	t.Helper()
	for id := range live {
		if id == caseID {
			return
		}
	}
	t.Fatalf("event stream closed before case %s arrived", caseID)
}

// TestTwoNodesOnPostgres runs two real zhizhi processes on one PostgreSQL
// database: reports and actions go through both, a browser stream on node B
// sees a report made through node A, node A is killed with SIGKILL in the
// middle, and afterwards every acknowledged report and action is there, no
// clock warning was recorded twice, and node B carries on.
func TestTwoNodesOnPostgres(t *testing.T) {
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
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	// Node A loads the demo; node B starts on the loaded database.
	a := startNode(t, bin, filepath.Join(dir, "a.log"), "demo", "-db", dsn, "-data", dir, "-photos", photos, "-addr", addrA, "-cases", "80", "-sweep", "100ms")
	waitHealthy(t, client, baseA, a)
	b := startNode(t, bin, filepath.Join(dir, "b.log"), "serve", "-db", dsn, "-data", dir, "-photos", photos, "-addr", addrB, "-sweep", "100ms")
	waitHealthy(t, client, baseB, b)

	worker := map[string]string{baseA: signIn(t, client, baseA, "zhouchunyan"), baseB: signIn(t, client, baseB, "zhouchunyan")}
	commander := map[string]string{baseA: signIn(t, client, baseA, "syl_zhihui"), baseB: signIn(t, client, baseB, "syl_zhihui")}
	other := map[string]string{baseA: baseB, baseB: baseA}
	live := sse(t, baseB, commander[baseB])

	var me store.Account
	if st, err := call(client, "GET", baseA+"/api/v1/me", worker[baseA], nil, &me); err != nil || st != http.StatusOK {
		t.Fatalf("GET /me: %d %v", st, err)
	}
	parts := strings.Split(strings.Trim(me.RegionPath, "/"), "/")
	var grid store.RegionRecord
	if st, err := call(client, "GET", baseA+"/api/v1/regions/"+parts[len(parts)-1], worker[baseA], nil, &grid); err != nil || st != http.StatusOK {
		t.Fatalf("GET grid: %d %v", st, err)
	}
	pt, inside := pointInside(grid.Shape)
	report := func(base, desc string) (string, int, error) {
		r := map[string]any{"source": "patrol", "category": "MS03", "address": "新影村社区巡查点", "description": desc}
		if inside {
			r["point"] = geo.Point{Lng: pt.Lng, Lat: pt.Lat}
		}
		var out struct {
			ID string `json:"id"`
		}
		st, err := call(client, "POST", base+"/api/v1/cases", worker[base], r, &out)
		return out.ID, st, err
	}

	// A report through A reaches the stream on B.
	first, st, err := report(baseA, "跨节点实时推送")
	if err != nil || st != http.StatusCreated {
		t.Fatalf("report through A: %d %v", st, err)
	}
	waitLive(t, live, first)

	// Clocks falling due while both nodes sweep: twenty reports left
	// unaccepted get their accept clock's yellow warning due now, so both
	// sweepers race for them (each must be recorded once, below).
	var due []string
	for i := range 20 {
		id, st, err := report(baseA, fmt.Sprintf("到期提醒测试 #%d", i))
		if err != nil || st != http.StatusCreated {
			t.Fatalf("report for the clocks: %d %v", st, err)
		}
		due = append(due, id)
	}
	{
		db, err := store.Open(context.Background(), dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UnixMilli()
		res, err := db.Raw().ExecContext(context.Background(), `UPDATE clocks SET yellow_at = $1, next_at = $1 WHERE key = 'case:accept' AND yellow_fired = 0 AND case_id = ANY($2)`, now, due)
		db.Close()
		if n, _ := res.RowsAffected(); err != nil || n != int64(len(due)) {
			t.Fatalf("make %d clocks due: %d rows, %v", len(due), n, err)
		}
	}

	// Load through both nodes: reports, and the commander accepting each
	// report through the other node.
	type ack struct{ id, desc string }
	var (
		mu        sync.Mutex
		reports   []ack
		accepted  []string
		ackedBy   = map[string]int{}
		afterKill int
		killed    bool
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	enough := make(chan struct{})
	var enoughOnce sync.Once
	for _, base := range []string{baseA, baseB} {
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					desc := fmt.Sprintf("双节点测试 %s w%d #%d", base[len(base)-5:], w, i)
					id, st, err := report(base, desc)
					if err != nil {
						mu.Lock()
						k := killed
						mu.Unlock()
						if k && base == baseA {
							return // node A is gone
						}
						continue
					}
					if st != http.StatusCreated {
						t.Errorf("report through %s: status %d", base, st)
						continue
					}
					var act struct{}
					ast, aerr := call(client, "POST", other[base]+"/api/v1/cases/"+id+"/actions", commander[other[base]], map[string]any{"action": "accept"}, &act)
					mu.Lock()
					reports = append(reports, ack{id, desc})
					if aerr == nil && ast == http.StatusOK {
						accepted = append(accepted, id)
					} else if aerr == nil && !killed {
						t.Errorf("accept %s through %s: status %d", id, other[base], ast)
					}
					ackedBy[base]++
					if killed && base == baseB {
						afterKill++
						if afterKill == 40 {
							enoughOnce.Do(func() { close(enough) })
						}
					}
					mu.Unlock()
				}
			}()
		}
	}
	// Kill A once both nodes have acknowledged some work.
	for {
		mu.Lock()
		ready := ackedBy[baseA] >= 40 && ackedBy[baseB] >= 40
		mu.Unlock()
		if ready {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	killed = true
	mu.Unlock()
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.done
	<-enough // B acknowledged 40 more reports alone
	close(stop)
	wg.Wait()

	// Everything acknowledged is there, read through the survivor.
	mu.Lock()
	defer mu.Unlock()
	acceptedSet := map[string]bool{}
	for _, id := range accepted {
		acceptedSet[id] = true
	}
	lost := 0
	for _, r := range reports {
		var out struct {
			Case struct {
				Description string `json:"description"`
			} `json:"case"`
			Steps []struct {
				Action string `json:"action"`
			} `json:"steps"`
		}
		st, err := call(client, "GET", baseB+"/api/v1/cases/"+r.id, commander[baseB], nil, &out)
		if err != nil || st != http.StatusOK || out.Case.Description != r.desc {
			if lost++; lost <= 5 {
				t.Errorf("acknowledged report %s (%s): status %d, err %v, description %q", r.id, r.desc, st, err, out.Case.Description)
			}
			continue
		}
		if acceptedSet[r.id] {
			found := false
			for _, s := range out.Steps {
				found = found || s.Action == "accept"
			}
			if !found {
				t.Errorf("acknowledged accept of %s missing from its timeline", r.id)
			}
		}
	}
	t.Logf("reports acknowledged: %d through A, %d through B (%d after A was killed); %d accepts acknowledged; %d lost",
		ackedBy[baseA], ackedBy[baseB], afterKill, len(accepted), lost)

	// No clock warning was recorded twice.
	db, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	total, dups := allWarnings(t, db)
	t.Logf("clock warnings recorded: %d", total)
	if len(dups) > 0 {
		t.Errorf("clock warnings recorded more than once: %v", dups)
	}
	// The warnings made due did fire: each case has its yellow warning.
	for _, id := range due {
		steps, err := db.Steps(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, st := range steps {
			if st.Action == cases.ActWarn {
				n++
			}
		}
		if n != 1 {
			t.Errorf("case %s: %d clock warnings, want exactly 1", id, n)
		}
	}

	// The survivor carries on: a new report is acknowledged and streamed.
	last, st, err := report(baseB, "节点A宕机后的新上报")
	if err != nil || st != http.StatusCreated {
		t.Fatalf("report through B after the kill: %d %v", st, err)
	}
	waitLive(t, live, last)
}
