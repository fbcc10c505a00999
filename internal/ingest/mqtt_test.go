package ingest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/ingest"
	"zhizhi/internal/sensors"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// brokerEnv names the broker's address (host:port) for these tests. When it
// is set the tests fail if the broker cannot be reached; otherwise they run
// against 127.0.0.1:1883 when it answers and skip when it does not.
const brokerEnv = "ZHIZHI_TEST_MQTT"

func broker(t *testing.T) string {
	t.Helper()
	addr := os.Getenv(brokerEnv)
	required := addr != ""
	if addr == "" {
		addr = "127.0.0.1:1883"
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if required {
			t.Fatalf("%s=%s: broker unreachable: %v", brokerEnv, addr, err)
		}
		t.Skipf("no MQTT broker at %s (set %s to require one)", addr, brokerEnv)
	}
	c.Close()
	return "tcp://" + addr
}

func rnd() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// world is a database and a node's service with the crowd kind, devices
// C000..C(n-1) in area jfb and a crowd rule on the area.
func world(t *testing.T, devices int) (*store.DB, *service.Service) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "zhizhi.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := node(t, db)
	if err := s.PutCategory(ctx, cases.System, cases.Category{Code: "AQ01", Name: "人员聚集", Board: cases.BoardSafety, Level: "district", Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDeviceKind(ctx, cases.System, sensors.Kind{Code: "crowd", Name: "客流计数", Unit: "人", Min: 0, Max: 100000}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("id,kind,lng,lat,area\n")
	for i := 0; i < devices; i++ {
		fmt.Fprintf(&b, "C%03d,crowd,106.577,29.557,jfb\n", i)
	}
	if _, probs, err := s.ImportDevices(ctx, cases.System, strings.NewReader(b.String())); err != nil {
		t.Fatal(err, probs)
	}
	if _, err := s.SaveSensorRule(ctx, cases.System, sensors.Rule{ID: "jfb", Name: "解放碑人流", Type: sensors.AreaSum, Area: "jfb", Kind: "crowd",
		Raise: 1000, Clear: 800, ClearMinutes: 5, Category: "AQ01", Severity: sla.Critical, Active: true}); err != nil {
		t.Fatal(err)
	}
	return db, s
}

func node(t *testing.T, db *store.DB) *service.Service {
	t.Helper()
	s, err := service.New(context.Background(), db, service.Config{PhotoDir: t.TempDir(), DefaultCenter: "/500000/500103/"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func payload(v float64, at time.Time) []byte {
	return fmt.Appendf(nil, `{"value": %v, "at": %d}`, v, at.UnixMilli())
}

// TestMQTTEndToEnd: readings published to Mosquitto are committed, cross
// the area's line and open one case; bad readings are counted and change
// nothing else.
func TestMQTTEndToEnd(t *testing.T) {
	addr := broker(t)
	db, s := world(t, 3)
	ctx := context.Background()
	prefix := "zt" + rnd() + "/readings"
	cfg := ingest.Config{Broker: addr, ClientID: "zt-" + rnd(), Prefix: prefix, Group: "g" + rnd()}
	t.Cleanup(func() { ingest.ForgetSessions(addr, cfg.ClientID, 0) })
	m, err := ingest.Start(ctx, cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	pub, err := ingest.NewPublisher(addr, "zt-pub-"+rnd(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	now := time.Now()
	send := func(tok interface {
		WaitTimeout(time.Duration) bool
		Error() error
	}) {
		t.Helper()
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	// Bad ones first: not JSON, an unknown device, out of range, the wrong
	// kind, a topic that names no device, a reading from the future.
	send(pub.Publish("crowd", "C000", []byte("not json")))
	send(pub.Publish("crowd", "NOBODY", payload(5, now)))
	send(pub.Publish("crowd", "C000", payload(-1, now)))
	send(pub.Publish("smoke", "C000", payload(5, now)))
	send(pub.PublishRaw(prefix+"/crowd/bad id", payload(5, now)))
	send(pub.Publish("crowd", "C001", payload(5, now.Add(time.Hour))))
	// Then the crowd: 400 + 400 + 300 crosses 1000 once; more readings keep it.
	for i, v := range []float64{400, 400, 300, 500, 450} {
		send(pub.Publish("crowd", fmt.Sprintf("C%03d", i%3), payload(v, now.Add(time.Duration(i+1)*time.Millisecond))))
	}
	waitFor(t, "5 readings committed", 10*time.Second, func() bool {
		n, _ := db.CountReadings(ctx, "")
		return n == 5
	})
	waitFor(t, "the case", 10*time.Second, func() bool {
		list, _ := db.Incidents(ctx, store.IncidentFilter{})
		return len(list) == 1 && list[0].Incident.CaseID != ""
	})
	n, err := db.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, Source: string(cases.SourceSensor)})
	if err != nil || n != 1 {
		t.Errorf("%d sensor cases (%v), want 1", n, err)
	}
	waitFor(t, "the rejects", 10*time.Second, func() bool {
		rej, _ := db.Rejects(ctx, "", 50)
		var total int64
		for _, r := range rej {
			total += r.N
		}
		return total == 6
	})
	rej, _ := db.Rejects(ctx, "", 50)
	got := map[string]int64{}
	for _, r := range rej {
		got[r.Device+":"+string(r.Problem)] += r.N
	}
	want := map[string]int64{"C000:malformed": 1, "NOBODY:unknown_device": 1, "C000:out_of_range": 1, "C000:wrong_kind": 1, ":malformed": 1, "C001:future": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejects %v, want %v", got, want)
	}
	// The counter moves after the batch's commit and acknowledgement, so
	// it may trail the rows read above by a moment.
	waitFor(t, "11 readings counted as committed", 10*time.Second, func() bool {
		return m.Stats().Committed >= 11
	})
	if st := m.Stats(); st.Committed != 11 || st.Received != 11 || st.Failed != 0 {
		t.Errorf("stats %+v, want 11 received and committed, none failed", st)
	}
}

// stallingSink commits its nth batch and then stalls until the ingest is
// stopped, like a node killed after its commit and before its
// acknowledgement.
type stallingSink struct {
	s         *service.Service
	n         int32
	calls     atomic.Int32
	committed chan []service.Incoming
}

func (k *stallingSink) Ingest(ctx context.Context, in []service.Incoming) (service.IngestResult, error) {
	res, err := k.s.Ingest(ctx, in)
	if err == nil && k.calls.Add(1) == k.n {
		k.committed <- in
		<-ctx.Done()
		return service.IngestResult{}, ctx.Err()
	}
	return res, err
}

// TestSharedSubscription: two nodes share the subscription; the broker
// splits the readings between them; one node is killed mid-stream after a
// commit and before its acknowledgement and comes back: every reading is
// stored exactly once (the redelivered ones are counted as replays).
func TestSharedSubscription(t *testing.T) {
	addr := broker(t)
	const devices, each = 40, 15
	db, sa := world(t, devices)
	sb := node(t, db)
	ctx := context.Background()
	prefix := "zt" + rnd() + "/readings"
	group := "g" + rnd()
	cfgA := ingest.Config{Broker: addr, ClientID: "zt-a-" + rnd(), Prefix: prefix, Group: group, Batch: 20, Linger: 5 * time.Millisecond}
	cfgB := cfgA
	cfgB.ClientID = "zt-b-" + rnd()
	t.Cleanup(func() { ingest.ForgetSessions(addr, cfgA.ClientID, 0); ingest.ForgetSessions(addr, cfgB.ClientID, 0) })
	stall := &stallingSink{s: sa, n: 2, committed: make(chan []service.Incoming, 1)}
	a, err := ingest.Start(ctx, cfgA, stall)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ingest.Start(ctx, cfgB, sb)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	pub, err := ingest.NewPublisher(addr, "zt-pub-"+rnd(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	now := time.Now().Add(-time.Minute)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for j := 0; j < each; j++ {
			for i := 0; i < devices; i++ {
				tok := pub.Publish("crowd", fmt.Sprintf("C%03d", i), payload(float64(j), now.Add(time.Duration(j)*time.Second)))
				if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
					t.Errorf("publish: %v", tok.Error())
					return
				}
			}
		}
	}()
	var stalled []service.Incoming
	select {
	case stalled = <-stall.committed:
	case <-time.After(15 * time.Second):
		t.Fatal("node A never committed its second batch")
	}
	a.Abort() // killed: its last batch is committed but not acknowledged, and it stays in the group
	wg.Wait()
	// A comes back under the same client ID (its session is persistent).
	a2, err := ingest.Start(ctx, cfgA, sa)
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Stop()
	total := int64(devices * each)
	waitFor(t, "every reading", 20*time.Second, func() bool {
		n, _ := db.CountReadings(ctx, "")
		return n == total
	})
	for i := 0; i < devices; i++ {
		if n, _ := db.CountReadings(ctx, fmt.Sprintf("C%03d", i)); n != each {
			t.Errorf("device C%03d: %d readings, want %d", i, n, each)
		}
	}
	// The stalled batch came again and was refused as replays: nothing
	// doubled in the aggregates either.
	waitFor(t, "the redelivered batch", 10*time.Second, func() bool {
		rej, _ := db.Rejects(ctx, "", 100)
		var replays int64
		for _, r := range rej {
			if r.Problem == sensors.Replayed {
				replays += r.N
			}
		}
		return replays >= int64(len(stalled))
	})
	var aggN int64
	for i := 0; i < devices; i++ {
		series, _ := db.Series(ctx, fmt.Sprintf("C%03d", i), "h", now.Add(-time.Hour), now.Add(time.Hour))
		for _, s := range series {
			aggN += s.N
		}
	}
	if aggN != total {
		t.Errorf("hour aggregates count %d readings, want %d", aggN, total)
	}
	sa1, sb1 := a.Stats(), b.Stats()
	if sa1.Received == 0 || sb1.Received == 0 {
		t.Errorf("the load did not split: A %+v, B %+v", sa1, sb1)
	}
	t.Logf("A received %d (then %d after restart), B %d", sa1.Received, a2.Stats().Received, sb1.Received)
	// Area sums across nodes: one case at most.
	n, _ := db.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, Source: string(cases.SourceSensor)})
	if n > 1 {
		t.Errorf("%d sensor cases from two nodes", n)
	}
}

// TestSharedStopLeavesGroup: a node stopped gracefully leaves the shared
// subscription, so the readings published after go to the other node and
// none waits for the stopped one.
func TestSharedStopLeavesGroup(t *testing.T) {
	addr := broker(t)
	db, sa := world(t, 10)
	sb := node(t, db)
	ctx := context.Background()
	prefix := "zt" + rnd() + "/readings"
	cfgA := ingest.Config{Broker: addr, ClientID: "zt-a-" + rnd(), Prefix: prefix, Group: "g" + rnd(), Linger: 5 * time.Millisecond}
	cfgB := cfgA
	cfgB.ClientID = "zt-b-" + rnd()
	t.Cleanup(func() { ingest.ForgetSessions(addr, cfgA.ClientID, 0); ingest.ForgetSessions(addr, cfgB.ClientID, 0) })
	a, err := ingest.Start(ctx, cfgA, sa)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ingest.Start(ctx, cfgB, sb)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	a.Stop()
	pub, err := ingest.NewPublisher(addr, "zt-pub-"+rnd(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	now := time.Now().Add(-time.Minute)
	for j := 0; j < 10; j++ {
		for i := 0; i < 10; i++ {
			if tok := pub.Publish("crowd", fmt.Sprintf("C%03d", i), payload(1, now.Add(time.Duration(j)*time.Second))); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatal(tok.Error())
			}
		}
	}
	// B counts a batch as committed just after its commit is visible: wait
	// for both the rows and the count.
	waitFor(t, "100 readings through B", 10*time.Second, func() bool {
		n, _ := db.CountReadings(ctx, "")
		return n == 100 && b.Stats().Committed == 100
	})
	if st := b.Stats(); st.Committed != 100 || a.Stats().Received != 0 {
		t.Errorf("A %+v, B %+v", a.Stats(), st)
	}
}
