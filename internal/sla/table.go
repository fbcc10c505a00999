package sla

import (
	"encoding/json"
	"errors"
	"slices"

	"zhizhi/internal/apperr"
)

// Stage is a step of a case (or of a whistle) that runs against a limit.
type Stage string

// The stages with limits.
const (
	Accept   Stage = "accept"    // 受理: the center takes the case on
	Dispatch Stage = "dispatch"  // 派遣: the center sends it to units
	Sign     Stage = "sign"      // 签收: a unit acknowledges it
	Handle   Stage = "handle"    // 处置: the unit works on it until feedback
	Verify   Stage = "verify"    // 核查: the grid worker checks on site
	ReportIn Stage = "report_in" // 报到: a summoned party reports in to a whistle
)

// Stages returns every stage, in workflow order.
func Stages() []Stage { return []Stage{Accept, Dispatch, Sign, Handle, Verify, ReportIn} }

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { return slices.Contains(Stages(), s) }

// Label returns the Chinese name of the stage.
func (s Stage) Label() string {
	switch s {
	case Accept:
		return "受理"
	case Dispatch:
		return "派遣"
	case Sign:
		return "签收"
	case Handle:
		return "处置"
	case Verify:
		return "核查"
	case ReportIn:
		return "报到"
	}
	return string(s)
}

// Severity is how pressing a case is; it selects the limit of each stage.
type Severity string

// The severities, mildest first.
const (
	Normal   Severity = "normal"   // 一般
	Urgent   Severity = "urgent"   // 紧急
	Critical Severity = "critical" // 特急
)

// Severities returns every severity, mildest first.
func Severities() []Severity { return []Severity{Normal, Urgent, Critical} }

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return slices.Contains(Severities(), s) }

// Label returns the Chinese name of the severity: 一般, 紧急 or 特急.
func (s Severity) Label() string {
	switch s {
	case Normal:
		return "一般"
	case Urgent:
		return "紧急"
	case Critical:
		return "特急"
	}
	return string(s)
}

// Table holds the limit of each stage per severity. It is policy data an
// administrator edits, stored as JSON:
//
//	{"accept": {"normal": {"amount": 30, "unit": "minutes"}, "urgent": "10m"}, ...}
//
// (a limit may also be written in the short form). A severity without an
// entry falls back to the stage's normal limit, so a table need only list
// where urgency changes something.
type Table map[Stage]map[Severity]Limit

// DefaultTable returns the limits a new deployment starts with; they are
// editable defaults, not rules. Acceptance and dispatch run on the wall clock
// because the command center works 24 hours; signing and handling of
// ordinary cases run in working time; urgent and critical work does not wait
// for office hours. Whistle parties report in within 30 minutes (吹哨报到).
func DefaultTable() Table {
	m := func(n int) Limit { return Limit{Amount: n, Unit: Minutes} }
	return Table{
		Accept:   {Normal: m(30), Urgent: m(10), Critical: m(5)},
		Dispatch: {Normal: m(30), Urgent: m(10), Critical: m(5)},
		Sign:     {Normal: {Amount: 2, Unit: WorkHours}, Urgent: m(30), Critical: m(10)},
		Handle:   {Normal: {Amount: 3, Unit: WorkDays}, Urgent: {Amount: 4, Unit: WorkHours}, Critical: m(120)},
		Verify:   {Normal: {Amount: 1, Unit: WorkDays}, Urgent: m(120), Critical: m(60)},
		ReportIn: {Normal: m(30)},
	}
}

// UnmarshalJSON reads a table whose cells are limits in either form Limit
// accepts ("3个工作日" or {"amount":3,"unit":"work_days"}). A cell that
// cannot be read is an invalid-input error naming the cell the way Validate
// does ("handle.urgent"), and every unreadable cell is named, not only the
// first.
func (t *Table) UnmarshalJSON(b []byte) error {
	var raw map[Stage]map[Severity]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*t = nil
		return nil
	}
	var f apperr.Fields
	out := make(Table, len(raw))
	for _, st := range sortedKeys(raw) {
		if raw[st] == nil {
			continue
		}
		out[st] = make(map[Severity]Limit, len(raw[st]))
		for _, sev := range sortedKeys(raw[st]) {
			var l Limit
			if err := json.Unmarshal(raw[st][sev], &l); err != nil {
				reason := "时限应为如 \"3个工作日\" 的字符串或 {\"amount\":3,\"unit\":\"work_days\"}"
				var ae *apperr.Error
				if errors.As(err, &ae) && len(ae.Fields) > 0 {
					reason = ae.Fields[0].Reason
				}
				f.Add(string(st)+"."+string(sev), reason)
				continue
			}
			out[st][sev] = l
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	*t = out
	return nil
}

// Limit returns the limit for a stage and severity, falling back to the
// stage's normal limit; ok is false when neither is set.
func (t Table) Limit(stage Stage, sev Severity) (limit Limit, ok bool) {
	row := t[stage]
	if l, ok := row[sev]; ok {
		return l, true
	}
	l, ok := row[Normal]
	return l, ok
}

// Validate refuses unknown stages and severities and invalid limits, and
// requires a normal limit for every stage so that every look-up succeeds.
// Fields are named like "handle.urgent.amount".
func (t Table) Validate() error {
	var f apperr.Fields
	for _, st := range sortedKeys(t) {
		if !st.Valid() {
			f.Add(string(st), "未知的环节")
			continue
		}
		row := t[st]
		for _, sev := range sortedKeys(row) {
			prefix := string(st) + "." + string(sev)
			if !sev.Valid() {
				f.Add(prefix, "未知的紧急程度，应为 normal、urgent 或 critical")
				continue
			}
			row[sev].check(&f, prefix+".")
		}
	}
	for _, st := range Stages() {
		if _, ok := t[st][Normal]; !ok {
			f.Addf(string(st)+"."+string(Normal), "缺少“%s”环节的一般时限", st.Label())
		}
	}
	return f.Err()
}

// sortedKeys returns a map's keys in order, so errors come out the same way
// every time.
func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
