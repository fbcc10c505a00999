package cases_test

import (
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// TestMissingInputs leaves out each required input in a state and by an actor
// where the action is otherwise allowed.
func TestMissingInputs(t *testing.T) {
	oneDay := sla.Limit{Amount: 1, Unit: sla.WorkDays}
	for _, tc := range []struct {
		name  string
		state cases.State
		actor cases.Actor
		cmd   cases.Command
		field string
	}{
		{"reject", cases.Reported, commander, cases.Command{Action: cases.ActReject}, "note"},
		{"reject blank", cases.Reported, commander, cases.Command{Action: cases.ActReject, Note: " \t\n"}, "note"},
		{"merge", cases.Reported, commander, cases.Command{Action: cases.ActMerge}, "target"},
		{"dispatch", cases.Accepted, commander, cases.Command{Action: cases.ActDispatch, Co: []string{coID}}, "lead_unit"},
		{"redispatch lead", cases.Handling, commander, cases.Command{Action: cases.ActRedispatch, Note: "改派"}, "lead_unit"},
		{"redispatch note", cases.Handling, commander, cases.Command{Action: cases.ActRedispatch, Lead: otherID}, "note"},
		{"handle", cases.Handling, leadUnit, cases.Command{Action: cases.ActHandle}, "note"},
		{"feedback", cases.Handling, leadUnit, cases.Command{Action: cases.ActFeedback, Photos: []cases.Photo{{Hash: "x"}}}, "note"},
		{"verify", cases.FedBack, gridWorker, cases.Command{Action: cases.ActVerify}, "passed"},
		{"rate", cases.Closed, gridWorker, cases.Command{Action: cases.ActRate}, "rating"},
		{"rate unknown", cases.Closed, gridWorker, cases.Command{Action: cases.ActRate, Rating: "great"}, "rating"},
		{"return", cases.Dispatched, leadUnit, cases.Command{Action: cases.ActReturn}, "note"},
		{"extend_request note", cases.Handling, leadUnit, cases.Command{Action: cases.ActExtendRequest, Extension: oneDay}, "note"},
		{"extend_request extension", cases.Handling, leadUnit, cases.Command{Action: cases.ActExtendRequest, Note: "慢"}, "extension"},
		{"extend_request zero amount", cases.Handling, leadUnit, cases.Command{Action: cases.ActExtendRequest, Note: "慢", Extension: sla.Limit{Unit: sla.WorkDays}}, "extension"},
		{"extend_request bad unit", cases.Handling, leadUnit, cases.Command{Action: cases.ActExtendRequest, Note: "慢", Extension: sla.Limit{Amount: 1, Unit: "weeks"}}, "extension"},
		{"park_request note", cases.Handling, leadUnit, cases.Command{Action: cases.ActParkRequest, Until: at(20, 9, 0)}, "note"},
		{"park_request until", cases.Handling, leadUnit, cases.Command{Action: cases.ActParkRequest, Note: "久"}, "until"},
		{"reopen", cases.Closed, commander, cases.Command{Action: cases.ActReopen}, "note"},
		{"escalate", cases.Handling, commander, cases.Command{Action: cases.ActEscalate, Parent: districtPath}, "note"},
		{"escalate by system", cases.Reported, cases.System, cases.Command{Action: cases.ActEscalate, Parent: districtPath}, "note"},
		{"supervise", cases.Handling, leader, cases.Command{Action: cases.ActSupervise}, "note"},
		{"accept severity", cases.Reported, commander, cases.Command{Action: cases.ActAccept, Severity: "severe"}, "severity"},
		{"note too long", cases.Handling, leadUnit, cases.Command{Action: cases.ActHandle, Note: strings.Repeat("长", 2001)}, "note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, last := reach(t, tc.state)
			err := refused(t, c, tc.cmd, tc.actor, last.Add(time.Minute), apperr.Invalid)
			wantField(t, err, tc.field)
			if len(fieldsOf(err)) != 1 {
				t.Errorf("fields %v, want only %s", fieldsOf(err), tc.field)
			}
		})
	}

	t.Run("all at once", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		err := refused(t, c, cases.Command{Action: cases.ActParkRequest}, leadUnit, last.Add(time.Minute), apperr.Invalid)
		wantField(t, err, "until", "note")
	})

	t.Run("longest note", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		must(t, c, cases.Command{Action: cases.ActHandle, Note: strings.Repeat("长", 2000)}, leadUnit, last.Add(time.Minute))
		short := pol
		short.MaxNote = 10
		_, _, err := cases.Apply(c, cases.Command{Action: cases.ActHandle, Note: strings.Repeat("长", 11)}, leadUnit, short, last.Add(time.Minute))
		wantField(t, err, "note")
	})
}

// TestCoUnits refuses co-units that repeat the lead or each other, or are
// empty, on dispatch and re-dispatch.
func TestCoUnits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		co     []string
		fields []string
	}{
		{"co is the lead", []string{leadID}, []string{"co_units[0]"}},
		{"repeated", []string{coID, otherID, coID}, []string{"co_units[2]"}},
		{"empty", []string{coID, ""}, []string{"co_units[1]"}},
		{"several", []string{leadID, "", leadID}, []string{"co_units[0]", "co_units[1]", "co_units[2]"}},
	} {
		t.Run("dispatch/"+tc.name, func(t *testing.T) {
			c, last := reach(t, cases.Accepted)
			err := refused(t, c, cases.Command{Action: cases.ActDispatch, Lead: leadID, Co: tc.co}, commander, last.Add(time.Minute), apperr.Invalid)
			wantField(t, err, tc.fields...)
		})
		t.Run("redispatch/"+tc.name, func(t *testing.T) {
			c, last := reach(t, cases.Dispatched)
			err := refused(t, c, cases.Command{Action: cases.ActRedispatch, Lead: leadID, Co: tc.co, Note: "改派"}, commander, last.Add(time.Minute), apperr.Invalid)
			wantField(t, err, tc.fields...)
		})
	}
	// Distinct co-units each get their own task and clocks.
	c, last := reach(t, cases.Accepted)
	now := last.Add(time.Minute)
	n := must(t, c, cases.Command{Action: cases.ActDispatch, Lead: leadID, Co: []string{coID, otherID}}, commander, now)
	if u := n.Units(); len(u) != 3 || u[0] != leadID || u[1] != coID || u[2] != otherID {
		t.Fatalf("units %v", u)
	}
	for _, tk := range n.Tasks {
		wantRole := cases.Co
		if tk.UnitID == leadID {
			wantRole = cases.Lead
		}
		if tk.Role != wantRole || tk.State != cases.TaskDispatched || !tk.Sign.Start.Equal(now) ||
			!tk.Sign.Due.Equal(sla.Due(cal, now, limitOf(sla.Sign, sla.Normal))) ||
			!tk.Handle.Due.Equal(sla.Due(cal, now, limitOf(sla.Handle, sla.Normal))) {
			t.Errorf("task %+v", tk)
		}
	}
}
