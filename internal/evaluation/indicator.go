package evaluation

import (
	"slices"
)

// SubjectKind is what is evaluated: a region, a unit or a person in a role.
type SubjectKind string

// The subjects of the evaluation (domain.md §2, §3).
const (
	Grid       SubjectKind = "grid"
	Community  SubjectKind = "community"
	Street     SubjectKind = "street"
	District   SubjectKind = "district"
	City       SubjectKind = "city"
	Unit       SubjectKind = "unit"       // a department, a street's post or section, a community unit
	Inspector  SubjectKind = "inspector"  // a grid worker reporting and verifying (监督员)
	Intake     SubjectKind = "intake"     // an intake operator (受理员)
	ShiftLead  SubjectKind = "shift_lead" // a commander registering and closing (值班长)
	Dispatcher SubjectKind = "dispatcher" // a commander dispatching (派遣员)
)

// Regions are the region subject kinds, finest first.
var Regions = []SubjectKind{Grid, Community, Street, District, City}

// Label is the subject kind's Chinese name.
func (k SubjectKind) Label() string {
	switch k {
	case Grid:
		return "网格"
	case Community:
		return "社区"
	case Street:
		return "街道"
	case District:
		return "区"
	case City:
		return "市"
	case Unit:
		return "承办单位"
	case Inspector:
		return "监督员（网格员）"
	case Intake:
		return "受理员"
	case ShiftLead:
		return "值班长"
	case Dispatcher:
		return "派遣员"
	}
	return string(k)
}

// Measure names a count the store supplies for one subject and period. The
// cases counted are the period's cohort: cases reported in the period (for
// units: their tasks on those cases; for whistles: the parties summoned in
// the period). Open cases count too, so an open case past due counts
// against on-time rates at once; exempted cases (an approved overdue
// appeal) are left out of the rates' denominators and counted apart.
type Measure string

// The measures.
const (
	Reported         Measure = "reported"         // cases reported
	Registered       Measure = "registered"       // accepted (立案): reported and not rejected nor merged
	Rejected         Measure = "rejected"         // reports not taken on (不予受理)
	Void             Measure = "void"             // registered, then voided: merged as a duplicate after acceptance (作废)
	PublicVerified   Measure = "public_verified"  // registered cases first raised by the public (residents, hotline, Open311, enterprises)
	DueClose         Measure = "due_close"        // closed, or open with a clock that ran out (应结案)
	Closed           Measure = "closed"           // closed
	ClosedOnTime     Measure = "closed_on_time"   // closed and never overdue
	OnSpot           Measure = "on_spot"          // solved on the spot by a grid's people
	Rated            Measure = "rated"            // closed cases rated by the reporter or on follow-up
	Satisfied        Measure = "satisfied"        // rated 满意 or 基本满意
	Exempted         Measure = "exempted"         // left out of the rates by an approved overdue appeal
	DueHandle        Measure = "due_handle"       // tasks fed back, or active with the handling clock run out, or closed unfinished (应处置)
	Handled          Measure = "handled"          // tasks fed back (处置)
	HandledOnTime    Measure = "handled_on_time"  // fed back within the handling limit
	HandledLate      Measure = "handled_late"     // fed back after the limit, or left unfinished by the close after a clock ran out
	Reworked         Measure = "reworked"         // handled tasks sent back by a failed verification (返工)
	Dispatched       Measure = "dispatched_tasks" // tasks dispatched to the unit (not cancelled)
	SignedOnTime     Measure = "signed_on_time"   // tasks signed within the sign limit (响应)
	Summoned         Measure = "summoned"         // whistle parties summoned
	ReportInOnTime   Measure = "report_in_on_time"
	ReportInLate     Measure = "report_in_late"
	ReportInAbsent   Measure = "report_in_absent"
	PartyRated       Measure = "party_rated"     // summoned parties rated by the initiator
	PartySatisfied   Measure = "party_satisfied" // … rated 满意 or 基本满意
	Accepted         Measure = "accepted"        // inspector: own reports registered (有效上报)
	VerifyDue        Measure = "verify_due"      // inspector: verifications asked of them
	VerifiedOnTime   Measure = "verified_on_time"
	RegisteredOnTime Measure = "registered_on_time" // shift lead / intake: accepted within the accept limit
	DispatchDue      Measure = "dispatch_due"       // dispatcher: registered cases to dispatch
	DispatchedOnTime Measure = "dispatched_on_time" // dispatched within the dispatch limit
	Redispatched     Measure = "redispatched"       // dispatched cases returned or re-dispatched (misrouted)
	ClosedByCenter   Measure = "closed_by_center"   // shift lead: cases they closed
	ClosedInTime     Measure = "closed_in_time"     // … closed within the verify-and-close limit
	// Event-day measures (the command board's "today"): counted on the day
	// of the event, not the reporting day.
	AcceptedDay Measure = "accepted_day" // regions: cases accepted that day
	ClosedDay   Measure = "closed_day"   // regions, units: cases closed that day
	// Supervision (督办): each supervision with a deadline counts once its
	// case closed or its deadline ran out, for the case's regions and its
	// lead unit, on the reporting day.
	Supervised       Measure = "supervised"         // supervisions due: the case closed, or the deadline ran out
	SupervisedOnTime Measure = "supervised_on_time" // … the case closed by the supervision's deadline
)

// Counts are the measures of one subject in one period.
type Counts map[Measure]int

// Indicator is a rate: numerator ÷ denominator of two measures, or one minus
// that when the measure counts failures (Inverse: the on-time rate from the
// late count). LowerBetter marks a rate where less is better (监督举报率,
// 返工率): its points are 100 × (1 − rate).
type Indicator struct {
	Code        string        `json:"code"`
	Name        string        `json:"name"`
	Num         Measure       `json:"num"`
	Den         Measure       `json:"den"`
	LowerBetter bool          `json:"lower_better,omitempty"`
	For         []SubjectKind `json:"for"`
}

var regionKinds = []SubjectKind{Grid, Community, Street, District, City}

// Indicators are the platform's indicators: digital urban-management
// evaluation (CJ/T 292, GB/T 30428.4 as found in public implementations),
// the 12345 three rates, and the whistle figures.
var Indicators = []Indicator{
	// Regions.
	{"public_report_rate", "监督举报率", PublicVerified, Registered, true, regionKinds},
	{"close_rate", "结案率", Closed, DueClose, false, slices.Concat(regionKinds, []SubjectKind{Unit})},
	{"on_time_close_rate", "按期结案率", ClosedOnTime, DueClose, false, slices.Concat(regionKinds, []SubjectKind{Dispatcher})},
	{"on_spot_rate", "就地解决率", OnSpot, Reported, false, regionKinds},
	{"satisfaction_rate", "满意率", Satisfied, Rated, false, slices.Concat(regionKinds, []SubjectKind{Unit})},
	// Units.
	{"handle_rate", "处置率", Handled, DueHandle, false, []SubjectKind{Unit}},
	{"on_time_handle_rate", "按期处置率", HandledOnTime, DueHandle, false, []SubjectKind{Unit}},
	{"rework_rate", "返工率", Reworked, Handled, true, []SubjectKind{Unit}},
	{"late_handle_rate", "超期处置率", HandledLate, DueHandle, true, []SubjectKind{Unit}},
	{"response_rate", "响应率", SignedOnTime, Dispatched, false, []SubjectKind{Unit}},
	{"resolution_rate", "解决率", HandledOnTime, DueHandle, false, []SubjectKind{Unit}},
	{"report_in_rate", "按时报到率", ReportInOnTime, Summoned, false, []SubjectKind{Unit, Inspector}},
	{"party_satisfaction", "吹哨评价满意率", PartySatisfied, PartyRated, false, []SubjectKind{Unit}},
	// Supervision (督办): regions and the lead unit of the case.
	{"supervised_on_time_rate", "督办件按期办结率", SupervisedOnTime, Supervised, false, slices.Concat(regionKinds, []SubjectKind{Unit})},
	// People.
	{"valid_report_rate", "有效上报率", Accepted, Reported, false, []SubjectKind{Inspector}},
	{"on_time_verify_rate", "按时核查率", VerifiedOnTime, VerifyDue, false, []SubjectKind{Inspector}},
	{"inspector_on_spot_rate", "就地解决率", OnSpot, Reported, false, []SubjectKind{Inspector}},
	{"on_time_register_rate", "按时立案率", RegisteredOnTime, Registered, false, []SubjectKind{ShiftLead, Intake}},
	{"accurate_register_rate", "准确立案率", Void, Registered, true, []SubjectKind{ShiftLead, Intake}},
	{"on_time_closing_rate", "按时结案率", ClosedInTime, ClosedByCenter, false, []SubjectKind{ShiftLead}},
	{"on_time_dispatch_rate", "按时派遣率", DispatchedOnTime, DispatchDue, false, []SubjectKind{Dispatcher}},
	{"accurate_dispatch_rate", "准确派遣率", Redispatched, DispatchDue, true, []SubjectKind{Dispatcher}},
}

// IndicatorOf returns an indicator by code.
func IndicatorOf(code string) (Indicator, bool) {
	if len(byCode) != len(Indicators) {
		for _, i := range Indicators {
			if i.Code == code {
				return i, true
			}
		}
		return Indicator{}, false
	}
	i, ok := byCode[code]
	return i, ok
}

// byCode and byKind index Indicators (built once; IndicatorOf and
// indicatorsFor fall back to a walk should Indicators ever change).
var (
	byCode = func() map[string]Indicator {
		m := make(map[string]Indicator, len(Indicators))
		for _, i := range Indicators {
			m[i.Code] = i
		}
		return m
	}()
	byKind = func() map[SubjectKind][]Indicator {
		m := map[SubjectKind][]Indicator{}
		for _, i := range Indicators {
			for _, k := range i.For {
				m[k] = append(m[k], i)
			}
		}
		return m
	}()
)

// indicatorsFor are the indicators that evaluate a kind, in Indicators' order.
func indicatorsFor(k SubjectKind) []Indicator {
	if len(byCode) == len(Indicators) {
		return byKind[k]
	}
	var out []Indicator
	for _, i := range Indicators {
		if i.Applies(k) {
			out = append(out, i)
		}
	}
	return out
}

// Applies reports whether the indicator evaluates the subject kind.
func (i Indicator) Applies(k SubjectKind) bool {
	for _, x := range i.For {
		if x == k {
			return true
		}
	}
	return false
}

// Figure is one indicator's value for a subject: the numerator and the
// denominator it was computed from, so anyone can check it by counting.
// Defined is false when the denominator is zero (nothing to rate).
type Figure struct {
	Indicator string  `json:"indicator"`
	Name      string  `json:"name"`
	Num       int     `json:"num"`
	Den       int     `json:"den"`
	Rate      float64 `json:"rate"`   // Num ÷ Den, 0..1 (never above 1: a count above its base is clipped)
	Points    float64 `json:"points"` // 0..100: the rate, or 1 − rate for LowerBetter, × 100 (unrounded)
	Defined   bool    `json:"defined"`
	// The case lists behind Num and Den (set by the service: the
	// evaluation knows no URLs).
	NumCases string `json:"num_cases,omitempty"`
	DenCases string `json:"den_cases,omitempty"`
}

// Compute evaluates the indicator on counts.
func (i Indicator) Compute(c Counts) Figure { return i.figure(c[i.Num], c[i.Den]) }

// MeasuresFor are the measures the indicators of a kind read (numerators
// and denominators, each once, in RollupMeasures' order), plus for regions
// those of the command board's today figures (reported, accepted_day,
// closed_day), and exempted for regions and units.
func MeasuresFor(k SubjectKind) []Measure {
	need := map[Measure]bool{}
	for _, i := range indicatorsFor(k) {
		need[i.Num], need[i.Den] = true, true
	}
	if slices.Contains(Regions, k) {
		need[Reported], need[AcceptedDay], need[ClosedDay] = true, true, true
	}
	if slices.Contains(Regions, k) || k == Unit {
		need[Exempted] = true
	}
	var out []Measure
	for _, m := range RollupMeasures {
		if need[m] {
			out = append(out, m)
		}
	}
	return out
}
