package evaluation

import (
	"math/rand"
	"reflect"
	"testing"
)

// TestScorerTable: scores read from a table (counts in a layout of their
// own, some measures missing, more rows than a block holds) equal
// Rules.Score on each row's counts as a map, and a score's figures are not
// overwritten by the scores after it.
func TestScorerTable(t *testing.T) {
	r := DefaultRules()
	rng := rand.New(rand.NewSource(11))
	for _, kind := range []SubjectKind{Grid, Street, Unit, Inspector, ShiftLead, Dispatcher, Intake} {
		// The kind's measures in reverse order, the first one left out
		// (it reads as 0), plus one no indicator of the kind reads.
		need := MeasuresFor(kind)
		var layout []Measure
		for i := len(need) - 1; i >= 1; i-- {
			layout = append(layout, need[i])
		}
		for _, m := range RollupMeasures {
			if posOf(need, m) < 0 {
				layout = append(layout, m)
				break
			}
		}
		n := scorerBlock + 37
		tab := &Table{Measures: layout}
		for i := 0; i < n; i++ {
			tab.Subjects = append(tab.Subjects, string(kind)+string(rune('a'+i%26))+string(rune('a'+i/26%26)))
			for range layout {
				v := rng.Intn(12)
				if rng.Intn(5) == 0 {
					v = 0
				}
				tab.Vals = append(tab.Vals, v)
			}
		}
		sc := r.Scorer(kind, tab.Measures)
		got := make([]Score, n)
		for i := range n {
			got[i] = sc.Score(tab.Subjects[i], "名", tab.Row(i))
		}
		for i := range n {
			c := tab.Counts(i)
			want := r.Score(kind, tab.Subjects[i], "名", c)
			if !reflect.DeepEqual(got[i], want) {
				t.Fatalf("%s row %d (%v):\n got %+v\nwant %+v", kind, i, c, got[i], want)
			}
		}
		if len(got[0].Figures) == 0 || len(got[0].Parts) == 0 {
			t.Fatalf("%s: no figures or parts", kind)
		}
	}
	// Scoring from the measures ScoreMeasures names alone gives the same
	// score as from every measure.
	all := Counts{}
	for i, m := range RollupMeasures {
		all[m] = 3 + i%5
	}
	for _, kind := range []SubjectKind{Grid, Unit, Inspector, Dispatcher} {
		ms := r.ScoreMeasures(kind)
		row := make([]int, len(ms))
		for i, m := range ms {
			row[i] = all[m]
		}
		if got, want := r.Scorer(kind, ms).Score("s", "s", row), r.Score(kind, "s", "s", all); !reflect.DeepEqual(got, want) || !want.Defined {
			t.Errorf("%s from %v:\n got %+v\nwant %+v", kind, ms, got, want)
		}
		if len(ms) >= len(MeasuresFor(kind)) && kind == Grid {
			t.Errorf("%s: ScoreMeasures %v, no fewer than MeasuresFor", kind, ms)
		}
	}
	// A missing measure counts 0: the figure of a denominator not in the
	// layout is undefined.
	tab := &Table{Measures: []Measure{Closed, ClosedOnTime}, Subjects: []string{"g"}, Vals: []int{3, 2}}
	s := r.Scorer(Grid, tab.Measures).Score("g", "g", tab.Row(0))
	if s.Defined || s.Grade != "—" {
		t.Errorf("no denominators: %+v", s)
	}
	if p := tab.Pos(DueClose); p != -1 {
		t.Errorf("Pos of an absent measure: %d", p)
	}
	if c := tab.Counts(0); !reflect.DeepEqual(c, Counts{Closed: 3, ClosedOnTime: 2}) {
		t.Errorf("Counts %v", c)
	}
}
