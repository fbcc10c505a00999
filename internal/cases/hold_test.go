package cases_test

import (
	"slices"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// TestHeldReport: a report the service holds is born held, with no stage
// and no clock; the step says why.
func TestHeldReport(t *testing.T) {
	for _, why := range []cases.HoldReason{cases.HoldClient, cases.HoldPhone, cases.HoldDoor} {
		r := testReport()
		r.Answers = map[string]any{"depth": "12", "hazards": []any{"water"}}
		r.Hold = why
		c, step, err := cases.New(r, questionCategory(), testPlace, "case-1", "", gridWorker, pol, at(9, 9, 0))
		if err != nil {
			t.Fatal(err)
		}
		if c.State != cases.Held || c.Stage != "" || c.Clock != (sla.Clock{}) || len(c.RunningClocks()) != 0 {
			t.Errorf("%s: state %s, stage %q, clock %+v, %d running", why, c.State, c.Stage, c.Clock, len(c.RunningClocks()))
		}
		if c.Hold == nil || c.Hold.Reason != why || !c.Hold.Since.Equal(at(9, 9, 0)) || !c.Screened() {
			t.Errorf("%s: hold %+v", why, c.Hold)
		}
		if step.To != cases.Held || step.Data["hold"] != string(why) {
			t.Errorf("%s: step %+v", why, step)
		}
		if why.Label() == string(why) {
			t.Errorf("%s has no Chinese label", why)
		}
	}
	if cases.Held.Label() != "待甄别" || !cases.Held.Open() || !cases.Held.Valid() {
		t.Errorf("held: label %q, open %v", cases.Held.Label(), cases.Held.Open())
	}
}

// TestHoldTransitions walks the holding queue's rows of the table: only the
// center's commander releases or rejects a held case; release starts the
// accept clock at the release; nothing else is taken from held.
func TestHoldTransitions(t *testing.T) {
	released := at(9, 14, 0)
	tests := []struct {
		name  string
		cmd   cases.Command
		actor cases.Actor
		want  apperr.Kind // "" = allowed
		to    cases.State
	}{
		{"release", cases.Command{Action: cases.ActRelease}, commander, "", cases.Reported},
		{"reject", cases.Command{Action: cases.ActReject, Note: "批量灌水"}, commander, "", cases.Rejected},
		{"reject without a reason", cases.Command{Action: cases.ActReject}, commander, apperr.Invalid, ""},
		{"release by another street", cases.Command{Action: cases.ActRelease}, siblingCm, apperr.Forbidden, ""},
		{"release by a leader", cases.Command{Action: cases.ActRelease}, leader, apperr.Refused, ""},
		{"release by a grid worker", cases.Command{Action: cases.ActRelease}, gridWorker, apperr.Refused, ""},
		{"accept while held", cases.Command{Action: cases.ActAccept}, commander, apperr.Refused, ""},
		{"merge while held", cases.Command{Action: cases.ActMerge, Target: "case-0"}, commander, apperr.Refused, ""},
		{"urge while held", cases.Command{Action: cases.ActUrge}, leader, apperr.Refused, ""},
		{"escalate while held", cases.Command{Action: cases.ActEscalate, Note: "x"}, cases.System, apperr.Refused, ""},
		{"warn while held", cases.Command{Action: cases.ActWarn, Clock: "case:accept", Level: "red"}, cases.System, apperr.Refused, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := heldCase(t, cases.HoldClient)
			n, _, err := cases.Apply(c, tt.cmd, tt.actor, pol, released)
			if tt.want != "" {
				wantKind(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.State != tt.to {
				t.Fatalf("state %s, want %s", n.State, tt.to)
			}
			switch tt.to {
			case cases.Reported:
				if n.Stage != cases.StageAccept || !n.Clock.Start.Equal(released) || n.Clock.Due.Before(released) || len(n.RunningClocks()) != 1 {
					t.Errorf("released: stage %q, clock %+v", n.Stage, n.Clock)
				}
				if !n.Hold.Released.Equal(released) || n.Screened() || !c.Hold.Released.IsZero() {
					t.Errorf("hold after release %+v (input %+v)", n.Hold, c.Hold)
				}
				// Now it is an ordinary report.
				must(t, n, cases.Command{Action: cases.ActAccept}, commander, released.Add(time.Minute))
			case cases.Rejected:
				if !n.Screened() || n.ClosedAt.IsZero() || len(n.RunningClocks()) != 0 {
					t.Errorf("rejected from held: screened %v, closed %v", n.Screened(), n.ClosedAt)
				}
			}
		})
	}
	held := heldCase(t, cases.HoldPhone)
	if got := cases.Actions(&held, commander); !slices.Equal(got, []cases.Action{cases.ActRelease, cases.ActReject}) {
		t.Errorf("actions on a held case: %v", got)
	}
	rep := newCase(t, sla.Normal)
	if cases.Allowed(&rep, cases.ActRelease, commander) {
		t.Error("release offered on a case that was never held")
	}
}
