package evaluation

import (
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// TestFactsExempted: a hand-computed case closed late, with a lead that
// signed and fed back late and a co-unit that was also late. The lead's
// appeal was approved, the co-unit's refused.
func TestFactsExempted(t *testing.T) {
	at := time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai, 3 Nov
	late := sla.Clock{WasOverdue: true}
	c := cases.Case{ID: "c1", RegionPath: "/500000/500103/500103014/500103014010/500103014010001/", GridCode: "500103014010001",
		ReportedAt: at, Source: cases.SourceResident, State: cases.Closed, WasOverdue: true, Rating: cases.Satisfied,
		Reporter: cases.Reporter{AccountID: "a1"},
		Tasks: []cases.Task{
			{UnitID: "lead", Role: cases.Lead, State: cases.TaskDone, SignedAt: at, Sign: late, Handle: late},
			{UnitID: "co", Role: cases.Co, State: cases.TaskDone, SignedAt: at, Sign: late, Handle: late},
		},
		Appeals: []cases.Appeal{
			{UnitID: "lead", Reason: "暴雨导致材料无法进场", State: cases.AppealApproved},
			{UnitID: "co", Reason: "人手不足，未能按时处置", State: cases.AppealRefused},
		},
	}
	got := map[string]Counts{}
	for _, f := range Facts(&c, nil, time.UTC) {
		got[string(f.Kind)+":"+f.Subject] = f.Counts
	}
	region := Counts{Reported: 1, Registered: 1, PublicVerified: 1, Rated: 1, Satisfied: 1, Exempted: 1}
	want := map[string]Counts{
		"grid:500103014010001":   region,
		"community:500103014010": region,
		"street:500103014":       region,
		"district:500103":        region,
		// The lead's task leaves the unit's rates; handled and rated stay.
		// (The case has no steps: no accept or close day.)
		"unit:lead": {Handled: 1, Rated: 1, Satisfied: 1, Exempted: 1},
		// The co-unit's appeal was refused: it counts as before.
		"unit:co":      {Dispatched: 1, Handled: 1, HandledLate: 1, DueHandle: 1, Closed: 1, DueClose: 1},
		"inspector:a1": {Reported: 1, Accepted: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("facts:\n got  %v\n want %v", got, want)
	}
	// Without the approval the same case counts late everywhere.
	c.Appeals[0].State = cases.AppealPendingApproval
	for _, f := range Facts(&c, nil, time.UTC) {
		if f.Counts[Exempted] != 0 {
			t.Fatalf("%s %s exempted by a pending appeal", f.Kind, f.Subject)
		}
		if f.Kind == District && (f.Counts[DueClose] != 1 || f.Counts[ClosedOnTime] != 0) {
			t.Fatalf("district %v", f.Counts)
		}
		if f.Kind == Unit && f.Subject == "lead" && !reflect.DeepEqual(f.Counts, Counts{Dispatched: 1, Handled: 1, HandledLate: 1, DueHandle: 1, Rated: 1, Satisfied: 1, Closed: 1, DueClose: 1}) {
			t.Fatalf("lead %v", f.Counts)
		}
	}
}
