package sensors

import (
	"strings"
	"testing"
	"time"

	"zhizhi/internal/sla"
)

// step is one input to the engine: a reading (device and value) at a minute
// after t0, or a tick at that minute (device ""), and the events expected.
type step struct {
	min    float64
	device string
	value  float64
	want   string // event types, comma separated, each "type:rule/subject"
}

func run(t *testing.T, name string, devices []Device, rules []Rule, steps []step) *Engine {
	t.Helper()
	e := NewEngine(devices, rules, t0)
	for i, s := range steps {
		at := t0.Add(time.Duration(s.min * float64(time.Minute)))
		var evs []Event
		if s.device == "" {
			evs = e.Tick(at)
		} else {
			evs = e.Observe(Reading{Device: s.device, Kind: "crowd", Value: s.value, At: at})
		}
		var got []string
		for _, ev := range evs {
			got = append(got, string(ev.Type)+":"+ev.Rule.ID+"/"+ev.Incident.Subject)
		}
		if g := strings.Join(got, ","); g != s.want {
			t.Errorf("%s: step %d (min %v, %s=%v): got %q, want %q", name, i, s.min, s.device, s.value, g, s.want)
		}
	}
	return e
}

func threshold(id string, raise, clear float64, clearMin int) Rule {
	return Rule{ID: id, Name: id, Type: Threshold, Kind: "crowd", Raise: raise, Clear: clear, ClearMinutes: clearMin,
		UpdateMinutes: 10, Category: "crowd", Severity: sla.Urgent, Active: true}
}

func TestThresholdHysteresis(t *testing.T) {
	devs := []Device{dev("c1", "jfb")}
	run(t, "hysteresis", devs, []Rule{threshold("hi", 100, 80, 0)}, []step{
		{0, "c1", 50, ""},
		{1, "c1", 99, ""},
		{2, "c1", 100, "opened:hi/c1"},
		{3, "c1", 120, ""},
		{4, "c1", 85, ""}, // in the band: still holding
		{5, "c1", 99, ""},
		{6, "c1", 79, "cleared:hi/c1"}, // below the clear line, no wait
		{7, "c1", 95, ""},              // in the band after clearing: nothing
		{8, "c1", 101, "opened:hi/c1"}, // a new incident
	})
	// Below: a water level too low.
	low := threshold("low", 10, 15, 0)
	low.Below = true
	run(t, "below", devs, []Rule{low}, []step{
		{0, "c1", 20, ""},
		{1, "c1", 10, "opened:low/c1"},
		{2, "c1", 14, ""},
		{3, "c1", 16, "cleared:low/c1"},
	})
	// Inactive rules do nothing; retired devices are not watched.
	off := threshold("off", 1, 1, 0)
	off.Active = false
	gone := dev("c2", "jfb")
	gone.State = Retired
	run(t, "inactive", []Device{dev("c1", "jfb"), gone}, []Rule{off, threshold("hi", 100, 80, 0)}, []step{
		{0, "c1", 50, ""},
		{1, "c2", 500, ""},
	})
}

func TestFlappingOpensOneIncident(t *testing.T) {
	devs := []Device{dev("c1", "jfb")}
	var steps []step
	// The sensor flaps across both lines every minute for 20 minutes: one
	// incident, updates every 10 minutes while it holds, no second opening.
	for m := 0; m < 20; m++ {
		v := 150.0
		if m%2 == 1 {
			v = 10
		}
		want := ""
		if m == 0 {
			want = "opened:hi/c1"
		}
		if m == 10 {
			want = "updated:hi/c1"
		}
		steps = append(steps, step{float64(m), "c1", v, want})
	}
	// Then it stays low: cleared once it has been clear for 5 minutes, on a
	// reading or on a tick.
	steps = append(steps,
		step{21, "c1", 10, ""},
		step{23, "c1", 10, ""},
		step{24, "", 0, "cleared:hi/c1"},
		step{25, "c1", 10, ""},
	)
	e := run(t, "flapping", devs, []Rule{threshold("hi", 100, 80, 5)}, steps)
	if len(e.Open()) != 0 {
		t.Errorf("open after clearing: %+v", e.Open())
	}
	// The peak and triggering readings are kept.
	e = run(t, "peak", devs, []Rule{threshold("hi", 100, 80, 5)}, []step{
		{0, "c1", 90, ""}, {1, "c1", 110, "opened:hi/c1"}, {2, "c1", 300, ""}, {3, "c1", 200, ""},
	})
	inc := e.Open()[0]
	if inc.Peak != 300 || inc.Value != 200 || len(inc.Trigger) != 2 || inc.Trigger[0].Value != 90 || inc.Trigger[1].Value != 110 {
		t.Errorf("incident: %+v", inc)
	}
}

func TestRateOfChange(t *testing.T) {
	rate := Rule{ID: "rise", Name: "涨水", Type: Rate, Kind: "crowd", Raise: 50, Clear: 10, Category: "c", Severity: sla.Normal, Active: true}
	run(t, "rate", []Device{dev("c1", "")}, []Rule{rate}, []step{
		{0, "c1", 100, ""},                // no previous reading: no rate
		{2, "c1", 180, ""},                // 40/min
		{3, "c1", 240, "opened:rise/c1"},  // 60/min
		{4, "c1", 260, ""},                // 20/min: in the band
		{6, "c1", 270, "cleared:rise/c1"}, // 5/min
	})
}

func TestAreaSum(t *testing.T) {
	devs := []Device{dev("a1", "jfb"), dev("a2", "jfb"), dev("b1", "other")}
	sum := Rule{ID: "crowd", Name: "解放碑人流", Type: AreaSum, Area: "jfb", Kind: "crowd", Raise: 1000, Clear: 800, ClearMinutes: 0, Category: "c", Severity: sla.Critical, Active: true}
	e := run(t, "area", devs, []Rule{sum}, []step{
		{0, "a1", 400, ""},
		{1, "a2", 500, ""},                  // 900
		{2, "b1", 5000, ""},                 // another area
		{3, "a1", 600, "opened:crowd/jfb"},  // 1100
		{4, "a2", 300, ""},                  // 900: in the band
		{5, "a1", 100, "cleared:crowd/jfb"}, // 400
	})
	if got := e.AreaSum("jfb", "crowd"); got != 400 {
		t.Errorf("sum %v", got)
	}
	if got := e.AreaSum("other", ""); got != 5000 {
		t.Errorf("other sum %v", got)
	}
	// Seeded values from another node count in the sum; older ones do not
	// replace newer.
	e.Seed(Reading{Device: "a2", Value: 700, At: t0.Add(10 * time.Minute)})
	e.Seed(Reading{Device: "a2", Value: 1, At: t0.Add(9 * time.Minute)})
	if got := e.AreaSum("jfb", "crowd"); got != 800 {
		t.Errorf("seeded sum %v", got)
	}
	if evs := e.Observe(Reading{Device: "a1", Value: 400, At: t0.Add(11 * time.Minute)}); len(evs) != 1 || evs[0].Type != Opened || evs[0].Incident.Value != 1100 {
		t.Errorf("after seed: %+v", evs)
	}
	// Moving a device to another area moves its value.
	d := dev("a2", "other")
	e.SetDevice(d)
	if e.AreaSum("jfb", "crowd") != 400 || e.AreaSum("other", "crowd") != 5700 {
		t.Errorf("moved: %v %v", e.AreaSum("jfb", "crowd"), e.AreaSum("other", "crowd"))
	}
}

func TestSilence(t *testing.T) {
	sil := Rule{ID: "quiet", Name: "离线", Type: Silence, Kind: "crowd", SilentMinutes: 15, Category: "c", Severity: sla.Normal, Active: true}
	run(t, "silence", []Device{dev("c1", ""), dev("c2", "")}, []Rule{sil}, []step{
		{0, "c1", 1, ""},
		{10, "", 0, ""},
		{14, "c1", 1, ""},
		{15, "", 0, "opened:quiet/c2"}, // never heard since the start
		{20, "", 0, ""},                // still silent: no duplicate
		{28.5, "", 0, ""},
		{29, "", 0, "opened:quiet/c1"}, // 15 minutes since its last
		{40, "", 0, ""},
		{41, "c1", 2, "cleared:quiet/c1"}, // a reading ends it at once
		{42, "c2", 2, "cleared:quiet/c2"},
		{50, "", 0, ""},
	})
}

func TestRestoreAndRuleChange(t *testing.T) {
	e := NewEngine([]Device{dev("c1", "")}, []Rule{threshold("hi", 100, 80, 0)}, t0)
	// An incident open before a restart goes on: no second opening.
	e.Restore(Incident{Rule: "hi", Subject: "c1", OpenedAt: t0, UpdatedAt: t0, Value: 120, Peak: 120})
	if evs := e.Observe(Reading{Device: "c1", Value: 130, At: t0.Add(time.Minute)}); len(evs) != 0 {
		t.Errorf("restored incident opened again: %+v", evs)
	}
	if e.Open()[0].Peak != 130 {
		t.Errorf("peak %v", e.Open()[0].Peak)
	}
	// A replayed reading (not newer) changes nothing.
	if evs := e.Observe(Reading{Device: "c1", Value: 10, At: t0.Add(time.Minute)}); len(evs) != 0 || e.Open()[0].Value != 130 {
		t.Errorf("replay changed the incident: %+v", evs)
	}
	// Deactivating the rule forgets its incidents.
	r := threshold("hi", 100, 80, 0)
	r.Active = false
	e.SetRules([]Rule{r})
	if len(e.Open()) != 0 {
		t.Errorf("open after the rule went: %+v", e.Open())
	}
	if evs := e.Observe(Reading{Device: "unknown", Value: 10, At: t0.Add(time.Hour)}); evs != nil {
		t.Errorf("unknown device: %+v", evs)
	}
}

// TestResetOpen: refreshing the open incidents from the store keeps the
// engine's devices, last readings and sums, forgets the incidents the store
// no longer has open and takes up the ones it has.
func TestResetOpen(t *testing.T) {
	e := NewEngine([]Device{dev("c1", "a"), dev("c2", "a")}, []Rule{threshold("hi", 100, 80, 0)}, t0)
	if evs := e.Observe(Reading{Device: "c1", Value: 120, At: t0.Add(time.Minute)}); len(evs) != 1 || evs[0].Type != Opened {
		t.Fatalf("opening: %+v", evs)
	}
	e.Observe(Reading{Device: "c2", Value: 5, At: t0.Add(time.Minute)})
	// Another node cleared c1's incident and opened c2's.
	e.ResetOpen([]Incident{{Rule: "hi", Subject: "c2", OpenedAt: t0, UpdatedAt: t0.Add(time.Minute), Value: 110, Peak: 110}})
	if open := e.Open(); len(open) != 1 || open[0].Subject != "c2" {
		t.Fatalf("open after the reset: %+v", open)
	}
	if got := e.AreaSum("a", "crowd"); got != 125 {
		t.Errorf("area sum after the reset %v, want 125", got)
	}
	if r, ok := e.Last("c1"); !ok || r.Value != 120 {
		t.Errorf("c1's last reading after the reset: %+v %v", r, ok)
	}
	// c1 still above the line: a new incident (the store's was cleared); c2
	// goes on without opening again.
	if evs := e.Observe(Reading{Device: "c1", Value: 130, At: t0.Add(2 * time.Minute)}); len(evs) != 1 || evs[0].Type != Opened {
		t.Errorf("c1 after the reset: %+v", evs)
	}
	if evs := e.Observe(Reading{Device: "c2", Value: 140, At: t0.Add(2 * time.Minute)}); len(evs) != 0 {
		t.Errorf("c2 after the reset: %+v", evs)
	}
}
