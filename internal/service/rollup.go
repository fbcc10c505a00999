package service

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/id"
	"zhizhi/internal/store"
)

// The rollups (issue 11) are per-subject daily counts of the evaluation's
// measures, kept off the intake path: the sweeper rolls the cases whose
// timelines grew since a watermark (a step ID kept in settings) into them,
// and they can be rebuilt from the cases at any time.
const (
	rollupWatermark = RollupWatermark
	// RollupLag is how far behind now the rollups read the steps: a step is
	// rolled once its ID is this old, so a transaction that took its step ID
	// and committed a little later is not stepped over.
	RollupLag  = 10 * time.Second
	rollupPage = 1000 // steps read at a time
)

// RollupWatermark is the setting holding the last step rolled up (a bulk
// load that writes the rollups itself sets it).
const RollupWatermark = "rollup_watermark"

// Roll brings the rollups up to date with the cases changed by steps after
// the watermark and up to now − RollupLag, a page of steps at a time; each
// page's cases and the new watermark are written in one transaction.
// Applying a case's facts again is harmless, so a page read twice does no
// harm. With no watermark yet (a new installation or an upgrade) it
// rebuilds. It returns how many cases it rolled.
func (s *Service) Roll(ctx context.Context, now time.Time) (int, error) {
	var wm string
	if err := s.db.Setting(ctx, rollupWatermark, &wm); errors.Is(err, store.ErrNotFound) {
		return s.RebuildRollups(ctx)
	} else if err != nil {
		return 0, err
	}
	upto := id.Last(now.Add(-RollupLag))
	loc := s.Calendar().Location()
	rolled := 0
	for {
		ids, last, err := s.db.ChangedCases(ctx, wm, upto, rollupPage)
		if err != nil || last == "" {
			return rolled, err
		}
		err = s.db.Write(ctx, func(tx *store.Tx) error {
			if err := rollPage(ctx, tx, ids, loc); err != nil {
				return err
			}
			return tx.PutSetting(ctx, rollupWatermark, last)
		})
		if err != nil {
			return rolled, err
		}
		rolled += len(ids)
		wm = last
	}
}

// rollPage applies, under the rollups' lock, the current facts of a page of
// cases together (store.Tx.ApplyFacts); a case that is gone is passed.
func rollPage(ctx context.Context, tx *store.Tx, ids []string, loc *time.Location) error {
	if err := tx.LockRollups(ctx); err != nil {
		return err
	}
	all := make([]store.CaseFacts, 0, len(ids))
	for _, cid := range ids {
		cf, ok, err := caseFacts(ctx, tx, cid, loc)
		if err != nil {
			return err
		}
		if ok {
			all = append(all, cf)
		}
	}
	return tx.ApplyFacts(ctx, all...)
}

// caseFacts are the current facts of one case, read from its document and
// its timeline in the write transaction; ok is false for a case that is
// gone.
func caseFacts(ctx context.Context, tx *store.Tx, caseID string, loc *time.Location) (store.CaseFacts, bool, error) {
	c, err := tx.Case(ctx, caseID)
	if errors.Is(err, store.ErrNotFound) {
		return store.CaseFacts{}, false, nil
	}
	if err != nil {
		return store.CaseFacts{}, false, err
	}
	steps, err := tx.Steps(ctx, caseID)
	if err != nil {
		return store.CaseFacts{}, false, err
	}
	return store.CaseFacts{CaseID: caseID, Facts: evaluation.Facts(&c, steps, loc)}, true, nil
}

// RebuildRollups empties the rollups and applies the facts of every case
// again, a page of cases per transaction, then counts the overdue gauge
// again (store.RebuildGauge). The watermark becomes the newest step at the
// start, but no later than the start − RollupLag: steps committed while it
// ran are rolled again by the next Roll. It returns how many cases it
// applied. Readers see partial counts while it runs.
func (s *Service) RebuildRollups(ctx context.Context) (int, error) {
	start := s.Now()
	last, err := s.db.LastStepID(ctx)
	if err != nil {
		return 0, err
	}
	if bound := id.Last(start.Add(-RollupLag)); last > bound {
		last = bound
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.LockRollups(ctx); err != nil {
			return err
		}
		if err := tx.ClearRollups(ctx); err != nil {
			return err
		}
		return tx.PutSetting(ctx, rollupWatermark, last)
	}); err != nil {
		return 0, err
	}
	loc := s.Calendar().Location()
	f := store.CaseFilter{Scope: store.Scope{All: true}, Limit: store.MaxPage}
	applied := 0
	for {
		list, err := s.db.Cases(ctx, f)
		if err != nil {
			return applied, err
		}
		// Each case is read again in the write transaction, under the
		// rollups' lock: a node rolling meanwhile may have applied a newer
		// version than the listing's, which must not be overwritten.
		err = s.db.Write(ctx, func(tx *store.Tx) error {
			ids := make([]string, len(list))
			for i := range list {
				ids[i] = list[i].ID
			}
			return rollPage(ctx, tx, ids, loc)
		})
		if err != nil {
			return applied, err
		}
		applied += len(list)
		// Not len(list) < f.Limit: the listing returns at most 500 rows
		// whatever the limit asked.
		if len(list) == 0 {
			// The overdue gauge is counted again from the cases too.
			return applied, s.db.RebuildGauge(ctx)
		}
		f.After = list[len(list)-1].ID
	}
}

// evaluationKinds are the subject kinds Evaluate ranks.
var evaluationKinds = []evaluation.SubjectKind{
	evaluation.Grid, evaluation.Community, evaluation.Street, evaluation.District, evaluation.Unit,
	evaluation.Inspector, evaluation.Intake, evaluation.ShiftLead, evaluation.Dispatcher,
}

func mayEvaluate(actor cases.Actor) bool {
	switch actor.Role {
	case cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin:
		return true
	}
	return false
}

// Ranking is the evaluation of one subject kind under a region for a
// period, from the rollups: every subject with work in the period is scored
// and placed; Items holds the places asked for (RankingQuery's window), each
// scored in full with its figures and links.
type Ranking struct {
	Period   evaluation.Period      `json:"period"`
	Kind     evaluation.SubjectKind `json:"kind"`
	Under    string                 `json:"under"`
	By       string                 `json:"by"` // the indicator the places follow ("score": the composite)
	Rules    int                    `json:"rules_version"`
	MinWork  int                    `json:"min_work"`
	TieBreak string                 `json:"tie_break"`
	Total    int                    `json:"total"`  // subjects scored (with work in the period, in scope)
	RankedN  int                    `json:"ranked"` // … of which placed (the others follow with rank 0)
	Offset   int                    `json:"offset"` // the place in the order of Items' first
	Items    []RankedItem           `json:"items"`
}

// RankedItem is one subject's place and score, with the link to the cases
// behind it (the period's cohort). Every figure of its parts and figures
// carries the links to the cases behind its numerator and its denominator
// (num_cases, den_cases: DrillQuery).
type RankedItem struct {
	evaluation.Ranked
	Cases string `json:"cases"`
}

// RankingQuery asks for a ranking: a subject kind (grid, community,
// street, district, unit, inspector, intake, shift_lead or dispatcher)
// under a region ("" for the caller's own) for a period ("" for the
// current month), ordered by the composite score or one indicator (By),
// and which places to return: the first Top places (ties at the last place
// included; 0 for every place), then Offset and Limit over those (Limit 0:
// all), or only Subject's place.
type RankingQuery struct {
	Kind          evaluation.SubjectKind
	Period, Under string
	By            string
	Top           int
	Offset, Limit int
	Subject       string
}

// Evaluate scores and ranks every subject of a kind under a region for a
// period and returns them all (Rank with no window; top > 0 keeps the
// first top places).
func (s *Service) Evaluate(ctx context.Context, actor cases.Actor, kind evaluation.SubjectKind, periodKey, under string, top int) (Ranking, error) {
	return s.Rank(ctx, actor, RankingQuery{Kind: kind, Period: periodKey, Under: under, Top: top})
}

// Rank scores and ranks the subjects of a kind under a region for a
// period, from the rollups (up to RollupLag plus a sweep behind the cases),
// with the rules in force at the period's start. Commanders, leaders and
// administrators may ask; under must lie in the caller's region. A unit's
// region is its own; a person's is their account's. Subjects with nothing
// to rate in the period are left out. Every subject is scored and placed
// from its counts (evaluation.Brief); only the places returned are scored
// in full with their figures, parts and links.
func (s *Service) Rank(ctx context.Context, actor cases.Actor, q RankingQuery) (Ranking, error) {
	kind := q.Kind
	if !mayEvaluate(actor) {
		return Ranking{}, apperr.New(apperr.Forbidden, "只有指挥中心、领导和管理员可以查看考核排名")
	}
	var errs apperr.Fields
	if !slices.Contains(evaluationKinds, kind) {
		errs.Add("kind", "考核对象应为 grid、community、street、district、unit、inspector、intake、shift_lead 或 dispatcher")
	}
	loc := s.Calendar().Location()
	periodKey := q.Period
	if periodKey == "" {
		periodKey = s.Now().In(loc).Format("2006-01")
	}
	p, err := evaluation.ParsePeriod(periodKey, loc)
	if err != nil {
		var e *apperr.Error
		if errors.As(err, &e) {
			for _, fe := range e.Fields {
				errs.Add(fe.Field, fe.Reason)
			}
		} else {
			errs.Add("period", "时间段无效")
		}
	}
	if q.Top < 0 {
		errs.Add("top", "应为非负整数")
	}
	if q.Offset < 0 {
		errs.Add("offset", "应为非负整数")
	}
	if q.Limit < 0 {
		errs.Add("limit", "应为非负整数")
	}
	under := q.Under
	underPath := actor.RegionPath
	if under != "" {
		path, ok := s.RegionPath(under)
		if !ok {
			errs.Add("under", "区域不存在")
		}
		underPath = path
	}
	if err := errs.Err(); err != nil {
		return Ranking{}, err
	}
	if !strings.HasPrefix(underPath, actor.RegionPath) {
		return Ranking{}, apperr.New(apperr.Forbidden, "只能查看本辖区的考核排名")
	}
	if under == "" {
		segs := strings.Split(strings.Trim(underPath, "/"), "/")
		under = segs[len(segs)-1]
	}
	from, to := p.Days(loc)
	region := kind == evaluation.Grid || kind == evaluation.Community || kind == evaluation.Street || kind == evaluation.District
	// Region codes usually begin with their parent's code: then the store
	// reads only the subjects starting with under's code.
	prefix := ""
	if region && under != "" && !s.ref.Load().stray[under] {
		prefix = under
	}
	book, err := s.RuleBook(ctx)
	if err != nil {
		return Ranking{}, err
	}
	rules := book.InForce(p.Start)
	// Only the measures the score reads (a city's 62,000 grids).
	table, err := s.db.RollupTable(ctx, kind, rules.ScoreMeasures(kind), prefix, from, to)
	if err != nil {
		return Ranking{}, err
	}
	scorer := rules.Scorer(kind, table.Measures)
	by, err := scorer.RankKey(q.By)
	if err != nil {
		return Ranking{}, err
	}
	var people map[string]store.Account
	if !region && kind != evaluation.Unit && table.Len() > 0 {
		accts, err := s.db.Accounts(ctx)
		if err != nil {
			return Ranking{}, err
		}
		people = make(map[string]store.Account, len(accts))
		for _, a := range accts {
			people[a.ID] = a
		}
	}
	var dens []evaluation.Measure
	var denPos []int // their positions in the table's rows
	for _, ind := range evaluation.Indicators {
		if ind.Applies(kind) {
			dens = append(dens, ind.Den)
			if p := table.Pos(ind.Den); p >= 0 {
				denPos = append(denPos, p)
			}
		}
	}
	// Every subject in scope with work, placed from its brief.
	briefs := make([]evaluation.Brief, 0, table.Len())
	for i, subject := range table.Subjects {
		row := table.Row(i)
		var path string
		switch {
		case kind == evaluation.Unit:
			u, ok := s.Unit(subject)
			if !ok {
				continue
			}
			path = u.RegionPath
		case region:
			var ok bool
			if path, ok = s.RegionPath(subject); !ok {
				continue
			}
		default:
			a, ok := people[subject]
			if !ok {
				continue
			}
			path = a.RegionPath
		}
		work := 0
		for _, p := range denPos {
			work += row[p]
		}
		if !strings.HasPrefix(path, underPath) || work == 0 {
			continue
		}
		b := scorer.Brief(subject, row, by)
		b.Row = i
		briefs = append(briefs, b)
	}
	evaluation.Order(briefs)
	byName := q.By
	if byName == "" {
		byName = evaluation.ScoreIndicator
	}
	out := Ranking{Period: p, Kind: kind, Under: under, By: byName, Rules: rules.Version, MinWork: rules.MinWork,
		TieBreak: evaluation.TieBreak, Total: len(briefs)}
	for _, b := range briefs {
		if b.Rank > 0 {
			out.RankedN++
		}
	}
	// The window.
	shown := briefs
	switch {
	case q.Subject != "":
		shown = nil
		for k := range briefs {
			if briefs[k].Subject == q.Subject {
				shown, out.Offset = briefs[k:k+1], k
				break
			}
		}
	default:
		if q.Top > 0 {
			shown = shown[:evaluation.TopN(shown, q.Top)]
		}
		out.Offset = min(q.Offset, len(shown))
		shown = shown[out.Offset:]
		if q.Limit > 0 && len(shown) > q.Limit {
			shown = shown[:q.Limit]
		}
	}
	// The places shown are scored in full, with their links (a city's
	// 62,000 grids have about a million links: made for these only), each
	// subject's in one string.
	out.Items = make([]RankedItem, 0, len(shown))
	links := newLinkMaker(kind, rules.Weights[kind], p, loc)
	for _, b := range shown {
		var name, param string
		switch {
		case kind == evaluation.Unit:
			u, _ := s.Unit(b.Subject)
			name, param = u.Name, "unit"
		case region:
			name, param = s.RegionName(b.Subject), "region"
			if kind == evaluation.Grid {
				param = "grid"
			}
		default:
			name = people[b.Subject].Name
		}
		sc := scorer.Score(b.Subject, name, table.Row(b.Row))
		sc.Period = p.Label
		r := evaluation.Ranked{Rank: b.Rank, Score: sc}
		cases := links.make(&r.Score, param)
		if param == "" {
			cases = "/api/v1/cases?" + DrillQuery(kind, b.Subject, dens[0], p.Key).Encode()
		}
		out.Items = append(out.Items, RankedItem{Ranked: r, Cases: cases})
	}
	return out, nil
}

// linkMaker writes the links of a ranking's items: every figure's links to
// the cases behind its numerator and its denominator (DrillQuery, written
// out directly) and the subject's cohort (its region, grid or unit and the
// period). One subject's links are cut from one string.
type linkMaker struct {
	kind     evaluation.SubjectKind
	measures []evaluation.Measure // every numerator and denominator of the kind's indicators, once
	escaped  []string             // … escaped
	inds     []linkInd
	suffix   string // "&period=…"
	from, to string // "from=…", "to=…" of the cohort link
	offs     []int  // scratch: link bounds
	figAt    []int  // the place in inds of the indicator of each figure …
	partAt   []int  // … and of each part, as last seen
}

type linkInd struct {
	code     string
	num, den int // positions in measures
}

func newLinkMaker(kind evaluation.SubjectKind, weights []evaluation.Weight, p evaluation.Period, loc *time.Location) *linkMaker {
	l := &linkMaker{kind: kind, suffix: "&period=" + url.QueryEscape(p.Key),
		from: "from=" + url.QueryEscape(p.Start.In(loc).Format(time.RFC3339)),
		to:   "to=" + url.QueryEscape(p.End.In(loc).Format(time.RFC3339))}
	pos := func(m evaluation.Measure) int {
		if i := slices.Index(l.measures, m); i >= 0 {
			return i
		}
		l.measures = append(l.measures, m)
		l.escaped = append(l.escaped, url.QueryEscape(string(m)))
		return len(l.measures) - 1
	}
	// The kind's indicators, and any other a weight names.
	for _, ind := range evaluation.Indicators {
		if ind.Applies(kind) || slices.ContainsFunc(weights, func(w evaluation.Weight) bool { return w.Indicator == ind.Code }) {
			l.inds = append(l.inds, linkInd{ind.Code, pos(ind.Num), pos(ind.Den)})
		}
	}
	return l
}

// make sets the links of a score's figures and parts, and returns its
// cohort link for param ("grid", "region" or "unit"; "" for none).
func (l *linkMaker) make(sc *evaluation.Score, param string) string {
	prefix := "/api/v1/cases?fact=" + url.QueryEscape(string(l.kind)+":"+sc.Subject+":")
	n := 0
	for _, e := range l.escaped {
		n += len(prefix) + len(e) + len(l.suffix)
	}
	subject := url.QueryEscape(sc.Subject)
	if param != "" {
		n += len("/api/v1/cases?") + len(l.from) + len(l.to) + len(param) + len(subject) + 3
	}
	var b strings.Builder
	b.Grow(n)
	l.offs = l.offs[:0]
	for _, e := range l.escaped {
		b.WriteString(prefix)
		b.WriteString(e)
		b.WriteString(l.suffix)
		l.offs = append(l.offs, b.Len())
	}
	if param != "" {
		// url.Values.Encode's order: keys sorted.
		b.WriteString("/api/v1/cases?")
		b.WriteString(l.from)
		if param == "unit" {
			b.WriteString("&" + l.to + "&unit=" + subject)
		} else {
			b.WriteString("&" + param + "=" + subject + "&" + l.to)
		}
	}
	all := b.String()
	link := func(i int) string {
		start := 0
		if i > 0 {
			start = l.offs[i-1]
		}
		return all[start:l.offs[i]]
	}
	// Every score of a kind has its figures and parts in the same order:
	// the indicator at each place is remembered (and checked).
	set := func(f *evaluation.Figure, at *[]int, i int) {
		for len(*at) <= i {
			*at = append(*at, 0)
		}
		k := (*at)[i]
		if k >= len(l.inds) || l.inds[k].code != f.Indicator {
			k = slices.IndexFunc(l.inds, func(ind linkInd) bool { return ind.code == f.Indicator })
			if k < 0 {
				return
			}
			(*at)[i] = k
		}
		f.NumCases, f.DenCases = link(l.inds[k].num), link(l.inds[k].den)
	}
	for i := range sc.Parts {
		set(&sc.Parts[i].Figure, &l.partAt, i)
	}
	for i := range sc.Figures {
		set(&sc.Figures[i], &l.figAt, i)
	}
	if param == "" {
		return ""
	}
	return all[l.offs[len(l.offs)-1]:]
}

// strayAncestors returns the codes of the regions that have a descendant
// whose code does not begin with theirs, from each region's path
// ("/city/district/…/code/").
func strayAncestors(paths map[string]string) map[string]bool {
	stray := map[string]bool{}
	for code, path := range paths {
		for _, anc := range strings.Split(strings.Trim(path, "/"), "/") {
			if anc != code && anc != "" && !strings.HasPrefix(code, anc) {
				stray[anc] = true
			}
		}
	}
	return stray
}
