package bench

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/webhook"
)

// BenchmarkIntakeWebhooks compares intake with and without webhook
// subscriptions in one process, in many short rounds taken in turn —
// without, with, without, with … — so that a shared machine's changing
// load (other work, the disk's fsyncs) falls on both alike. Each phase
// makes webhookPhase reports (the same clients as BenchmarkIntake's);
// a round's ratio is its intake with subscriptions over the mean of the
// phases without on either side of it. Four cases, one sub-benchmark
// each:
//
//   - fast10: ten subscriptions of the whole district to a local receiver
//     that acknowledges at once;
//   - paced10: the same ten to a receiver admitting pacedRate deliveries
//     a second (each answer waits for its turn);
//   - slow1: one subscription to a receiver that answers after
//     slowAnswer;
//   - fail1: one subscription to a receiver that answers 500;
//   - paused10: ten subscriptions, paused: every report still writes its
//     event (a paused subscription keeps its events), nothing is read or
//     sent — what the subscriptions cost intake before any delivery;
//   - exchange: no subscription; another process posts to the receiver
//     at the budget's rate, like deliveries (exchange_test.go) — what the
//     HTTP exchanges alone cost intake, the floor under the node's own;
//   - exchange_inproc: the same sender in the node's own process — what
//     sharing the process adds to the same exchanges.
//
// Before a phase with subscriptions they are created and the delivery
// loop has taken them (no free lease left); after it they are removed and
// the phase without waits until the receiver has heard nothing for
// quietFor (the senders' queued deliveries of the removed subscriptions
// sent). Reported: intake_%_median (and _min, _max) over the rounds,
// rounds_at_90% (how many kept 90% or more), the median of the
// deliveries (attempts, for slow1 and fail1) received a second while
// intake ran, and the median reports/s without. fast10 ends with one more
// phase with its subscriptions, after which it waits until every event
// is delivered: drain_deliveries/s is the rate from the end of intake
// until then (the node quiet). The receiver runs in a process of its own
// on the same machine (receiver): its CPU is taken from the same two
// cores, but not from the node's heap and garbage collector. Printed
// after the rounds (cpuacct_test.go): the CPU of the phases without and
// with subscriptions per report — the node's threads (its garbage
// collection, its allocations), the receiver's, the machine's shares —
// the writer's commits, fsyncs and Durable calls a second, and what the
// phases with subscriptions cost beyond those without, per delivery.
// Run with -benchtime 1x: each sub-benchmark runs its rounds once,
// whatever b.N.
func BenchmarkIntakeWebhooks(b *testing.B) {
	e := startPlatform(b)
	ctx := context.Background()
	rcv := startReceiver(b)
	defer rcv.stop()
	system := cases.Actor{Role: cases.RoleSystem, Name: "基准测试"}
	var ids []string
	subscribe := func(path string, n int) {
		for i := range n {
			if path == "" { // paused10
				_, sub, err := e.p.Service.CreateSubscription(ctx, system, webhook.Input{Name: fmt.Sprintf("基准暂停%d", i), URL: rcv.URL + "/fast",
					Events: []string{webhook.All}, RegionCode: "500103"})
				if err == nil {
					_, err = e.p.Service.SetSubscriptionState(ctx, system, sub.ID, webhook.Paused)
				}
				if err != nil {
					b.Fatal(err)
				}
				ids = append(ids, sub.ID)
				continue
			}
			_, sub, err := e.p.Service.CreateSubscription(ctx, system, webhook.Input{Name: fmt.Sprintf("基准接收方%d", i), URL: rcv.URL + path,
				Events: []string{webhook.All}, RegionCode: "500103"})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, sub.ID)
		}
		// Until the delivery loop holds them (it looks once a second).
		for end := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			free, err := e.p.DB.FreeHookLeases(ctx, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if !free {
				break
			}
			if time.Now().After(end) {
				b.Fatal("subscriptions not taken within a minute")
			}
		}
	}
	heard := func() int64 {
		c := rcv.counts(b)
		return c[0] + c[1] + c[2] + c[3]
	}
	unsubscribe := func() {
		for _, id := range ids {
			if err := e.p.Service.DeleteSubscription(ctx, system, id); err != nil {
				b.Fatal(err)
			}
		}
		ids = nil
		// Until the senders' queued deliveries are sent.
		for last, since := heard(), time.Now(); time.Since(since) < quietFor; time.Sleep(10 * time.Millisecond) {
			if n := heard(); n != last {
				last, since = n, time.Now()
			}
		}
	}
	defer unsubscribe()
	bodies := reportBodies(e, 1<<13)
	client := newClient()
	var next atomic.Int64
	intake := func() float64 { return intakeRun(b, e, client, bodies, &next, webhookPhase) }
	intake() // warm up: connections, caches
	for _, sc := range []struct {
		name, path string
		subs       int
		counter    int // of rcv.counts
	}{
		{"fast10", "/fast", 10, 0},
		{"paced10", "/paced", 10, 1},
		{"slow1", "/slow", 1, 2},
		{"fail1", "/fail", 1, 3},
		{"paused10", "", 10, 0},
		{"exchange", "exchange", 0, 0},
		{"exchange_inproc", "exchange_inproc", 0, 0},
	} {
		if !strings.Contains(","+webhookCases+",", ","+sc.name+",") {
			continue
		}
		b.Run(sc.name, func(b *testing.B) {
			// Where the CPU went, the phases with subscriptions and those
			// without (cpuacct_test.go).
			var cpuWith, cpuWithout cpuSum
			measured := func(sum *cpuSum) float64 {
				a := takeSnap(e, rcv.cmd.Process.Pid, heard())
				rate := intake()
				sum.add(a, takeSnap(e, rcv.cmd.Process.Pid, heard()), webhookPhase)
				return rate
			}
			var ex interface {
				set(on bool)
				stop()
			}
			switch sc.path {
			case "exchange":
				sender, err := startExchange(rcv.URL, exchangeRate())
				if err != nil {
					b.Fatal(err)
				}
				ex = sender
				defer sender.stop()
				exchangePid = sender.cmd.Process.Pid
				defer func() { exchangePid = 0 }()
			case "exchange_inproc":
				sender := startExchangeInProc(rcv.URL, exchangeRate())
				ex = sender
				defer sender.stop()
			}
			without := []float64{measured(&cpuWithout)}
			var ratios, during []float64
			for r := range webhookRounds {
				if ex != nil {
					ex.set(true)
				} else {
					subscribe(sc.path, sc.subs)
				}
				before := rcv.counts(b)[sc.counter]
				start := time.Now()
				rate := measured(&cpuWith)
				during = append(during, float64(rcv.counts(b)[sc.counter]-before)/time.Since(start).Seconds())
				if ex != nil {
					ex.set(false)
					for last, since := heard(), time.Now(); time.Since(since) < quietFor; time.Sleep(10 * time.Millisecond) {
						if n := heard(); n != last {
							last, since = n, time.Now()
						}
					}
				} else {
					unsubscribe()
				}
				without = append(without, measured(&cpuWithout))
				ratios = append(ratios, 100*rate/((without[r]+without[r+1])/2))
				fmt.Printf("%s round %d: without %.0f, with %.0f, without %.0f reports/s: %.0f%%, %.0f deliveries/s while intake ran\n",
					sc.name, r+1, without[r], rate, without[r+1], ratios[r], during[r])
			}
			fmt.Printf("%s CPU without: %s\n", sc.name, cpuWithout.line())
			fmt.Printf("%s CPU with:    %s\n", sc.name, cpuWith.line())
			fmt.Printf("%s CPU %s\n", sc.name, perDelivery(cpuWith, cpuWithout, 0.01))
			fmt.Printf("%s reads: %d of the events after a cursor, %d batches recorded (the whole run so far)\n", sc.name,
				e.p.Service.WebhookReads(), e.p.Service.WebhookBatches())
			at90 := 0
			for _, r := range ratios {
				if r >= 90 {
					at90++
				}
			}
			b.ReportMetric(median(ratios), "intake_%_median")
			b.ReportMetric(slices.Min(ratios), "intake_%_min")
			b.ReportMetric(slices.Max(ratios), "intake_%_max")
			b.ReportMetric(float64(at90), "rounds_at_90%")
			b.ReportMetric(median(during), "deliveries/s_in_intake")
			b.ReportMetric(median(without), "reports/s_without")
			if sc.name != "fast10" {
				return
			}
			// One more phase, then the backlog drains with the node quiet.
			subscribe(sc.path, sc.subs)
			intake()
			before, start := rcv.counts(b)[sc.counter], time.Now()
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
				// HookBacklog counts every event kept: polled every 10 ms,
				// it took 6 s of CPU during a drain of about 9 s (a profile
				// of fast10), from the drain it measures.
				time.Sleep(100 * time.Millisecond)
			}
			n := rcv.counts(b)[sc.counter] - before
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "drain_deliveries/s")
			fmt.Printf("%s drain: %d deliveries in %s after intake\n", sc.name, n, time.Since(start).Round(time.Millisecond))
			unsubscribe()
		})
	}
}

// The rounds of BenchmarkIntakeWebhooks: how many per case, the reports
// of each phase, how long the receiver must be silent before a phase
// without subscriptions, and the slow receiver's delay.
const (
	webhookRounds = 10
	quietFor      = 300 * time.Millisecond
	slowAnswer    = 2 * time.Second
)

// receiver is the local receiver of BenchmarkIntakeWebhooks, in a process
// of its own (this test binary started again with ZHIZHI_BENCH_RECEIVER
// set), as another system on the same machine: it shares the two cores
// but not the node's heap and garbage collector. Paths: /fast
// acknowledges at once, /paced admits pacedRate a second, /slow answers
// after slowAnswer, /fail answers 500; /counts tells how many each has
// received.
type receiver struct {
	URL    string
	cmd    *exec.Cmd
	stdin  io.Closer
	client *http.Client
}

func startReceiver(b *testing.B) *receiver {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "ZHIZHI_BENCH_RECEIVER=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("receiver: %v", err)
	}
	return &receiver{URL: strings.TrimSpace(line), cmd: cmd, stdin: in, client: &http.Client{}}
}

func (r *receiver) stop() {
	r.stdin.Close() // it exits when its input ends
	r.cmd.Wait()
}

// counts are the deliveries received at /fast, /paced, /slow and /fail.
func (r *receiver) counts(b *testing.B) [4]int64 {
	var c [4]int64
	resp, err := r.client.Get(r.URL + "/counts")
	if err == nil {
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
	}
	if err != nil {
		b.Fatalf("receiver counts: %v", err)
	}
	return c
}

// In the receiver's process: serve until the input ends.
func init() {
	if os.Getenv("ZHIZHI_BENCH_RECEIVER") == "" {
		return
	}
	var c [4]atomic.Int64
	pacer := newPacer(pacedRate)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/fast":
			c[0].Add(1)
			w.WriteHeader(http.StatusNoContent)
		case "/paced":
			pacer.wait()
			c[1].Add(1)
			w.WriteHeader(http.StatusNoContent)
		case "/slow":
			c[2].Add(1)
			select {
			case <-time.After(slowAnswer):
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusNoContent)
		case "/fail":
			c[3].Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "down\n")
		case "/counts":
			json.NewEncoder(w).Encode([4]int64{c[0].Load(), c[1].Load(), c[2].Load(), c[3].Load()})
		}
	}))
	fmt.Println(srv.URL)
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// webhookPhase is the reports of each phase (2,000; a number in
// ZHIZHI_BENCH_WEBHOOK_PHASE for longer phases, whose start — the
// subscriptions' first reads — weighs less).
var webhookPhase = func() int64 {
	if n, err := strconv.ParseInt(os.Getenv("ZHIZHI_BENCH_WEBHOOK_PHASE"), 10, 64); err == nil && n > 0 {
		return n
	}
	return 2000
}()

// webhookCases are the cases BenchmarkIntakeWebhooks runs (all; a shorter
// list in ZHIZHI_BENCH_WEBHOOK_CASES, comma-separated).
var webhookCases = cmp.Or(os.Getenv("ZHIZHI_BENCH_WEBHOOK_CASES"), "fast10,paced10,fail1,slow1,paused10,exchange")

// pacedRate is the deliveries per second the paced receiver admits.
const pacedRate = 1000

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// pacer admits callers at a fixed rate: each waits for its own turn, one
// every 1/rate seconds (turns missed while nobody asked are not saved up
// beyond a few milliseconds).
type pacer struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newPacer(rate int) *pacer { return &pacer{every: time.Second / time.Duration(rate)} }

func (p *pacer) wait() {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now.Add(-5 * time.Millisecond)) {
		p.next = now.Add(-5 * time.Millisecond)
	}
	turn := p.next
	p.next = p.next.Add(p.every)
	p.mu.Unlock()
	if d := time.Until(turn); d > 0 {
		time.Sleep(d)
	}
}
