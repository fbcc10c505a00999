package cases

import (
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
)

// Overdue appeals (超时申诉): a unit whose task on a case ran overdue asks
// that the case be exempted from the figures; the case's center reviews the
// appeal (中心审核) and the district approves or refuses it (区级审批). An
// approved appeal exempts the case for its regions and the appealing unit's
// task: the evaluation leaves them out of the timeliness rates but keeps the
// fact (Exempted). Appeals never change a case's state or clocks; each stage
// is a step of the timeline.

// AppealState is where an appeal stands.
type AppealState string

// The states of an appeal.
const (
	AppealPendingReview   AppealState = "pending_review"   // 待中心审核
	AppealPendingApproval AppealState = "pending_approval" // 待区级审批
	AppealApproved        AppealState = "approved"         // 已批准豁免
	AppealRefused         AppealState = "refused"          // 已驳回
)

// AppealStates lists the states in the order of the review queue's tabs.
var AppealStates = []AppealState{AppealPendingReview, AppealPendingApproval, AppealApproved, AppealRefused}

// Label is the state's Chinese name.
func (s AppealState) Label() string {
	switch s {
	case AppealPendingReview:
		return "待中心审核"
	case AppealPendingApproval:
		return "待区级审批"
	case AppealApproved:
		return "已豁免"
	case AppealRefused:
		return "已驳回"
	}
	return string(s)
}

// Valid reports whether s is a known appeal state.
func (s AppealState) Valid() bool { return slices.Contains(AppealStates, s) }

// Decided reports whether the appeal is finished (approved or refused).
func (s AppealState) Decided() bool { return s == AppealApproved || s == AppealRefused }

// Appeal is one unit's overdue appeal on a case.
type Appeal struct {
	UnitID       string      `json:"unit_id"`
	Reason       string      `json:"reason"`
	State        AppealState `json:"state"`
	AskedBy      string      `json:"asked_by"`
	AskedByName  string      `json:"asked_by_name"`
	AskedAt      time.Time   `json:"asked_at"`
	ReviewedBy   string      `json:"reviewed_by,omitempty"`
	ReviewerName string      `json:"reviewer_name,omitempty"`
	ReviewedAt   time.Time   `json:"reviewed_at,omitzero"`
	ReviewNote   string      `json:"review_note,omitempty"`
	DecidedBy    string      `json:"decided_by,omitempty"`
	DeciderName  string      `json:"decider_name,omitempty"`
	DecidedAt    time.Time   `json:"decided_at,omitzero"`
	DecideNote   string      `json:"decide_note,omitempty"`
}

// Appeal actions.
const (
	ActAppeal       Action = "appeal"        // 申请超时豁免 (unit staff)
	ActAppealReview Action = "appeal_review" // 中心审核 (the case's center)
	ActAppealDecide Action = "appeal_decide" // 区级审批 (the case's district or above)
)

// FAppealUnit names the appeal a review or decision is about (the unit that
// asked); it may be left out when only one appeal waits for that stage.
const FAppealUnit Field = "appeal_unit"

// Appeal rules. MinAppealReason is the shortest reason an appeal takes, in
// runes. AppealDays is how long after a case closed its units may still
// appeal: 30 natural days, one monthly assessment cycle, so a month's
// figures settle once the following month's appeals are decided.
const (
	MinAppealReason = 10
	AppealDays      = 30
)

// appealFrom are the states in which appeals are taken: a dispatched case,
// open or closed. Rejected and merged cases count in no rate; a case sent
// back to the center (accepted again) takes appeals once dispatched again.
var appealFrom = []State{Dispatched, Handling, FedBack, Parked, Closed}

// Exempted reports whether an appeal on the case was approved: the case
// leaves its regions' timeliness rates.
func (c *Case) Exempted() bool {
	_, ok := c.exemption("")
	return ok
}

// ExemptReason is the reason of the first approved appeal, or "".
func (c *Case) ExemptReason() string {
	a, _ := c.exemption("")
	return a.Reason
}

// ExemptedUnit returns the approved appeal of a unit: its task leaves the
// unit's timeliness rates.
func (c *Case) ExemptedUnit(unitID string) (Appeal, bool) {
	if unitID == "" {
		return Appeal{}, false
	}
	return c.exemption(unitID)
}

func (c *Case) exemption(unitID string) (Appeal, bool) {
	for _, a := range c.Appeals {
		if a.State == AppealApproved && (unitID == "" || a.UnitID == unitID) {
			return a, true
		}
	}
	return Appeal{}, false
}

// AppealDeadline is the last moment the case's units may appeal: AppealDays
// after it closed; zero while it is open.
func (c *Case) AppealDeadline() time.Time {
	if c.State != Closed || c.ClosedAt.IsZero() {
		return time.Time{}
	}
	return c.ClosedAt.AddDate(0, 0, AppealDays)
}

// AppealTooLate reports whether the appeal window of a closed case is over.
func (c *Case) AppealTooLate(now time.Time) bool {
	d := c.AppealDeadline()
	return !d.IsZero() && now.After(d)
}

// unitWasOverdue reports whether the unit had a task on the case that ran
// overdue: its sign or handling clock is marked WasOverdue (set when it is
// stopped or paused late), or the case was marked overdue (any clock ran
// out; the sweeper's red warning marks a running one) while the task was
// the lead's. A co-unit whose handling clock is still running past due may
// appeal once it feeds back or the case closes (its clock then stops late).
func (c *Case) unitWasOverdue(unitID string) bool {
	for _, t := range c.Tasks {
		if t.UnitID == unitID && (t.Sign.WasOverdue || t.Handle.WasOverdue || (t.Role == Lead && c.WasOverdue)) {
			return true
		}
	}
	return false
}

// openAppeal returns the index of the unit's appeal that is not decided, or -1.
func (c *Case) openAppeal(unitID string) int {
	for i, a := range c.Appeals {
		if a.UnitID == unitID && !a.State.Decided() {
			return i
		}
	}
	return -1
}

// appealIn returns the index of the appeal waiting in state st: the one of
// unitID, or the only one when unitID is "". -1 and a field error when there
// is none or the choice is ambiguous.
func (c *Case) appealIn(st AppealState, unitID string) (int, error) {
	found := -1
	for i, a := range c.Appeals {
		if a.State != st {
			continue
		}
		if unitID != "" && a.UnitID == unitID {
			return i, nil
		}
		if unitID == "" {
			if found >= 0 {
				return -1, apperr.Field(string(FAppealUnit), "有多个待办的申诉，请选择申诉单位")
			}
			found = i
		}
	}
	if found < 0 {
		if unitID != "" {
			return -1, apperr.Field(string(FAppealUnit), "该单位没有"+st.Label()+"的申诉")
		}
		return -1, refuse("没有%s的超时申诉", st.Label())
	}
	return found, nil
}

// isDistrictOrAbove reports whether a region path is a city or district:
// /city/ or /city/district/.
func isDistrictOrAbove(path string) bool {
	n := strings.Count(path, "/") - 1
	return path != "" && n >= 1 && n <= 2
}

// appealGuard holds the appeal rules that depend on the case and the actor
// but not on the time.
func appealGuard(c *Case, a Action, actor Actor) error {
	switch a {
	case ActAppeal:
		if !actor.HandlesTasks() {
			return refuse("只有承办单位可以申请超时豁免")
		}
		has := false
		for _, t := range c.Tasks {
			has = has || t.UnitID == actor.UnitID
		}
		if !has {
			return refuse("本单位不是该案件的承办单位")
		}
		if _, ok := c.ExemptedUnit(actor.UnitID); ok {
			return refuse("本单位在该案件上已获超时豁免")
		}
		if c.openAppeal(actor.UnitID) >= 0 {
			return refuse("本单位已有待审核或待审批的超时申诉")
		}
		if !c.unitWasOverdue(actor.UnitID) {
			return refuse("本单位在该案件上没有超期，无需申请超时豁免")
		}
	case ActAppealReview:
		if actor.RegionPath == "" || actor.RegionPath != c.CenterPath {
			return refuse("只有案件所属指挥中心可以审核超时申诉")
		}
		if !slices.ContainsFunc(c.Appeals, func(x Appeal) bool { return x.State == AppealPendingReview }) {
			return refuse("没有待中心审核的超时申诉")
		}
	case ActAppealDecide:
		if !isDistrictOrAbove(actor.RegionPath) || !(strings.HasPrefix(c.RegionPath, actor.RegionPath) || strings.HasPrefix(c.CenterPath, actor.RegionPath)) {
			return refuse("只有案件所在区（县）的指挥长或领导可以审批超时申诉")
		}
		if !slices.ContainsFunc(c.Appeals, func(x Appeal) bool { return x.State == AppealPendingApproval }) {
			return refuse("没有待区级审批的超时申诉")
		}
	}
	return nil
}

// appealInputs checks the appeal actions' inputs beyond the table's.
func appealInputs(cmd Command, f *apperr.Fields) {
	note := strings.TrimSpace(cmd.Note)
	switch cmd.Action {
	case ActAppeal:
		if note != "" && len([]rune(note)) < MinAppealReason {
			f.Addf("note", "申诉理由不少于%d字", MinAppealReason)
		}
	case ActAppealReview, ActAppealDecide:
		if cmd.Passed != nil && !*cmd.Passed && note == "" {
			f.Add("note", "驳回时请说明理由")
		}
	}
	if BadText(cmd.AppealUnit) {
		f.Add(string(FAppealUnit), "含有控制字符或无效的编码")
	}
}

// appealEffect records an appeal or one of its stages on the case.
func appealEffect(n *Case, step *Step, cmd Command, actor Actor, now time.Time) error {
	switch cmd.Action {
	case ActAppeal:
		if n.AppealTooLate(now) {
			return refuse("案件结案已超过%d天，不能再申请超时豁免", AppealDays)
		}
		n.Appeals = append(n.Appeals, Appeal{UnitID: actor.UnitID, Reason: step.Note, State: AppealPendingReview,
			AskedBy: actor.AccountID, AskedByName: actor.Name, AskedAt: now})
		step.Data = map[string]any{"unit_id": actor.UnitID, "appeal": string(AppealPendingReview)}

	case ActAppealReview:
		i, err := n.appealIn(AppealPendingReview, cmd.AppealUnit)
		if err != nil {
			return err
		}
		a := &n.Appeals[i]
		a.ReviewedBy, a.ReviewerName, a.ReviewedAt, a.ReviewNote = actor.AccountID, actor.Name, now, step.Note
		a.State = AppealPendingApproval
		if !*cmd.Passed {
			a.State = AppealRefused
		}
		step.Data = map[string]any{"unit_id": a.UnitID, "passed": *cmd.Passed, "appeal": string(a.State)}

	case ActAppealDecide:
		i, err := n.appealIn(AppealPendingApproval, cmd.AppealUnit)
		if err != nil {
			return err
		}
		a := &n.Appeals[i]
		a.DecidedBy, a.DeciderName, a.DecidedAt, a.DecideNote = actor.AccountID, actor.Name, now, step.Note
		a.State = AppealApproved
		if !*cmd.Passed {
			a.State = AppealRefused
		}
		step.Data = map[string]any{"unit_id": a.UnitID, "passed": *cmd.Passed, "appeal": string(a.State)}
	}
	return nil
}
