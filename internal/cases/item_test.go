package cases_test

import (
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// TestItemClocksAgreeWithCase: a listed case's countdown, computed from
// the clocks kept with its item, is the one the whole case gives (the
// headline clock's first due and colour, Overdue) in every state of the
// standard story and at moments before, inside and after its yellow and red
// points.
func TestItemClocksAgreeWithCase(t *testing.T) {
	fedBack, _ := reach(t, cases.FedBack)
	for _, st := range []cases.State{cases.Held, cases.Reported, cases.Accepted, cases.Dispatched, cases.Handling,
		cases.Parked, cases.FedBack, cases.Closed, cases.Rejected, cases.Merged} {
		c, last := reach(t, st)
		if st == cases.FedBack {
			c = fedBack
		}
		_, ck := cases.ItemOf(&c)
		for _, d := range []time.Duration{0, 10 * time.Minute, time.Hour, 2 * time.Hour, 5 * time.Hour, 30 * time.Hour, 10 * 24 * time.Hour} {
			now := last.Add(d)
			var due time.Time
			var want sla.Status
			for _, rc := range c.HeadlineClocks() {
				if due.IsZero() || rc.Clock.Due.Before(due) {
					due, want = rc.Clock.Due, rc.Clock.Status(now)
				}
			}
			if got := ck.Status(now); got != want || !ck.Due.Equal(due) {
				t.Errorf("%s +%s: item clock %s due %s, case %s due %s", st, d, got, ck.Due, want, due)
			}
			if got, want := ck.Overdue(now), c.Overdue(now); got != want {
				t.Errorf("%s +%s: item overdue %v, case %v", st, d, got, want)
			}
		}
	}
	// While the case waits for verification the co-unit's sign clock runs
	// (due 11:10) but is not the headline; it still makes the case overdue.
	_, ck := cases.ItemOf(&fedBack)
	if strings.HasPrefix(ck.Key, "task:") || ck.FirstDue.Equal(ck.Due) {
		t.Errorf("fed back: headline %s due %s, first due %s; want the verify clock as headline and the co-unit's sign clock first", ck.Key, ck.Due, ck.FirstDue)
	}
}

// TestItemOf: the item carries what a row shows, taken from the case.
func TestItemOf(t *testing.T) {
	c, _ := reach(t, cases.Handling)
	c.Description = "人行道路面塌陷\n约半米见方，" + strings.Repeat("积水", 60)
	c.Supervised, c.Urges = true, 2
	it, ck := cases.ItemOf(&c)
	if it.ID != c.ID || it.Number != c.Number || it.Version != c.Version || it.State != cases.Handling || it.Stage != c.Stage ||
		it.Category != c.Category || it.Severity != c.Severity || it.RegionPath != gridPath || it.CenterPath != streetPath ||
		it.GridCode != gridCode || it.Address != c.Address || *it.Point != *c.Point || !it.ReportedAt.Equal(c.ReportedAt) ||
		!it.UpdatedAt.Equal(c.UpdatedAt) || it.PhotoCount != 1 || !it.Supervised || it.Urges != 2 || it.Whistled {
		t.Errorf("item %+v of case %+v", it, c)
	}
	if len(it.Tasks) != 2 || it.Tasks[0] != (cases.ItemTask{UnitID: leadID, Role: cases.Lead, State: cases.TaskSigned}) ||
		it.Tasks[1].UnitID != coID || it.Tasks[1].State != cases.TaskDispatched {
		t.Errorf("tasks %+v", it.Tasks)
	}
	if r := []rune(it.Summary); len(r) != cases.SummaryRunes || r[len(r)-1] != '…' || strings.Contains(it.Summary, "\n") ||
		!strings.HasPrefix(it.Summary, "人行道路面塌陷 约半米见方") {
		t.Errorf("summary %q (%d characters)", it.Summary, len(r))
	}
	if ck.Key == "" || ck.Due.IsZero() || ck.YellowAt.IsZero() {
		t.Errorf("clocks %+v", ck)
	}
	w, _ := reachWhistled(t, cases.Handling)
	if it, _ := cases.ItemOf(&w); !it.Whistled {
		t.Error("a whistled case's item is not whistled")
	}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 5, ""},
		{"  路灯不亮  ", 5, "路灯不亮"},
		{"路灯不亮了", 5, "路灯不亮了"},
		{"路灯不亮了吗", 5, "路灯不亮…"},
		{"路灯\n不亮\t了", 10, "路灯 不亮 了"},
		{"ab cdef", 4, "ab…"},
	} {
		if got := cases.Summarize(tc.in, tc.n); got != tc.want {
			t.Errorf("Summarize(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
