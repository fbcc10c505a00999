package bench

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/ingest"
	"zhizhi/internal/ingest/brokertest"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
)

func hexID() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// TestOperationBoardLag measures how far the live operations board's crowd
// figures are behind the readings (issue 16): a node serving with MQTT
// ingest (a private Mosquitto started with deploy/mosquitto/zhizhi.conf, or
// the broker at ZHIZHI_TEST_MQTT when there is no mosquitto binary), the
// demo's sensors and a replay of the New Year's Eve operation under watch,
// takes a background feed of ZHIZHI_BOARD_RATE readings a second (default
// 10,000: 1,000 crowd counters of another area; a comma-separated list
// runs each rate in turn on a fresh node and broker and prints a summary) while every 50 ms one of
// 解放碑's counters reports a new value k, so the square's sum is k. A
// client follows the board over its server-sent events
// (/api/v1/operations/{id}/live, looked at every second); for each board
// event the lag is the event's arrival minus the moment the reading whose
// value it shows was published: p50, p99, max over ZHIZHI_BOARD_SECONDS
// (default 60). ZHIZHI_BOARD_DEVICES registers that many devices in all
// first (657,800: the city's registry), which send nothing.
//
//	ZHIZHI_BENCH_BOARD=1 go test ./internal/bench -run TestOperationBoardLag -v -timeout 10m
func TestOperationBoardLag(t *testing.T) {
	if os.Getenv("ZHIZHI_BENCH_BOARD") == "" {
		t.Skip("ZHIZHI_BENCH_BOARD=1 not set")
	}
	var rates []int
	for _, f := range strings.Split(cmp.Or(os.Getenv("ZHIZHI_BOARD_RATE"), "10000"), ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r <= 0 {
			t.Fatalf("ZHIZHI_BOARD_RATE: %q is not a rate", f)
		}
		rates = append(rates, r)
	}
	seconds := envInt("ZHIZHI_BOARD_SECONDS", 60)
	var summary []string
	for _, rate := range rates {
		t.Run(strconv.Itoa(rate), func(t *testing.T) {
			summary = append(summary, boardLag(t, rate, seconds))
		})
	}
	t.Logf("summary (offered, seconds, published/s, accepted/s, behind at the end, readings stored, board events, p50, p99, max, load start → end):\n%s", strings.Join(summary, "\n"))
}

// boardLag is one run of TestOperationBoardLag on a fresh node and broker;
// it returns its summary line.
func boardLag(t *testing.T, rate, seconds int) string {
	var addr string
	if brokertest.Binary() != "" {
		addr = brokertest.Start(t).Addr
	} else if a := os.Getenv("ZHIZHI_TEST_MQTT"); a != "" {
		addr = "tcp://" + a
	} else {
		t.Skip("no mosquitto binary and no ZHIZHI_TEST_MQTT")
	}
	prefix := "zb" + hexID() + "/readings"
	mq := ingest.Config{Broker: addr, ClientID: "zb-" + hexID(), Prefix: prefix, Group: "g" + hexID()}
	t.Cleanup(func() { ingest.ForgetSessions(addr, mq.ClientID, 0) })
	e, err := newPlatformWith(func(c *server.Config) { c.MQTT = mq })
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
	svc := e.p.Service
	if _, err := demo.LoadSensors(ctx, svc, 40, 1); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("id,kind,lng,lat,area\n")
	const background = 1000
	for i := range background {
		fmt.Fprintf(&csv, "BG%04d,crowd,106.577,29.557,bench\n", i)
	}
	if _, probs, err := svc.ImportDevices(ctx, cases.System, strings.NewReader(csv.String())); err != nil {
		t.Fatal(err, probs)
	}
	// ZHIZHI_BOARD_DEVICES registers more devices before the run, through
	// the import, so that the node holds a city's registry (657,800) while
	// the feed runs; they send nothing.
	if want := envInt("ZHIZHI_BOARD_DEVICES", 0); want > 0 {
		have, err := e.p.DB.CountDevices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for lo := have; lo < want; lo += service.MaxDeviceImport {
			var b strings.Builder
			b.WriteString("id,kind,lng,lat,area\n")
			for i := lo; i < min(lo+service.MaxDeviceImport, want); i++ {
				k := demo.SensorKinds[i%len(demo.SensorKinds)]
				area := ""
				if k.Code == "crowd" {
					area = fmt.Sprintf("R%04d", i/500)
				}
				fmt.Fprintf(&b, "R%07d,%s,106.577,29.557,%s\n", i, k.Code, area)
			}
			if _, probs, err := svc.ImportDevices(ctx, cases.System, strings.NewReader(b.String())); err != nil {
				t.Fatal(err, probs[:min(len(probs), 3)])
			}
		}
		have, err = e.p.DB.CountDevices(ctx)
		if err != nil || have != want {
			t.Fatalf("%d devices registered, want %d (%v)", have, want, err)
		}
		t.Logf("%d devices registered (the import took %s)", have, time.Since(start).Round(time.Second))
	}
	op, err := demo.ReplayOperation(ctx, svc, time.Now().Add(time.Minute), 1)
	if err != nil {
		t.Fatal(err)
	}
	// The operation's commander follows the board.
	tok, err := signIn(e.base, "jfb_zhihui", demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.base+"/api/v1/operations/"+op.ID+"/live", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("live: %v %v", err, resp)
	}
	defer resp.Body.Close()

	var mu sync.Mutex
	sentAt := map[int]time.Time{} // marker value → its publish
	var lags []time.Duration
	seen := 0
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			now := time.Now()
			var b service.OperationBoard
			if json.Unmarshal([]byte(data), &b) != nil || len(b.Areas) == 0 {
				continue
			}
			k := int(b.Areas[0].Value)
			mu.Lock()
			if at, ok := sentAt[k]; ok && k > seen {
				seen = k
				lags = append(lags, now.Sub(at))
			}
			mu.Unlock()
		}
	}()

	pub, err := ingest.NewPublisher(addr, "zb-pub-"+hexID(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	marker, err := ingest.NewPublisher(addr, "zb-mark-"+hexID(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer marker.Close()
	load0 := loadavg()
	t.Logf("load average at start: %s", load0)
	acc0 := svc.SensorCounts().Accepted
	stop := make(chan struct{})
	var published atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // background feed
		defer wg.Done()
		base := time.Now().Add(-time.Hour)
		start := time.Now()
		var toks []interface{ WaitTimeout(time.Duration) bool }
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > time.Millisecond {
				time.Sleep(d)
			}
			const window = 20000
			if len(toks) >= window {
				toks[len(toks)-window].WaitTimeout(time.Minute)
			}
			at := base.Add(time.Duration(i/background) * time.Millisecond)
			toks = append(toks, pub.Publish("crowd", fmt.Sprintf("BG%04d", i%background), fmt.Appendf(nil, `{"value": %d, "at": %d}`, i%100, at.UnixMilli())))
			published.Add(1)
		}
	}()
	go func() { // markers
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for k := 1; ; k++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			now := time.Now()
			mu.Lock()
			sentAt[k] = now
			mu.Unlock()
			marker.Publish("crowd", "YZ-CROWD-00000", fmt.Appendf(nil, `{"value": %d, "at": %d}`, k, now.UnixMilli()))
		}
	}()
	start := time.Now()
	time.Sleep(time.Duration(seconds) * time.Second)
	close(stop)
	wg.Wait()
	took := time.Since(start)
	accepted := svc.SensorCounts().Accepted - acc0
	mu.Lock()
	defer mu.Unlock()
	if len(lags) < seconds/2 {
		t.Fatalf("only %d board events followed the markers", len(lags))
	}
	slices.Sort(lags)
	q := func(p float64) time.Duration {
		return lags[min(len(lags)-1, int(p*float64(len(lags))))].Round(time.Millisecond)
	}
	stored, _ := e.p.DB.CountReadings(ctx, "")
	behind := published.Load() + int64(len(sentAt)) - accepted
	t.Logf("%d s, background offered %d/s, published %.0f/s, accepted by the node %.0f/s (during the run), %d published and not yet committed at the end, %d readings stored",
		seconds, rate, float64(published.Load())/took.Seconds(), float64(accepted)/took.Seconds(), behind, stored)
	t.Logf("board lag over %d events (the board is looked at every %s): p50 %s, p99 %s, max %s", len(lags), "1s", q(0.5), q(0.99), lags[len(lags)-1].Round(time.Millisecond))
	load1 := loadavg()
	t.Logf("load average at end: %s", load1)
	return fmt.Sprintf("%d/s\t%d s\t%.0f/s\t%.0f/s\t%d\t%d\t%d\t%s\t%s\t%s\t%s → %s", rate, seconds, float64(published.Load())/took.Seconds(),
		float64(accepted)/took.Seconds(), behind, stored, len(lags), q(0.5), q(0.99), lags[len(lags)-1].Round(time.Millisecond), load0, load1)
}
