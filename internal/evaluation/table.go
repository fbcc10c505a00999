package evaluation

import "math"

// Table holds the counts of many subjects of one kind densely, as the
// store reads a period's rollups: the counts of Subjects[i] are
// Vals[i*len(Measures) : (i+1)*len(Measures)], one per measure of Measures.
// Scoring a city's 62,000 grids from a table (Scorer) costs a few
// allocations, where a Counts map per subject cost 62,000 maps.
type Table struct {
	Measures []Measure
	Subjects []string
	Vals     []int
}

// Len is the number of subjects.
func (t *Table) Len() int { return len(t.Subjects) }

// Row is the counts of subject i, in Measures' order.
func (t *Table) Row(i int) []int {
	m := len(t.Measures)
	return t.Vals[i*m : (i+1)*m : (i+1)*m]
}

// Pos is the position of a measure in Measures, -1 when the table lacks it
// (its count reads as 0).
func (t *Table) Pos(m Measure) int { return posOf(t.Measures, m) }

func posOf(measures []Measure, m Measure) int {
	for i, x := range measures {
		if x == m {
			return i
		}
	}
	return -1
}

// Counts is subject i's counts as a map (the measures with a non-zero count).
func (t *Table) Counts(i int) Counts {
	c := Counts{}
	for j, v := range t.Row(i) {
		if v != 0 {
			c[t.Measures[j]] = v
		}
	}
	return c
}

// figure computes an indicator from its numerator and denominator.
func (i Indicator) figure(num, den int) Figure {
	f := Figure{Indicator: i.Code, Name: i.Name, Num: num, Den: den}
	if f.Den <= 0 {
		return f
	}
	f.Defined = true
	f.Rate = math.Min(float64(max(f.Num, 0))/float64(f.Den), 1)
	f.Points = 100 * f.Rate
	if i.LowerBetter {
		f.Points = 100 * (1 - f.Rate)
	}
	return f
}

// Scorer scores many subjects of one kind whose counts come in one layout
// (a Table's measures): the positions of every indicator's numerator and
// denominator are found once, and the scores' figures and parts are cut
// from shared blocks. Its scores equal Rules.Score's on the same counts.
type Scorer struct {
	rules    Rules
	kind     SubjectKind
	applying []Indicator
	appPos   [][2]int // numerator and denominator positions of applying (-1: absent)
	weighted []weighted
	figs     []Figure // the next scores' Figures, cut from one block
	parts    []Part   // … and Parts
	block    int      // scores a block holds
	measures []Measure
	scratch  []Part // Brief's parts
}

type weighted struct {
	ind    Indicator
	weight float64
	pos    [2]int
}

// scorerBlock is how many scores' figures and parts one block holds.
const scorerBlock = 1024

// Scorer prepares scoring subjects of kind whose counts are given in the
// order of measures (a measure not listed counts 0). A weight naming no
// indicator is left out, as Score does.
func (r Rules) Scorer(kind SubjectKind, measures []Measure) *Scorer {
	return r.scorer(kind, measures, scorerBlock)
}

func (r Rules) scorer(kind SubjectKind, measures []Measure, block int) *Scorer {
	s := &Scorer{rules: r, kind: kind, applying: indicatorsFor(kind), block: block, measures: measures}
	s.appPos = make([][2]int, len(s.applying))
	for i, ind := range s.applying {
		s.appPos[i] = [2]int{posOf(measures, ind.Num), posOf(measures, ind.Den)}
	}
	for _, w := range r.Weights[kind] {
		ind, ok := IndicatorOf(w.Indicator)
		if !ok {
			continue
		}
		s.weighted = append(s.weighted, weighted{ind, w.Weight, [2]int{posOf(measures, ind.Num), posOf(measures, ind.Den)}})
	}
	return s
}

func at(row []int, p int) int {
	if p < 0 {
		return 0
	}
	return row[p]
}

// Score computes a subject's composite score from its counts in the
// Scorer's layout (Rules.Score explains the computation). The score's
// Figures and Parts share blocks with other scores of this Scorer: they must
// not be appended to.
func (s *Scorer) Score(subject, name string, row []int) Score {
	sc := Score{Kind: s.kind, Subject: subject, Name: name, Rules: s.rules.Version}
	na, nw := len(s.applying), len(s.weighted)
	if len(s.figs) < na {
		s.figs = make([]Figure, na*s.block)
	}
	if len(s.parts) < nw {
		s.parts = make([]Part, nw*s.block)
	}
	sc.Figures, s.figs = s.figs[:na:na], s.figs[na:]
	for i, ind := range s.applying {
		sc.Figures[i] = ind.figure(at(row, s.appPos[i][0]), at(row, s.appPos[i][1]))
	}
	sc.Parts, s.parts = s.parts[:nw:nw], s.parts[nw:]
	var defined bool
	sc.Value, sc.Work, defined = s.fill(row, sc.Parts)
	if !defined {
		sc.Grade = "—"
		return sc
	}
	sc.Defined = true
	sc.Grade = s.rules.Grade(sc.Value)
	return sc
}

// fill computes the weighted parts of a score from its counts into parts
// (len(s.weighted) of them), and returns the composite value (two
// decimals), the work (the first weighted indicator's denominator) and
// whether any weighted indicator had something to rate. Score and Brief
// both compute through it.
func (s *Scorer) fill(row []int, parts []Part) (value float64, work int, defined bool) {
	weight := 0.0
	for i, w := range s.weighted {
		fig := w.ind.figure(at(row, w.pos[0]), at(row, w.pos[1]))
		if i == 0 {
			work = fig.Den
		}
		parts[i] = Part{Figure: fig, Weight: w.weight}
		if fig.Defined {
			weight += w.weight
		}
	}
	if weight == 0 {
		return 0, work, false
	}
	total := 0.0
	for i := range parts {
		p := &parts[i]
		if !p.Defined {
			continue
		}
		p.Effective = p.Weight * 100 / weight
		p.Contributed = p.Points * p.Effective / 100
		total += p.Contributed
	}
	return math.Round(total*100) / 100, work, true
}

// ScoreMeasures are the measures Score reads for a kind under these rules:
// the numerators and denominators of the kind's indicators and of any other
// indicator a weight names, each once, in RollupMeasures' order (what a
// ranking reads from the rollups; MeasuresFor adds the board's).
func (r Rules) ScoreMeasures(k SubjectKind) []Measure {
	need := map[Measure]bool{}
	for _, i := range indicatorsFor(k) {
		need[i.Num], need[i.Den] = true, true
	}
	for _, w := range r.Weights[k] {
		if i, ok := IndicatorOf(w.Indicator); ok {
			need[i.Num], need[i.Den] = true, true
		}
	}
	var out []Measure
	for _, m := range RollupMeasures {
		if need[m] {
			out = append(out, m)
		}
	}
	return out
}
