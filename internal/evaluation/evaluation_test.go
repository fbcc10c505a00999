package evaluation

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
)

var shanghai = time.FixedZone("CST", 8*3600)

func TestParsePeriod(t *testing.T) {
	at := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, shanghai).UTC() }
	for _, tc := range []struct {
		in         string
		kind       PeriodKind
		start, end time.Time
		label      string
	}{
		{"2026-11-03", Day, at(2026, 11, 3), at(2026, 11, 4), "2026年11月3日"},
		{"2026-11", Month, at(2026, 11, 1), at(2026, 12, 1), "2026年11月"},
		{"2026-12", Month, at(2026, 12, 1), at(2027, 1, 1), "2026年12月"},
		{"2026-Q1", Quarter, at(2026, 1, 1), at(2026, 4, 1), "2026年第1季度"},
		{"2026-Q4", Quarter, at(2026, 10, 1), at(2027, 1, 1), "2026年第4季度"},
		{"2026", Year, at(2026, 1, 1), at(2027, 1, 1), "2026年"},
		// ISO weeks: 2026-01-01 is a Thursday, so week 1 starts on Monday 2025-12-29.
		{"2026-W01", Week, at(2025, 12, 29), at(2026, 1, 5), "2026年第1周"},
		{"2026-W53", Week, at(2026, 12, 28), at(2027, 1, 4), "2026年第53周"},
		{"2024-02-28~2024-03-01", Range, at(2024, 2, 28), at(2024, 3, 2), "2024年2月28日至2024年3月1日"},
	} {
		p, err := ParsePeriod(tc.in, shanghai)
		if err != nil || p.Kind != tc.kind || !p.Start.Equal(tc.start) || !p.End.Equal(tc.end) || p.Label != tc.label || p.Key != tc.in {
			t.Errorf("%s: %+v %v", tc.in, p, err)
		}
	}
	for _, bad := range []string{"", "2026-13", "2026-00", "2026-02-30", "2025-W53", "2026-W00", "2026-Q5", "26-11", "2026-11-05~2026-11-01",
		"2020-01-01~2026-01-01", "1999", "2026/11", "2026-11 "} {
		_, err := ParsePeriod(bad, shanghai)
		var e *apperr.Error
		if err == nil || !errorsAs(err, &e) || e.Fields[0].Field != "period" {
			t.Errorf("%q: %v, want a period field error", bad, err)
		}
	}
}

func errorsAs(err error, e **apperr.Error) bool {
	x, ok := err.(*apperr.Error)
	*e = x
	return ok
}

func TestPreviousAndTrend(t *testing.T) {
	for in, want := range map[string]string{
		"2026-01-01": "2025-12-31", "2026-W01": "2025-W52", "2026-01": "2025-12", "2026-Q1": "2025-Q4", "2026": "2025",
		"2026-03-01~2026-03-10": "2026-02-19~2026-02-28",
	} {
		p, _ := ParsePeriod(in, shanghai)
		prev, err := p.Previous(shanghai)
		if err != nil || prev.Key != want {
			t.Errorf("before %s: %q %v, want %s", in, prev.Key, err, want)
		}
	}
	p, _ := ParsePeriod("2026-11", shanghai)
	tr := p.Trend(12, shanghai)
	if len(tr) != 12 || tr[0].Key != "2025-12" || tr[11].Key != "2026-11" {
		t.Errorf("trend %v", tr)
	}
	first, _ := ParsePeriod("2000-02", shanghai)
	if got := first.Trend(12, shanghai); len(got) != 2 {
		t.Errorf("trend at the calendar's start: %d periods", len(got))
	}
}

// TestFormulas checks each indicator against hand-computed fixtures.
func TestFormulas(t *testing.T) {
	// A grid's month: 20 reported, 2 rejected, 1 merged while still
	// reported, 17 registered; of those, 12 closed (10 never overdue), 3 open
	// past due (they count against), 2 open not yet due (not counted).
	// 4 public reports registered; 3 solved on the spot; 8 rated, 7 satisfied.
	grid := Counts{Reported: 20, Rejected: 2, Registered: 17, Closed: 12, ClosedOnTime: 10, DueClose: 15,
		PublicVerified: 4, OnSpot: 3, Rated: 8, Satisfied: 7}
	// A unit: 10 tasks dispatched, 9 signed in time; 8 fed back (6 in time,
	// 2 late), 1 active past due, 1 closed unfinished → due to handle 10;
	// 1 reworked; 4 whistle summons: 2 on time, 1 late, 1 absent.
	unit := Counts{Dispatched: 10, SignedOnTime: 9, Handled: 8, HandledOnTime: 6, HandledLate: 2, DueHandle: 10, Reworked: 1,
		Summoned: 4, ReportInOnTime: 2, ReportInLate: 1, ReportInAbsent: 1, Rated: 5, Satisfied: 4, PartyRated: 3, PartySatisfied: 2}
	for _, tc := range []struct {
		code     string
		c        Counts
		num, den int
		points   float64
	}{
		{"on_time_close_rate", grid, 10, 15, 66.67},
		{"close_rate", grid, 12, 15, 80},
		{"public_report_rate", grid, 4, 17, 76.47}, // lower is better: 100 × (1 − 4/17)
		{"on_spot_rate", grid, 3, 20, 15},
		{"satisfaction_rate", grid, 7, 8, 87.5},
		{"handle_rate", unit, 8, 10, 80},
		{"on_time_handle_rate", unit, 6, 10, 60},
		{"late_handle_rate", unit, 2, 10, 80},
		{"rework_rate", unit, 1, 8, 87.5},
		{"response_rate", unit, 9, 10, 90},
		{"resolution_rate", unit, 6, 10, 60},
		{"report_in_rate", unit, 2, 4, 50}, // late and absent both count against
		{"party_satisfaction", unit, 2, 3, 66.67},
	} {
		ind, ok := IndicatorOf(tc.code)
		if !ok {
			t.Fatalf("no indicator %s", tc.code)
		}
		f := ind.Compute(tc.c)
		if f.Num != tc.num || f.Den != tc.den || !f.Defined || math.Abs(f.Points-tc.points) > 0.005 {
			t.Errorf("%s: %d/%d = %.2f points, want %d/%d = %.2f", tc.code, f.Num, f.Den, f.Points, tc.num, tc.den, tc.points)
		}
	}
	// Nothing to rate: undefined, never 0% or 100%.
	ind, _ := IndicatorOf("satisfaction_rate")
	if f := ind.Compute(Counts{Rated: 0, Satisfied: 0}); f.Defined || f.Points != 0 {
		t.Errorf("undefined figure %+v", f)
	}
	// A count above its base is clipped at 100%.
	if f := ind.Compute(Counts{Rated: 2, Satisfied: 3}); f.Rate != 1 {
		t.Errorf("clipped %+v", f)
	}
}

func TestScore(t *testing.T) {
	r := DefaultRules()
	if err := r.Validate(); err != nil {
		t.Fatalf("default rules: %v", err)
	}
	grid := Counts{Reported: 20, Registered: 17, Closed: 12, ClosedOnTime: 10, DueClose: 15, PublicVerified: 4, OnSpot: 3, Rated: 8, Satisfied: 7}
	s := r.Score(Grid, "500103014006009", "民乐村社区第九网格", grid)
	// 40% × 66.667 + 20% × 80 + 20% × 87.5 + 10% × 15 + 10% × 76.471
	want := 0.4*100*10/15 + 0.2*80 + 0.2*87.5 + 0.1*15 + 0.1*100*(1-4.0/17)
	if !s.Defined || math.Abs(s.Value-math.Round(want*100)/100) > 1e-9 || s.Grade != "C" || s.Work != 15 || s.Rules != 1 {
		t.Fatalf("score %+v, want %.2f C", s, want)
	}
	if len(s.Figures) != 6 || len(s.Parts) != 5 { // 督办件按期办结率 is a figure, not weighted
		t.Errorf("figures %d parts %d", len(s.Figures), len(s.Parts))
	}
	if e := s.Explain(); !strings.Contains(e, "按期结案率 10/15=66.7%，权重40%") || !strings.Contains(e, "C档") {
		t.Errorf("explanation: %s", e)
	}
	// No rated case: the satisfaction weight is shared out in proportion.
	g2 := Counts{}
	for k, v := range grid {
		g2[k] = v
	}
	g2[Rated], g2[Satisfied] = 0, 0
	s2 := r.Score(Grid, "g", "g", g2)
	want2 := (0.4*100*10/15 + 0.2*80 + 0.1*15 + 0.1*100*(1-4.0/17)) / 0.8
	if math.Abs(s2.Value-math.Round(want2*100)/100) > 1e-9 || s2.Parts[2].Defined || math.Abs(s2.Parts[0].Effective-50) > 1e-9 {
		t.Errorf("redistributed %+v, want %.2f", s2, want2)
	}
	if e := s2.Explain(); !strings.Contains(e, "满意率无可评价案件") {
		t.Errorf("explanation: %s", e)
	}
	// Nothing at all: undefined, not ranked.
	if s3 := r.Score(Grid, "g", "g", Counts{}); s3.Defined || s3.Grade != "—" {
		t.Errorf("empty %+v", s3)
	}
	for v, g := range map[float64]string{100: "A", 90: "A", 89.99: "B", 75: "B", 60: "C", 59.99: "D", 40: "D", 39.99: "E", 0: "E"} {
		if r.Grade(v) != g {
			t.Errorf("grade of %g: %s, want %s", v, r.Grade(v), g)
		}
	}
}

func TestRulesValidate(t *testing.T) {
	base := DefaultRules()
	for _, tc := range []struct {
		name  string
		edit  func(r *Rules)
		field string
	}{
		{"sum not 100", func(r *Rules) { r.Weights[Unit] = []Weight{{"response_rate", 30}, {"resolution_rate", 35}} }, "weights.unit"},
		{"unknown indicator", func(r *Rules) { r.Weights[Unit] = []Weight{{"speed", 100}} }, "weights.unit[0]"},
		{"indicator of another kind", func(r *Rules) { r.Weights[Grid] = []Weight{{"response_rate", 100}} }, "weights.grid[0]"},
		{"repeated", func(r *Rules) { r.Weights[Unit] = []Weight{{"response_rate", 50}, {"response_rate", 50}} }, "weights.unit[1]"},
		{"zero weight", func(r *Rules) { r.Weights[Unit] = []Weight{{"response_rate", 100}, {"resolution_rate", 0}} }, "weights.unit[1]"},
		{"bands up", func(r *Rules) { r.Bands = []Band{{"A", 60}, {"B", 75}, {"E", 0}} }, "bands[1]"},
		{"bands not to 0", func(r *Rules) { r.Bands = []Band{{"A", 90}, {"B", 75}} }, "bands"},
		{"version", func(r *Rules) { r.Version = 0 }, "version"},
	} {
		r := DefaultRules()
		r.Weights = map[SubjectKind][]Weight{}
		for k, v := range base.Weights {
			r.Weights[k] = v
		}
		tc.edit(&r)
		err := r.Validate()
		e, ok := err.(*apperr.Error)
		if !ok || !containsField(e, tc.field) {
			t.Errorf("%s: %v, want field %s", tc.name, err, tc.field)
		}
	}
}

func containsField(e *apperr.Error, f string) bool {
	for _, x := range e.Fields {
		if x.Field == f {
			return true
		}
	}
	return false
}

func TestBookInForce(t *testing.T) {
	v1 := DefaultRules()
	v2 := DefaultRules()
	v2.Version, v2.EffectiveFrom = 2, time.Date(2026, 10, 1, 0, 0, 0, 0, shanghai)
	b := Book{v2, v1}
	if got := b.InForce(time.Date(2026, 9, 30, 23, 0, 0, 0, shanghai)); got.Version != 1 {
		t.Errorf("last quarter: version %d", got.Version)
	}
	if got := b.InForce(time.Date(2026, 10, 1, 0, 0, 0, 0, shanghai)); got.Version != 2 {
		t.Errorf("this quarter: version %d", got.Version)
	}
}

func TestRank(t *testing.T) {
	mk := func(code string, v float64, work int, defined bool) Score {
		return Score{Subject: code, Value: v, Work: work, Defined: defined}
	}
	scores := []Score{
		mk("g5", 80, 10, true),
		mk("g1", 90, 5, true),
		mk("g2", 90, 12, true), // same score, more work: first
		mk("g3", 80, 10, true), // same score and work as g5: shares the place, code order
		mk("g4", 99, 2, true),  // too little work: not ranked
		mk("g6", 0, 0, false),  // nothing to rate
		mk("g7", 70, 30, true),
	}
	got := Rank(scores, 5)
	var order []string
	var ranks []int
	for _, r := range got {
		order = append(order, r.Subject)
		ranks = append(ranks, r.Rank)
	}
	if strings.Join(order, ",") != "g2,g1,g3,g5,g7,g4,g6" || fmt.Sprint(ranks) != "[1 2 3 3 5 0 0]" {
		t.Fatalf("order %v ranks %v", order, ranks)
	}
	top := Top(got, 3)
	if len(top) != 4 { // the tie at third place brings both in
		t.Errorf("top 3: %d", len(top))
	}
}
