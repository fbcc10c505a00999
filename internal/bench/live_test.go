package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
)

// TestLiveSSE measures live updates at scale (issue 18): N server-sent-event
// subscribers on one node — 80% case streams (/api/v1/events, the boards and
// case pages), 20% inbox streams (/api/v1/notifications/events, the bell) —
// signed in as accounts of every scope, while the service takes R case
// changes a second (reports at random points of the district, and the
// center accepting each a moment later). The subscribers run in a child
// process (this test binary again), so the node's memory per subscriber is
// its own. It reports the delay from a step's time (taken just before its
// write transaction, so the delay includes the commit) to its arrival at
// each subscriber in scope: p50, p99, max; and the node's heap and stack
// growth per subscriber.
//
//	ZHIZHI_BENCH_SSE=5000 go test ./internal/bench -run TestLiveSSE -v -timeout 20m
//
// ZHIZHI_SSE_RATE (default 100) and ZHIZHI_SSE_SECONDS (default 30) shape
// the load.
func TestLiveSSE(t *testing.T) {
	if os.Getenv("ZHIZHI_SSE_CHILD") != "" {
		sseClients(t)
		return
	}
	n, _ := strconv.Atoi(os.Getenv("ZHIZHI_BENCH_SSE"))
	if n <= 0 {
		t.Skip("ZHIZHI_BENCH_SSE=<subscribers> not set")
	}
	rate := envInt("ZHIZHI_SSE_RATE", 100)
	seconds := envInt("ZHIZHI_SSE_SECONDS", 30)
	e, err := newPlatform()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		e.p.Close(ctx)
		cancel()
		os.RemoveAll(e.dir)
	}()
	ctx := context.Background()
	users := []string{"qu_zhihui", "syl_zhihui", "jfb_zhihui", "zhouchunyan", "yangshipei", "xyc_wgz", "xyc_shuji", "wuzhonglan",
		"cg_staff", "yj_staff", "scjg_staff", "syl_ms_a", "leader", "xyc_jiezhang"}
	var toks []string
	for _, u := range users {
		body, _ := json.Marshal(map[string]string{"username": u, "password": demo.Password})
		resp, err := http.Post(e.base+"/api/v1/sessions", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if out.Token == "" {
			t.Fatalf("sign in %s: %d", u, resp.StatusCode)
		}
		toks = append(toks, out.Token)
	}
	before := nodeMemory()

	cmd := exec.Command(os.Args[0], "-test.run", "^TestLiveSSE$", "-test.v")
	cmd.Env = append(os.Environ(), "ZHIZHI_SSE_CHILD=1", "ZHIZHI_SSE_BASE="+e.p.Addr(), "ZHIZHI_SSE_N="+strconv.Itoa(n),
		"ZHIZHI_SSE_TOKENS="+strings.Join(toks, ","))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	wait := func(prefix string) string {
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("child ended before %s: %v", prefix, lines.Err())
		return ""
	}
	connectedLine := wait("CONNECTED")
	during := nodeMemory()
	t.Logf("%s; node: heap %+.1f MiB, stacks %+.1f MiB, %+d goroutines for %d subscribers",
		connectedLine, float64(during.heap-before.heap)/(1<<20), float64(during.stack-before.stack)/(1<<20), during.goroutines-before.goroutines, n)

	// The load: rate changes a second, half reports and half accepts.
	gw, err := e.p.DB.AccountByUsername(ctx, "zhouchunyan")
	if err != nil {
		t.Fatal(err)
	}
	reporter := e.p.Service.ActorOf(gw)
	commander := cases.Actor{AccountID: "bench-cmd", Name: "压测指挥长", Role: cases.RoleCommander, RegionPath: "/500000/500103/"}
	rnd := rand.New(rand.NewPCG(3, 4))
	tick := time.NewTicker(time.Second / time.Duration(rate))
	end := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	var changes, failed atomic.Int64
	var pending []string
	var mu sync.Mutex
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		if i%2 == 0 {
			pt := e.points[rnd.IntN(len(e.points))]
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := e.p.Service.Report(ctx, reporter, cases.Report{Source: cases.SourcePatrol, Category: "MS03", Description: "实时推送压测：小区门口垃圾堆放", Point: &pt})
				if err != nil {
					if failed.Add(1) == 1 {
						t.Logf("report: %v", err)
					}
					return
				}
				changes.Add(1)
				mu.Lock()
				pending = append(pending, c.ID)
				mu.Unlock()
			}()
			continue
		}
		mu.Lock()
		var id string
		if len(pending) > 0 {
			id, pending = pending[0], pending[1:]
		}
		mu.Unlock()
		if id == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := e.p.Service.Act(ctx, commander, id, cases.Command{Action: cases.ActAccept}, 0); err != nil {
				if failed.Add(1) == 1 {
					t.Logf("accept: %v", err)
				}
				return
			}
			changes.Add(1)
		}()
	}
	tick.Stop()
	wg.Wait()
	time.Sleep(3 * time.Second) // the last events reach every subscriber
	after := nodeMemory()
	stdin.Close()
	result := wait("RESULT")
	cmd.Wait()
	fmt.Printf("live SSE: %d subscribers, %d changes in %d s (%.0f/s, %d failed); %s\n",
		n, changes.Load(), seconds, float64(changes.Load())/float64(seconds), failed.Load(), strings.TrimPrefix(result, "RESULT "))
	fmt.Printf("live SSE: node memory per subscriber: heap %.1f KiB + stacks %.1f KiB (with load: heap %.1f KiB + stacks %.1f KiB); goroutines per subscriber %.2f\n",
		float64(during.heap-before.heap)/float64(n)/1024, float64(during.stack-before.stack)/float64(n)/1024,
		float64(after.heap-before.heap)/float64(n)/1024, float64(after.stack-before.stack)/float64(n)/1024,
		float64(during.goroutines-before.goroutines)/float64(n))
}

type memory struct {
	heap, stack uint64
	goroutines  int
}

// nodeMemory is this process's live heap and goroutine stacks after a GC.
func nodeMemory() memory {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memory{heap: m.HeapAlloc, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// sseClients is the child: it opens the subscribers, says CONNECTED, then
// records each case event's delay until its stdin closes, and prints RESULT.
func sseClients(t *testing.T) {
	base := os.Getenv("ZHIZHI_SSE_BASE")
	n, _ := strconv.Atoi(os.Getenv("ZHIZHI_SSE_N"))
	toks := strings.Split(os.Getenv("ZHIZHI_SSE_TOKENS"), ",")
	type sub struct {
		delays []time.Duration
		unread int
	}
	subs := make([]sub, n)
	var connected sync.WaitGroup
	var conns []net.Conn
	var connMu sync.Mutex
	var refused atomic.Int64
	start := time.Now()
	sem := make(chan struct{}, 64) // connect 64 at a time
	for i := range n {
		connected.Add(1)
		sem <- struct{}{}
		path := "/api/v1/events"
		if i%5 == 4 {
			path = "/api/v1/notifications/events"
		}
		tok := toks[i%len(toks)]
		go func() {
			c, err := net.Dial("tcp", base)
			if err != nil {
				refused.Add(1)
				connected.Done()
				<-sem
				return
			}
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n", path, base, tok)
			r := bufio.NewReaderSize(c, 2048)
			resp, err := http.ReadResponse(r, nil)
			if err != nil || resp.StatusCode != 200 {
				refused.Add(1)
				connected.Done()
				<-sem
				c.Close()
				return
			}
			connMu.Lock()
			conns = append(conns, c)
			connMu.Unlock()
			body := bufio.NewReaderSize(resp.Body, 2048)
			once := false
			var kind string
			for {
				line, err := body.ReadString('\n')
				if err != nil {
					if !once {
						connected.Done()
						<-sem
					}
					return
				}
				if !once && strings.HasPrefix(line, ": connected") {
					once = true
					connected.Done()
					<-sem
				}
				switch {
				case strings.HasPrefix(line, "event: "):
					kind = strings.TrimSpace(line[7:])
				case strings.HasPrefix(line, "data: ") && kind == "case":
					now := time.Now()
					if k := strings.Index(line, `"at":"`); k >= 0 {
						rest := line[k+6:]
						if q := strings.IndexByte(rest, '"'); q > 0 {
							if at, err := time.Parse(time.RFC3339Nano, rest[:q]); err == nil {
								subs[i].delays = append(subs[i].delays, now.Sub(at))
							}
						}
					}
				case strings.HasPrefix(line, "data: ") && kind == "unread":
					subs[i].unread++
				}
			}
		}()
	}
	connected.Wait()
	fmt.Printf("CONNECTED %d subscribers in %.1f s (%d refused)\n", n-int(refused.Load()), time.Since(start).Seconds(), refused.Load())
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
	connMu.Lock()
	for _, c := range conns {
		c.Close()
	}
	connMu.Unlock()
	time.Sleep(200 * time.Millisecond)
	var all []time.Duration
	reached, unread := 0, 0
	for _, s := range subs {
		all = append(all, s.delays...)
		if len(s.delays) > 0 {
			reached++
		}
		unread += s.unread
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	fmt.Printf("RESULT %d case events delivered to %d subscribers (commit to delivery: p50 %.1f ms, p99 %.1f ms, max %.1f ms); %d unread-count events\n",
		len(all), reached, pct(0.50), pct(0.99), pct(1), unread)
}
