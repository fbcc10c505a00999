package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/ingest"
	"zhizhi/internal/server"
)

// TestSimulateSensorsMQTT: a node serving with MQTT ingest on (the -mqtt
// flag's configuration) takes what 'zhizhi simulate sensors' publishes for
// the demo's devices through Mosquitto. It needs the broker: skipped
// without one unless ZHIZHI_TEST_MQTT names it.
func TestSimulateSensorsMQTT(t *testing.T) {
	addr := os.Getenv("ZHIZHI_TEST_MQTT")
	required := addr != ""
	if addr == "" {
		addr = "127.0.0.1:1883"
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err != nil {
		if required {
			t.Fatalf("ZHIZHI_TEST_MQTT=%s: %v", addr, err)
		}
		t.Skipf("no MQTT broker at %s", addr)
	} else {
		c.Close()
	}
	var rb [5]byte
	rand.Read(rb[:])
	prefix := "zt" + hex.EncodeToString(rb[:]) + "/readings"
	dir := t.TempDir()
	db := filepath.Join(dir, "z.db")
	ctx := context.Background()
	p, err := server.Open(ctx, server.Config{DB: db, DataDir: dir, Addr: "127.0.0.1:0", DefaultCenter: demo.District,
		MQTT: ingest.Config{Broker: "tcp://" + addr, ClientID: "zt-node-" + hex.EncodeToString(rb[:]), Prefix: prefix, Group: "g" + hex.EncodeToString(rb[:])}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	t.Cleanup(func() { ingest.ForgetSessions("tcp://"+addr, "zt-node-"+hex.EncodeToString(rb[:]), 0) })
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 10}); err != nil {
		t.Fatal(err)
	}
	n, err := demo.LoadSensors(ctx, p.Service, 300, 1)
	if err != nil || n != 300 {
		t.Fatalf("registered %d: %v", n, err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := Run([]string{"simulate", "sensors", "-db", db, "-mqtt", "tcp://" + addr, "-prefix", prefix, "-rate", "400", "-for", "2s", "-seed", "3"}, &out, &errOut); err != nil {
		t.Fatalf("simulate: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "of 300 devices") {
		t.Errorf("output %q", out.String())
	}
	// Every reading the broker acknowledged is committed (on a loaded
	// machine the simulator publishes fewer than 400/s: its ticker drops
	// ticks, so the count is what it reports, not the rate times 2 s).
	m := regexp.MustCompile(`published (\d+) readings \((\d+) confirmed by the broker\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output %q", out.String())
	}
	confirmed, _ := strconv.Atoi(m[2])
	if confirmed < 200 {
		t.Fatalf("only %d readings confirmed by the broker in 2 s at 400/s: %q", confirmed, out.String())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := p.DB.CountReadings(ctx, "")
		if got >= int64(confirmed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d readings committed of %d the broker acknowledged", got, confirmed)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rej, _ := p.DB.Rejects(ctx, "", 10); len(rej) != 0 {
		t.Errorf("simulated readings refused: %+v", rej)
	}
	if err := Run([]string{"simulate", "cars"}, &out, &errOut); err == nil {
		t.Error("simulate cars was taken")
	}
}

// TestSimulateOperationMQTT: 'zhizhi simulate operation' replays New
// Year's Eve at 解放碑 compressed 3600 times (the evening in six seconds)
// through Mosquitto to a serving node: the crowd goes red and raises its
// alert case, the red-triggered diversion and the 00:05 tasks are released
// as dispatched cases. Skipped without a broker unless ZHIZHI_TEST_MQTT
// names it.
func TestSimulateOperationMQTT(t *testing.T) {
	addr := os.Getenv("ZHIZHI_TEST_MQTT")
	required := addr != ""
	if addr == "" {
		addr = "127.0.0.1:1883"
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err != nil {
		if required {
			t.Fatalf("ZHIZHI_TEST_MQTT=%s: %v", addr, err)
		}
		t.Skipf("no MQTT broker at %s", addr)
	} else {
		c.Close()
	}
	var rb [5]byte
	rand.Read(rb[:])
	prefix := "zt" + hex.EncodeToString(rb[:]) + "/readings"
	dir := t.TempDir()
	db := filepath.Join(dir, "z.db")
	ctx := context.Background()
	p, err := server.Open(ctx, server.Config{DB: db, DataDir: dir, Addr: "127.0.0.1:0", DefaultCenter: demo.District, SweepEvery: 300 * time.Millisecond,
		MQTT: ingest.Config{Broker: "tcp://" + addr, ClientID: "zt-node-" + hex.EncodeToString(rb[:]), Prefix: prefix, Group: "g" + hex.EncodeToString(rb[:])}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	t.Cleanup(func() { ingest.ForgetSessions("tcp://"+addr, "zt-node-"+hex.EncodeToString(rb[:]), 0) })
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.LoadSensors(ctx, p.Service, 100, 1); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := Run([]string{"simulate", "operation", "-db", db, "-mqtt", "tcp://" + addr, "-prefix", prefix, "-speed", "3600", "-seed", "3"}, &out, &errOut); err != nil {
		t.Fatalf("simulate: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "40 counters") || !strings.Contains(out.String(), "over") {
		t.Errorf("output %q", out.String())
	}
	ops, err := p.DB.Operations(ctx, time.Time{})
	if err != nil || len(ops) != 1 || !strings.HasPrefix(ops[0].ID, "nye-replay-") {
		t.Fatalf("operations %+v %v", ops, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		runs, _ := p.DB.OperationTasks(ctx, ops[0].ID)
		areas, _ := p.DB.OperationAreas(ctx, ops[0].ID)
		// The two tasks timed for 00:05 are dispatched, and the crowd
		// passed the yellow line. Whether the replayed sum also passes red
		// (140,000, which the evening's curve tops by little) depends on how
		// the 40 counters' readings interleave at 3,600× speed; the red
		// trigger is played deterministically in service.TestS3NewYearsEve.
		timed, red := 0, true
		for _, r := range runs {
			if r.State == "dispatched" && r.Task != "divert" {
				timed++
			}
			if r.Task == "divert" {
				red = r.State == "dispatched" || areas[demo.JFBSquare].Peak < 140000
			}
		}
		if timed == 2 && red && areas[demo.JFBSquare].Peak >= 100000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks %+v, areas %+v", runs, areas)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rep, err := p.Service.OperationReport(ctx, cases.System, ops[0].ID)
	if err != nil || len(rep.Alerts) < 1 || rep.Alerts[0].CaseID == "" {
		t.Errorf("alerts %+v %v", rep.Alerts, err)
	}
}
