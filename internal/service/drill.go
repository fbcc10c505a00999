package service

import (
	"net/url"
	"slices"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/store"
)

// DrillQuery is the case-list query (for /api/v1/cases and the console's
// /cases) of exactly the cases behind one measure of one subject in a
// period: fact=<kind>:<subject>:<measure>&period=<key>. Counting that list
// gives the measure's count in the rollups.
func DrillQuery(kind evaluation.SubjectKind, subject string, m evaluation.Measure, periodKey string) url.Values {
	return url.Values{"fact": {string(kind) + ":" + subject + ":" + string(m)}, "period": {periodKey}}
}

// eventDay reports whether a measure counts on the day of an event after
// the report (accepted, closed) rather than on the report's day.
func eventDay(m evaluation.Measure) bool {
	return m == "accepted_day" || m == "closed_day"
}

// Drill narrows a case filter to the cases behind one figure, from the
// fact and period parameters of DrillQuery. The period's days bound the
// facts; for measures counted on the report's day, the cases reported in the
// period are the candidates, for the others those reported before its end.
// A region subject also narrows the candidates to its subtree, a unit to its
// cases. Errors name the field.
func (s *Service) Drill(f *store.CaseFilter, fact, periodKey string) error {
	var errs apperr.Fields
	parts := strings.Split(fact, ":")
	if len(parts) != 3 {
		return apperr.Field("fact", "应为 考核对象类型:编码:计数项，如 grid:500103001001001:closed")
	}
	kind, subject, m := evaluation.SubjectKind(parts[0]), parts[1], evaluation.Measure(parts[2])
	path := ""
	switch kind {
	case evaluation.Grid, evaluation.Community, evaluation.Street, evaluation.District, evaluation.City:
		p, ok := s.RegionPath(subject)
		if !ok {
			errs.Add("fact", "区域“"+subject+"”不存在")
		}
		path = p
	case evaluation.Unit:
		if _, ok := s.Unit(subject); !ok {
			errs.Add("fact", "承办单位“"+subject+"”不存在")
		}
	case evaluation.Inspector, evaluation.Intake, evaluation.ShiftLead, evaluation.Dispatcher:
		if subject == "" {
			errs.Add("fact", "请指定人员账号")
		}
	default:
		errs.Add("fact", "考核对象类型“"+string(kind)+"”无效")
	}
	if !slices.Contains(evaluation.RollupMeasures, m) {
		errs.Add("fact", "计数项“"+string(m)+"”无效")
	}
	loc := s.Calendar().Location()
	if periodKey == "" {
		errs.Add("period", "请指定考核时间段")
	}
	p, err := evaluation.ParsePeriod(periodKey, loc)
	if err != nil && periodKey != "" {
		errs.Add("period", "时间段无效：应为 2026-11-03、2026-W45、2026-11、2026-Q4、2026 或 2026-11-01~2026-11-15")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	from, to := p.Days(loc)
	f.Fact = &store.FactFilter{Kind: kind, Subject: subject, Measure: m, FromDay: from, ToDay: to}
	if !eventDay(m) {
		if f.From.IsZero() || f.From.Before(p.Start) {
			f.From = p.Start
		}
	}
	if f.To.IsZero() || f.To.After(p.End) {
		f.To = p.End
	}
	switch {
	case kind == evaluation.Grid && f.Grid == "":
		f.Grid = subject
	case path != "" && f.RegionPath == "":
		f.RegionPath = path
	case kind == evaluation.Unit && f.Unit == "":
		f.Unit = subject
	}
	return nil
}
