package evaluation

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/apperr"
)

// Weight is one indicator's share of a composite score, in percent.
type Weight struct {
	Indicator string  `json:"indicator"`
	Weight    float64 `json:"weight"`
}

// Band is a grade and the lowest score that earns it.
type Band struct {
	Grade string  `json:"grade"`
	Min   float64 `json:"min"`
}

// Rules are one version of the evaluation's policy: the weights of each
// subject kind's composite score, the grade bands, and the fewest cases a
// subject must have had to be ranked. A rule set is in force from its
// EffectiveFrom until the next version's; a period is scored with the rules
// in force at its start, and a score names the version that made it.
type Rules struct {
	Version       int                      `json:"version"`
	EffectiveFrom time.Time                `json:"effective_from"`
	Weights       map[SubjectKind][]Weight `json:"weights"`
	Bands         []Band                   `json:"bands"`
	MinWork       int                      `json:"min_work"` // fewer cases than this in the period: scored, not ranked
	Note          string                   `json:"note,omitempty"`
}

// DefaultRules are the shipped policy (editable data, domain.md §2):
// inspectors 40/20/20/20, shift leads 25/40/35, dispatchers 20/40/40, units
// by the 12345 three rates and the whistle report-in 25/30/30/15 (a unit
// never summoned is scored on the three rates alone, about 29/35/35; S9:
// late or absent report-ins count against a unit); regions by on-time closing, closing,
// satisfaction and solving on the spot; bands A ≥ 90, B ≥ 75, C ≥ 60,
// D ≥ 40, E below.
func DefaultRules() Rules {
	region := []Weight{{"on_time_close_rate", 40}, {"close_rate", 20}, {"satisfaction_rate", 20}, {"on_spot_rate", 10}, {"public_report_rate", 10}}
	w := map[SubjectKind][]Weight{
		Unit:       {{"response_rate", 25}, {"resolution_rate", 30}, {"satisfaction_rate", 30}, {"report_in_rate", 15}},
		Inspector:  {{"valid_report_rate", 40}, {"on_time_verify_rate", 20}, {"inspector_on_spot_rate", 20}, {"report_in_rate", 20}},
		Intake:     {{"on_time_register_rate", 50}, {"accurate_register_rate", 50}},
		ShiftLead:  {{"on_time_register_rate", 25}, {"accurate_register_rate", 40}, {"on_time_closing_rate", 35}},
		Dispatcher: {{"on_time_dispatch_rate", 20}, {"accurate_dispatch_rate", 40}, {"on_time_close_rate", 40}},
	}
	for _, k := range Regions {
		w[k] = region
	}
	return Rules{Version: 1, Weights: w, MinWork: 5,
		Bands: []Band{{"A", 90}, {"B", 75}, {"C", 60}, {"D", 40}, {"E", 0}}}
}

// Validate checks a rule set: every subject kind's weights name indicators
// that apply to it, are positive and add up to 100; bands descend and end at 0.
func (r Rules) Validate() error {
	var f apperr.Fields
	if r.Version < 1 {
		f.Add("version", "版本号应为正整数")
	}
	kinds := make([]string, 0, len(r.Weights))
	for k := range r.Weights {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, ks := range kinds {
		k := SubjectKind(ks)
		sum := 0.0
		seen := map[string]bool{}
		for i, w := range r.Weights[k] {
			field := fmt.Sprintf("weights.%s[%d]", k, i)
			ind, ok := IndicatorOf(w.Indicator)
			switch {
			case !ok:
				f.Add(field, "指标“"+w.Indicator+"”不存在")
			case !ind.Applies(k):
				f.Addf(field, "指标“%s”不用于%s", ind.Name, k.Label())
			case seen[w.Indicator]:
				f.Addf(field, "指标“%s”重复", ind.Name)
			case w.Weight <= 0 || math.IsNaN(w.Weight):
				f.Add(field, "权重应大于0")
			}
			seen[w.Indicator] = true
			sum += w.Weight
		}
		if math.Abs(sum-100) > 1e-6 {
			f.Addf("weights."+ks, "%s各项权重之和应为100，现为%g", k.Label(), sum)
		}
	}
	if len(r.Bands) == 0 || r.Bands[len(r.Bands)-1].Min != 0 {
		f.Add("bands", "等级须从高到低排列，最后一档下限为0")
	}
	for i := 1; i < len(r.Bands); i++ {
		if r.Bands[i].Min >= r.Bands[i-1].Min || r.Bands[i].Grade == "" {
			f.Add(fmt.Sprintf("bands[%d]", i), "等级须从高到低排列，下限逐档递减")
		}
	}
	if r.MinWork < 0 {
		f.Add("min_work", "最少案件数不能为负")
	}
	return f.Err()
}

// Book holds every version of the rules.
type Book []Rules

// InForce returns the rules in force at t: the version with the latest
// EffectiveFrom not after t (the first version if t is before them all).
func (b Book) InForce(t time.Time) Rules {
	if len(b) == 0 {
		return DefaultRules()
	}
	best := b[0]
	for _, r := range b {
		if !r.EffectiveFrom.After(t) && (best.EffectiveFrom.After(t) || r.EffectiveFrom.After(best.EffectiveFrom)) {
			best = r
		}
	}
	return best
}

// Part is one weighted indicator of a score, with what it contributed.
type Part struct {
	Figure
	Weight      float64 `json:"weight"`      // as configured, percent
	Effective   float64 `json:"effective"`   // after undefined indicators' weight was shared out
	Contributed float64 `json:"contributed"` // Figure.Points × Effective ÷ 100
}

// Score is a subject's composite score for a period, explained: the
// figures behind it with their numerators and denominators, the weights, and
// the rules version that made it.
type Score struct {
	Kind    SubjectKind `json:"kind"`
	Subject string      `json:"subject"` // a region code, a unit ID or an account ID
	Name    string      `json:"name"`
	Period  string      `json:"period"`
	Rules   int         `json:"rules_version"`
	Value   float64     `json:"score"` // 0..100, two decimals
	Grade   string      `json:"grade"`
	Defined bool        `json:"defined"` // false when no weighted indicator had anything to rate
	Work    int         `json:"work"`    // the cases (or tasks) behind the score: the first weighted indicator's denominator
	Parts   []Part      `json:"parts"`
	Figures []Figure    `json:"figures"` // every indicator of the kind, weighted or not
}

// Score computes a subject's composite score from its counts. An indicator
// with nothing to rate (a zero denominator) is left out and its weight is
// shared among the others in proportion, so a grid with no rated case is
// not punished for it; with nothing to rate at all the score is undefined.
func (r Rules) Score(kind SubjectKind, subject, name string, c Counts) Score {
	// One scorer of one score, in the layout of the measures c holds: the
	// same computation as a whole table's (Scorer).
	measures := make([]Measure, 0, len(c))
	row := make([]int, 0, len(c))
	for m, v := range c {
		measures, row = append(measures, m), append(row, v)
	}
	return r.scorer(kind, measures, 1).Score(subject, name, row)
}

// Grade returns the band of a score.
func (r Rules) Grade(v float64) string {
	for _, b := range r.Bands {
		if v >= b.Min {
			return b.Grade
		}
	}
	return "E"
}

// Ranked is a score with its place. Rank is 0 for a subject that is not
// ranked: an undefined score, or fewer cases than the rules' MinWork.
type Ranked struct {
	Rank int `json:"rank"`
	Score
}

// TieBreak is the documented order of equal scores.
const TieBreak = "得分相同时，案件量（首项指标的分母）多者在前；再相同按编码升序。"

// Rank orders scores: ranked subjects first by score (higher first), ties
// broken by work (more cases first), then by subject code; equal score and
// work share a place (1, 2, 2, 4). Subjects that are not ranked follow, by
// code.
func Rank(scores []Score, minWork int) []Ranked {
	briefs := make([]Brief, len(scores))
	for i := range scores {
		sc := &scores[i]
		briefs[i] = Brief{Row: i, Subject: sc.Subject, Value: sc.Value, Work: sc.Work, Key: sc.Value, Eligible: sc.Defined && sc.Work >= minWork}
	}
	return placed(scores, briefs)
}

// placed orders briefs made from scores (Row: the score's index) and
// returns the scores in that order with their places.
func placed(scores []Score, briefs []Brief) []Ranked {
	Order(briefs)
	out := make([]Ranked, len(briefs))
	for k, b := range briefs {
		out[k] = Ranked{Rank: b.Rank, Score: scores[b.Row]}
	}
	return out
}

// Top returns the first n ranked subjects (十佳网格: Top(…, 10)); a tie at
// the n-th place brings in every subject sharing it.
func Top(ranked []Ranked, n int) []Ranked {
	var out []Ranked
	for _, r := range ranked {
		if r.Rank == 0 || (r.Rank > n) {
			break
		}
		out = append(out, r)
	}
	return out
}

// Explain writes a score as a person would read it, in Chinese.
func (s Score) Explain() string {
	if !s.Defined {
		return fmt.Sprintf("%s在%s没有可评价的案件。", s.Name, s.Period)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s综合得分%.2f（%s档，评价规则第%d版）：", s.Name, s.Period, s.Value, s.Grade, s.Rules)
	parts := slices.Clone(s.Parts)
	for i, p := range parts {
		if i > 0 {
			b.WriteString("；")
		}
		if !p.Defined {
			fmt.Fprintf(&b, "%s无可评价案件（权重%g%%分给其他指标）", p.Name, p.Weight)
			continue
		}
		fmt.Fprintf(&b, "%s %d/%d=%.1f%%，权重%g%%（折算%.1f%%），得%.2f分", p.Name, p.Num, p.Den, 100*p.Rate, p.Weight, p.Effective, p.Contributed)
	}
	b.WriteString("。")
	return b.String()
}
