package evaluation

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestBriefOrder: ordering briefs (a ranking without making every
// subject's figures) places every subject exactly as Rank and RankBy place
// the full scores, by the composite and by each indicator of the kind, with
// ties (few distinct counts) and subjects below MinWork; TopN cuts where
// Top does.
func TestBriefOrder(t *testing.T) {
	r := DefaultRules()
	rng := rand.New(rand.NewSource(5))
	for _, kind := range []SubjectKind{Grid, Unit, Inspector, Dispatcher} {
		ms := r.ScoreMeasures(kind)
		n := 600
		tab := &Table{Measures: ms}
		for i := 0; i < n; i++ {
			tab.Subjects = append(tab.Subjects, fmt.Sprintf("%s%04d", kind, rng.Intn(100000)))
			for range ms {
				tab.Vals = append(tab.Vals, rng.Intn(4)*rng.Intn(3))
			}
		}
		sc := r.Scorer(kind, ms)
		scores := make([]Score, n)
		for i := range n {
			scores[i] = sc.Score(tab.Subjects[i], "", tab.Row(i))
		}
		bys := []string{"", ScoreIndicator}
		for _, ind := range indicatorsFor(kind) {
			bys = append(bys, ind.Code)
		}
		for _, by := range bys {
			want, err := RankBy(scores, kind, by, r.MinWork)
			if err != nil {
				t.Fatal(err)
			}
			key, err := sc.RankKey(by)
			if err != nil {
				t.Fatal(err)
			}
			briefs := make([]Brief, n)
			for i := range n {
				briefs[i] = sc.Brief(tab.Subjects[i], tab.Row(i), key)
				briefs[i].Row = i
				if s := scores[i]; briefs[i].Value != s.Value || briefs[i].Work != s.Work {
					t.Fatalf("%s %s row %d: brief %+v, score %v work %d", kind, by, i, briefs[i], s.Value, s.Work)
				}
			}
			Order(briefs)
			ties, ranked := 0, 0
			for k, b := range briefs {
				w := want[k]
				if b.Subject != w.Subject || b.Rank != w.Rank || b.Value != w.Value {
					t.Fatalf("%s by %q place %d: brief %s rank %d (%v), want %s rank %d (%v)", kind, by, k, b.Subject, b.Rank, b.Value, w.Subject, w.Rank, w.Value)
				}
				if k > 0 && b.Rank > 0 && b.Rank == briefs[k-1].Rank {
					ties++
				}
				if b.Rank > 0 {
					ranked++
				}
			}
			if by == "" && (ties == 0 || ranked == 0 || ranked == n) {
				t.Fatalf("%s: the fixture has %d ties and %d of %d ranked: it tests too little", kind, ties, ranked, n)
			}
			for _, top := range []int{1, 3, 10, n} {
				if got, want := TopN(briefs, top), len(Top(want, top)); got != want {
					t.Errorf("%s by %q: TopN(%d) = %d, Top kept %d", kind, by, top, got, want)
				}
			}
		}
		if _, err := sc.RankKey("no_such"); err == nil {
			t.Errorf("%s: an unknown indicator was accepted", kind)
		}
	}
	if _, err := r.Scorer(Grid, nil).RankKey("response_rate"); err == nil {
		t.Errorf("grid by a unit's indicator was accepted")
	}
}
