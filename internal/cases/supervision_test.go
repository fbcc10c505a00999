package cases_test

import (
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// A supervision with a deadline is a clock of the case: swept (in
// RunningClocks under its key), warned yellow then red (督办超期, marking it
// late), paused while parked, stopped at the close, and never a case clock
// (it does not escalate).
func TestSupervisionClock(t *testing.T) {
	c, last := reach(t, cases.Handling) // Mon 9 March
	now := last.Add(time.Minute)
	day := sla.Limit{Amount: 1, Unit: sla.WorkDays}
	n := must(t, c, cases.Command{Action: cases.ActSupervise, Note: "限期办结", SuperviseID: "sv1", SuperviseBy: day}, leader, now)
	sv, ok := n.SupervisionOf("sv1")
	if !ok || !n.Supervised || sv.SupervisorID != leader.AccountID || sv.Clock.Due.IsZero() || !sv.Clock.Due.After(now) {
		t.Fatalf("supervision %+v %v", sv, ok)
	}
	key := cases.SupervisionKey("sv1")
	if cases.CaseClock(key) || !cases.SupervisionClock(key) {
		t.Fatal("a supervision's clock is not a case clock")
	}
	found := false
	for _, r := range n.Timers() {
		found = found || r.Key == key && r.Clock.Due.Equal(sv.Clock.Due)
	}
	if !found {
		t.Fatalf("not swept: %v", n.Timers())
	}
	// The step carries the deadline.
	_, step, err := cases.Apply(c, cases.Command{Action: cases.ActSupervise, Note: "限期办结", SuperviseID: "sv1", SuperviseBy: day}, leader, pol, now)
	if err != nil || step.Data["supervision_id"] != "sv1" || !step.Data["due"].(time.Time).Equal(sv.Clock.Due) {
		t.Fatalf("step data %v %v", step.Data, err)
	}
	// A bad limit names the field; the same ID twice is refused.
	if _, _, err := cases.Apply(c, cases.Command{Action: cases.ActSupervise, Note: "x", SuperviseBy: sla.Limit{Amount: 1, Unit: "weeks"}}, leader, pol, now); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("bad limit: %v", err)
	}
	refused(t, n, cases.Command{Action: cases.ActSupervise, Note: "x", SuperviseID: "sv1", SuperviseBy: day}, leader, now, apperr.Refused)

	late := sv.Clock.Due.Add(time.Minute)
	warns := []struct {
		name  string
		level string
		at    time.Time
		ok    bool
		late  bool
	}{
		{"yellow before due", "yellow", sv.Clock.YellowAt.Add(time.Second), true, false},
		{"yellow after due is dropped", "yellow", late, false, false},
		{"red", "red", late, true, true},
	}
	for _, tc := range warns {
		w, step, err := applyWarn(n, key, tc.level, tc.at)
		if (err == nil) != tc.ok {
			t.Fatalf("%s: err %v", tc.name, err)
		}
		if err != nil {
			continue
		}
		got, _ := w.SupervisionOf("sv1")
		if got.Late != tc.late || step.Data["supervision_id"] != "sv1" {
			t.Errorf("%s: late %v data %v", tc.name, got.Late, step.Data)
		}
		if tc.level == "red" && !strings.HasPrefix(step.Note, "督办超期") {
			t.Errorf("%s: note %q", tc.name, step.Note)
		}
	}
	if _, _, err := applyWarn(n, "supervise:nope", "red", late); err == nil {
		t.Error("warned an unknown supervision")
	}
}

func applyWarn(c cases.Case, key, level string, at time.Time) (cases.Case, cases.Step, error) {
	return cases.Apply(c, cases.Command{Action: cases.ActWarn, Clock: key, Level: level}, cases.System, pol, at)
}

// The close stops the supervision's clock: on time when the case closed by
// its due, late otherwise (even before the sweeper's red warning).
func TestSupervisionClose(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limit  sla.Limit
		onTime bool
	}{
		{"closed in time", sla.Limit{Amount: 3, Unit: sla.WorkDays}, true},
		{"closed late", sla.Limit{Amount: 10, Unit: sla.Minutes}, false},
	} {
		c, last := reach(t, cases.FedBack)
		n := must(t, c, cases.Command{Action: cases.ActSupervise, Note: "限期办结", SuperviseID: "s", SuperviseBy: tc.limit}, leader, last.Add(time.Minute))
		n = must(t, n, cases.Command{Action: cases.ActSign}, coUnit, at(9, 10, 5))
		n = must(t, n, cases.Command{Action: cases.ActFeedback, Note: "已配合封闭作业区"}, coUnit, at(9, 10, 10))
		n = must(t, n, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, at(9, 10, 30))
		sv, _ := n.SupervisionOf("s")
		if n.State != cases.Closed || sv.Clock.Stopped.IsZero() || sv.OnTime(&n) != tc.onTime || sv.Late == tc.onTime {
			t.Errorf("%s: state %s clock %+v late %v", tc.name, n.State, sv.Clock, sv.Late)
		}
		for _, r := range n.Timers() {
			if cases.SupervisionClock(r.Key) {
				t.Errorf("%s: still swept", tc.name)
			}
		}
	}
}

// Parked, the supervision's clock pauses with the case's.
func TestSupervisionPausesWhenParked(t *testing.T) {
	c, last := reach(t, cases.Handling)
	n := must(t, c, cases.Command{Action: cases.ActSupervise, Note: "限期办结", SuperviseID: "s", SuperviseBy: sla.Limit{Amount: 2, Unit: sla.WorkDays}}, leader, last.Add(time.Minute))
	n = must(t, n, cases.Command{Action: cases.ActParkRequest, Until: at(31, 18, 0), Note: "需等待管网改造"}, leadUnit, at(9, 9, 30))
	n = must(t, n, cases.Command{Action: cases.ActParkApprove}, commander, at(9, 9, 40))
	sv, _ := n.SupervisionOf("s")
	if sv.Clock.PausedAt.IsZero() {
		t.Fatalf("not paused: %+v", sv.Clock)
	}
}
