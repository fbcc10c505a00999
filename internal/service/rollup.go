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
			if err := tx.LockRollups(ctx); err != nil {
				return err
			}
			for _, cid := range ids {
				if err := rollCase(ctx, tx, cid, loc); err != nil {
					return err
				}
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

// rollCase applies the current facts of one case, read from its document
// and its timeline.
func rollCase(ctx context.Context, tx *store.Tx, caseID string, loc *time.Location) error {
	c, err := tx.Case(ctx, caseID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	steps, err := tx.Steps(ctx, caseID)
	if err != nil {
		return err
	}
	return tx.ApplyFacts(ctx, caseID, evaluation.Facts(&c, steps, loc))
}

// RebuildRollups empties the rollups and applies the facts of every case
// again, a page of cases per transaction. The watermark becomes the newest
// step at the start, but no later than the start − RollupLag: steps
// committed while it ran are rolled again by the next Roll. It returns how
// many cases it applied. Readers see partial counts while it runs.
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
			if err := tx.LockRollups(ctx); err != nil {
				return err
			}
			for i := range list {
				if err := rollCase(ctx, tx, list[i].ID, loc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return applied, err
		}
		applied += len(list)
		// Not len(list) < f.Limit: the listing returns at most 500 rows
		// whatever the limit asked.
		if len(list) == 0 {
			return applied, nil
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
// period, from the rollups.
type Ranking struct {
	Period   evaluation.Period      `json:"period"`
	Kind     evaluation.SubjectKind `json:"kind"`
	Under    string                 `json:"under"`
	Rules    int                    `json:"rules_version"`
	MinWork  int                    `json:"min_work"`
	TieBreak string                 `json:"tie_break"`
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

// Evaluate scores and ranks the subjects of a kind (grid, community,
// street, district, unit, inspector, intake, shift_lead or dispatcher)
// under a region for a period, from the rollups (up to RollupLag plus a
// sweep behind the cases), with the rules in force at the period's start.
// Commanders, leaders and administrators may ask; under ("" for the
// caller's own region) must lie in the caller's region. A unit's region is
// its own; a person's is their account's. top > 0 keeps the first top
// places (ties at the last place included). Subjects with nothing to rate
// in the period are left out.
func (s *Service) Evaluate(ctx context.Context, actor cases.Actor, kind evaluation.SubjectKind, periodKey, under string, top int) (Ranking, error) {
	if !mayEvaluate(actor) {
		return Ranking{}, apperr.New(apperr.Forbidden, "只有指挥中心、领导和管理员可以查看考核排名")
	}
	var errs apperr.Fields
	if !slices.Contains(evaluationKinds, kind) {
		errs.Add("kind", "考核对象应为 grid、community、street、district、unit、inspector、intake、shift_lead 或 dispatcher")
	}
	loc := s.Calendar().Location()
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
	if top < 0 {
		errs.Add("top", "应为非负整数")
	}
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
	if region && under != "" {
		prefix = under
		for code, path := range s.ref.Load().paths {
			if strings.HasPrefix(path, underPath) && !strings.HasPrefix(code, under) {
				prefix = ""
				break
			}
		}
	}
	counts, err := s.db.RollupMeasures(ctx, kind, evaluation.MeasuresFor(kind), prefix, from, to)
	if err != nil {
		return Ranking{}, err
	}
	book, err := s.RuleBook(ctx)
	if err != nil {
		return Ranking{}, err
	}
	rules := book.InForce(p.Start)
	var people map[string]store.Account
	if !region && kind != evaluation.Unit && len(counts) > 0 {
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
	for _, ind := range evaluation.Indicators {
		if ind.Applies(kind) {
			dens = append(dens, ind.Den)
		}
	}
	var scores []evaluation.Score
	params := map[string]string{} // the cohort link's parameter per subject ("" for people: their first figure's cases)
	q := url.Values{"from": {p.Start.In(loc).Format(time.RFC3339)}, "to": {p.End.In(loc).Format(time.RFC3339)}}
	for subject, c := range counts {
		var name, path, param string
		switch {
		case kind == evaluation.Unit:
			u, ok := s.Unit(subject)
			if !ok {
				continue
			}
			name, path, param = u.Name, u.RegionPath, "unit"
		case region:
			var ok bool
			if path, ok = s.RegionPath(subject); !ok {
				continue
			}
			name, param = s.RegionName(subject), "region"
			if kind == evaluation.Grid {
				param = "grid"
			}
		default:
			a, ok := people[subject]
			if !ok {
				continue
			}
			name, path = a.Name, a.RegionPath
		}
		work := 0
		for _, m := range dens {
			work += c[m]
		}
		if !strings.HasPrefix(path, underPath) || work == 0 {
			continue
		}
		sc := rules.Score(kind, subject, name, c)
		sc.Period = p.Label
		scores = append(scores, sc)
		params[subject] = param
	}
	ranked := evaluation.Rank(scores, rules.MinWork)
	if top > 0 {
		ranked = evaluation.Top(ranked, top)
	}
	out := Ranking{Period: p, Kind: kind, Under: under, Rules: rules.Version, MinWork: rules.MinWork,
		TieBreak: evaluation.TieBreak, Items: make([]RankedItem, 0, len(ranked))}
	// The links are made for the subjects kept only (a city's 62,000 grids
	// have about a million of them).
	suffix := "&period=" + url.QueryEscape(p.Key)
	for _, r := range ranked {
		prefix := "/api/v1/cases?fact=" + url.QueryEscape(string(kind)+":"+r.Subject+":")
		for i := range r.Parts {
			drill(&r.Parts[i].Figure, prefix, suffix)
		}
		for i := range r.Figures {
			drill(&r.Figures[i], prefix, suffix)
		}
		lq := DrillQuery(kind, r.Subject, dens[0], p.Key)
		if param := params[r.Subject]; param != "" {
			lq = url.Values{param: {r.Subject}, "from": q["from"], "to": q["to"]}
		}
		out.Items = append(out.Items, RankedItem{Ranked: r, Cases: "/api/v1/cases?" + lq.Encode()})
	}
	return out, nil
}

// drill sets a figure's links to the cases behind its numerator and its
// denominator (DrillQuery, written out directly: prefix is
// "/api/v1/cases?fact=" and the escaped "kind:subject:", suffix
// "&period=" and the escaped period key).
func drill(f *evaluation.Figure, prefix, suffix string) {
	ind, ok := evaluation.IndicatorOf(f.Indicator)
	if !ok {
		return
	}
	f.NumCases = prefix + url.QueryEscape(string(ind.Num)) + suffix
	f.DenCases = prefix + url.QueryEscape(string(ind.Den)) + suffix
}
