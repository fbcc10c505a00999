package cases

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

// Role is what an account does on the platform.
type Role string

// The roles. System is the platform itself (timers, sensor rules).
const (
	RoleGridWorker Role = "gridworker" // 网格员
	RoleGridChief  Role = "gridchief"  // 网格长
	RoleHead       Role = "head"       // 三长/五长
	RoleCommander  Role = "commander"  // 指挥长
	RoleUnit       Role = "unit"       // 部门、科室、板块岗位工作人员
	RoleCommunity  Role = "community"  // 社区书记、社区工作者
	RoleLeader     Role = "leader"     // 领导
	RoleAdmin      Role = "admin"      // 管理员
	RoleEnterprise Role = "enterprise" // 企业
	RoleResident   Role = "resident"   // 居民
	RoleSystem     Role = "system"     // 系统
)

// Roles lists every role a person can hold (System is not one).
var Roles = []Role{RoleGridWorker, RoleGridChief, RoleHead, RoleCommander, RoleUnit, RoleCommunity, RoleLeader, RoleAdmin, RoleEnterprise, RoleResident}

// Label is the role's Chinese name.
func (r Role) Label() string {
	switch r {
	case RoleGridWorker:
		return "网格员"
	case RoleGridChief:
		return "网格长"
	case RoleHead:
		return "三长"
	case RoleCommander:
		return "指挥长"
	case RoleUnit:
		return "部门"
	case RoleCommunity:
		return "社区"
	case RoleLeader:
		return "领导"
	case RoleAdmin:
		return "管理员"
	case RoleEnterprise:
		return "企业"
	case RoleResident:
		return "居民"
	case RoleSystem:
		return "系统"
	}
	return string(r)
}

// Valid reports whether r is a role a person can hold.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Actor is who takes an action: an account with its role and scope.
type Actor struct {
	AccountID  string `json:"account_id"`
	Name       string `json:"name"`
	Role       Role   `json:"role"`
	RegionPath string `json:"region_path,omitempty"` // scope for region roles: a materialised path
	UnitID     string `json:"unit_id,omitempty"`     // scope for unit staff and community staff: the unit they act for
	// Units are further units whose cases the actor sees without acting for
	// them: a board head sees every post and section of the board.
	Units []string `json:"units,omitempty"`
}

// HandlesTasks reports whether the actor acts for a unit on its tasks (sign,
// handle, feed back, return, ask for extension or parking).
func (a Actor) HandlesTasks() bool {
	return (a.Role == RoleUnit || a.Role == RoleCommunity) && a.UnitID != ""
}

// System is the actor for timers and rules.
var System = Actor{AccountID: "system", Name: "系统", Role: RoleSystem}

// Action is something done to a case.
type Action string

// The actions of the case loop.
const (
	ActReport        Action = "report"
	ActSolvedOnSpot  Action = "solved_on_spot"
	ActAccept        Action = "accept"
	ActReject        Action = "reject"
	ActMerge         Action = "merge"
	ActDispatch      Action = "dispatch"
	ActRedispatch    Action = "redispatch"
	ActSign          Action = "sign"
	ActHandle        Action = "handle"
	ActFeedback      Action = "feedback"
	ActVerify        Action = "verify"
	ActClose         Action = "close"
	ActRate          Action = "rate"
	ActReturn        Action = "return"
	ActExtendRequest Action = "extend_request"
	ActExtendApprove Action = "extend_approve"
	ActExtendDeny    Action = "extend_deny"
	ActParkRequest   Action = "park_request"
	ActParkApprove   Action = "park_approve"
	ActParkDeny      Action = "park_deny"
	ActResume        Action = "resume"
	ActReopen        Action = "reopen"
	ActEscalate      Action = "escalate"
	ActUrge          Action = "urge"
	ActSupervise     Action = "supervise"
	ActWarn          Action = "warn"      // a clock turned yellow or red (system)
	ActPlace         Action = "place"     // the center places (or corrects) the case's location
	ActHandDown      Action = "hand_down" // 交办: an upper center hands the case down to the center below
	ActRelease       Action = "release"   // 放行: a held report enters the loop (hold.go)
	ActComment       Action = "comment"   // 群众留言: the reporter's follow-up sent by a client app (Open311 servicerequestupdates)
	ActSensor        Action = "sensor"    // 感知更新: a sensor rule's incident goes on or has cleared (the system; package sensors)

	// Whistle-and-report and meetings (whistle.go).
	ActWhistle      Action = "whistle"       // 吹哨
	ActReportIn     Action = "report_in"     // 报到
	ActLeave        Action = "leave"         // 退出 (only once the case is closed)
	ActRateParty    Action = "rate_party"    // 评价报到单位
	ActMeeting      Action = "meeting"       // 召开会议
	ActDecisionDone Action = "decision_done" // 落实会议决定

	// ActVolunteer gives a case to a community's volunteer group (党员志愿服务队,
	// 双报到) as a co-handler: a step, no task or clock (package gridwork).
	ActVolunteer Action = "volunteer" // 志愿协办
)

// Label is the action's Chinese name for the timeline and buttons.
func (a Action) Label() string {
	if r, ok := rules[a]; ok {
		return r.Label
	}
	switch a {
	case ActReport:
		return "上报"
	case ActSolvedOnSpot:
		return "就地解决"
	}
	return string(a)
}

// Field names a command field an action requires; used for refusals and by
// the console to know which inputs to show.
type Field string

// Command fields an action may require.
const (
	FNote      Field = "note"
	FPhotos    Field = "photos"
	FLead      Field = "lead_unit"
	FTarget    Field = "target"
	FPassed    Field = "passed"
	FRating    Field = "rating"
	FExtension Field = "extension"
	FUntil     Field = "until"
	FPoint     Field = "point"
	FParties   Field = "parties"
	FWhistle   Field = "whistle_id"
	FParty     Field = "party_key"
	FMeeting   Field = "meeting"
	FDecision  Field = "decision_id"
	FVolunteer Field = "group_id"
)

// Rule is one row of the state machine: in which states an action may be
// taken, by which roles, where it leads, and which fields it needs. To is ""
// when the action leaves the state as it is or when the effect decides.
type Rule struct {
	Action   Action
	Label    string
	From     []State
	To       State
	Roles    []Role
	Requires []Field
}

// Table is the state machine as data, in the order the console shows actions.
// Every unit's task is its own to finish: co-units sign, report progress,
// feed back, step out or ask for more time until the case closes, also after
// the lead has fed back and while the case waits for verification (the
// guards keep each unit to its own task, and a task fed back is finished).
var Table = []Rule{
	{ActRelease, "放行", []State{Held}, Reported, []Role{RoleCommander}, nil},
	{ActAccept, "受理", []State{Reported}, Accepted, []Role{RoleCommander}, nil},
	{ActReject, "不予受理", []State{Held, Reported}, Rejected, []Role{RoleCommander}, []Field{FNote}},
	{ActMerge, "合并", []State{Reported, Accepted}, Merged, []Role{RoleCommander}, []Field{FTarget}},
	{ActDispatch, "派遣", []State{Accepted}, Dispatched, []Role{RoleCommander}, []Field{FLead}},
	{ActRedispatch, "改派", []State{Dispatched, Handling}, Dispatched, []Role{RoleCommander}, []Field{FLead, FNote}},
	{ActSign, "签收", []State{Dispatched, Handling, FedBack}, "", []Role{RoleUnit, RoleCommunity}, nil},
	{ActHandle, "处置进展", []State{Handling, FedBack}, "", []Role{RoleUnit, RoleCommunity}, []Field{FNote}},
	{ActFeedback, "反馈", []State{Handling, FedBack}, "", []Role{RoleUnit, RoleCommunity}, []Field{FNote}},
	{ActVerify, "核查", []State{FedBack}, "", []Role{RoleGridWorker, RoleGridChief, RoleCommander}, []Field{FPassed}},
	{ActClose, "结案", []State{FedBack}, Closed, []Role{RoleCommander}, nil},
	{ActRate, "评价", []State{Closed}, Closed, []Role{RoleResident, RoleEnterprise, RoleGridWorker, RoleGridChief, RoleCommander}, []Field{FRating}},
	{ActReturn, "回退", []State{Dispatched, Handling, FedBack}, "", []Role{RoleUnit, RoleCommunity}, []Field{FNote}},
	{ActExtendRequest, "申请延期", []State{Dispatched, Handling, FedBack}, "", []Role{RoleUnit, RoleCommunity}, []Field{FExtension, FNote}},
	{ActExtendApprove, "批准延期", []State{Dispatched, Handling, FedBack}, "", []Role{RoleCommander}, nil},
	{ActExtendDeny, "驳回延期", []State{Dispatched, Handling, FedBack}, "", []Role{RoleCommander}, []Field{FNote}},
	{ActParkRequest, "申请挂账", []State{Handling}, Handling, []Role{RoleUnit, RoleCommunity}, []Field{FUntil, FNote}},
	{ActParkApprove, "批准挂账", []State{Handling}, Parked, []Role{RoleCommander}, nil},
	{ActParkDeny, "驳回挂账", []State{Handling}, Handling, []Role{RoleCommander}, []Field{FNote}},
	{ActResume, "恢复处置", []State{Parked}, Handling, []Role{RoleCommander, RoleUnit, RoleCommunity, RoleSystem}, nil},
	// A client app (an Open311 key, the system role) reopens a closed case
	// when its resident says the problem is still there (status OPEN).
	{ActReopen, "重新办理", []State{Closed}, Accepted, []Role{RoleCommander, RoleSystem}, []Field{FNote}},
	{ActComment, "群众留言", []State{Held, Reported, Accepted, Dispatched, Handling, FedBack, Parked, Closed, Rejected, Merged}, "", []Role{RoleSystem}, []Field{FNote}},
	{ActSensor, "感知更新", []State{Reported, Accepted, Dispatched, Handling, FedBack, Parked}, "", []Role{RoleSystem}, []Field{FNote}},
	{ActEscalate, "上提", []State{Reported, Accepted, Dispatched, Handling, FedBack, Parked}, "", []Role{RoleCommander, RoleSystem}, []Field{FNote}},
	{ActUrge, "催办", []State{Reported, Accepted, Dispatched, Handling, FedBack}, "", []Role{RoleCommander, RoleLeader}, nil},
	{ActSupervise, "督办", []State{Reported, Accepted, Dispatched, Handling, FedBack, Parked}, "", []Role{RoleCommander, RoleLeader}, []Field{FNote}},
	{ActPlace, "定位", []State{Reported, Accepted}, "", []Role{RoleCommander}, []Field{FPoint}},
	{ActHandDown, "交办", []State{Reported, Accepted}, "", []Role{RoleCommander}, []Field{FNote}},
	{ActWarn, "预警", []State{Reported, Accepted, Dispatched, Handling, FedBack}, "", []Role{RoleSystem}, nil},
	{ActWhistle, "吹哨", []State{Accepted, Dispatched, Handling, FedBack}, "", []Role{RoleCommander, RoleEnterprise, RoleGridWorker, RoleGridChief}, []Field{FNote, FParties}},
	{ActReportIn, "报到", []State{Accepted, Dispatched, Handling, FedBack, Parked}, "", []Role{RoleUnit, RoleHead}, nil},
	{ActLeave, "退出", []State{Closed}, "", []Role{RoleUnit, RoleHead}, nil},
	{ActRateParty, "评价报到单位", []State{Closed}, "", []Role{RoleCommander, RoleEnterprise, RoleGridWorker, RoleGridChief}, []Field{FWhistle, FParty, FRating}},
	{ActMeeting, "召开会议", []State{Accepted, Dispatched, Handling, FedBack}, "", []Role{RoleCommander, RoleLeader, RoleGridWorker, RoleGridChief, RoleCommunity}, []Field{FMeeting}},
	{ActVolunteer, "志愿协办", []State{Accepted, Dispatched, Handling, FedBack}, "", []Role{RoleCommunity, RoleGridChief, RoleGridWorker}, []Field{FVolunteer, FNote}},
	{ActDecisionDone, "落实", []State{Accepted, Dispatched, Handling, FedBack, Parked}, "", []Role{RoleUnit, RoleCommunity, RoleCommander}, []Field{FDecision}},

	// Overdue appeals (appeal.go): never change the state or the clocks.
	{ActAppeal, "申请超时豁免", appealFrom, "", []Role{RoleUnit, RoleCommunity}, []Field{FNote}},
	{ActAppealReview, "中心审核", appealFrom, "", []Role{RoleCommander}, []Field{FPassed}},
	{ActAppealDecide, "区级审批", appealFrom, "", []Role{RoleCommander, RoleLeader}, []Field{FPassed}},

	// The 12345 hotline's return visit (visit.go): the system, for the hotline platform.
	{ActReturnVisit, "热线回访", []State{Closed}, "", []Role{RoleSystem}, nil},
}

var rules = func() map[Action]Rule {
	m := make(map[Action]Rule, len(Table))
	for _, r := range Table {
		m[r.Action] = r
	}
	return m
}()

// RuleOf returns the rule for an action.
func RuleOf(a Action) (Rule, bool) {
	r, ok := rules[a]
	return r, ok
}

// Command is an action with its inputs.
type Command struct {
	Action    Action       `json:"action"`
	Note      string       `json:"note,omitempty"`
	Photos    []Photo      `json:"photos,omitempty"`
	Lead      string       `json:"lead_unit,omitempty"`
	Co        []string     `json:"co_units,omitempty"`
	Target    string       `json:"target,omitempty"` // merge: the earlier case's ID
	Passed    *bool        `json:"passed,omitempty"` // verify
	Rating    Rating       `json:"rating,omitempty"`
	Extension sla.Limit    `json:"extension,omitzero"`
	Until     time.Time    `json:"until,omitzero"`         // park until
	Severity  sla.Severity `json:"severity,omitempty"`     // accept may correct the severity
	Clock     string       `json:"clock,omitempty"`        // warn: the clock's key
	Visit     *ReturnVisit `json:"return_visit,omitempty"` // return_visit: the hotline's result (visit.go)
	Level     string       `json:"level,omitempty"`        // warn: yellow or red
	Parent    string       `json:"-"`                      // escalate: the next center's path; hand_down: the center below (set by the service)
	Place     *Placement   `json:"-"`                      // place: where the service placed Point
	Rule      *RouteRule   `json:"-"`                      // dispatch, redispatch: the library entry checked by the service
	TaskLimit sla.Limit    `json:"-"`                      // dispatch: a prepared task's own limit for signing and handling (set by the service, operations)

	Kind          WhistleKind   `json:"kind,omitempty"`           // whistle: street, enterprise or grid (default by role)
	Parties       []PartyRef    `json:"parties,omitempty"`        // whistle: the units or people summoned
	ReportInLimit sla.Limit     `json:"report_in_limit,omitzero"` // whistle: overrides the configured limit
	WhistleID     string        `json:"whistle_id,omitempty"`     // report_in (optional), rate_party, meeting (optional)
	PartyKey      string        `json:"party_key,omitempty"`      // rate_party: unit:<id> or person:<account>
	Point         *geo.Point    `json:"point,omitempty"`          // report_in: where the party is
	Meeting       *MeetingInput `json:"meeting,omitempty"`        // meeting
	DecisionID    string        `json:"decision_id,omitempty"`    // decision_done
	AppealUnit    string        `json:"appeal_unit,omitempty"`    // appeal_review, appeal_decide: the unit whose appeal (optional when only one waits)
	Client        *ClientUpdate `json:"client,omitempty"`         // comment, reopen by a client app: who wrote it, the client's own update ID
	SuperviseID   string        `json:"-"`                        // supervise: the supervision's ID (set by the service's Supervise)
	SuperviseBy   sla.Limit     `json:"-"`                        // supervise: the deadline, a limit on the official calendar (set by the service's Supervise; none: only marks the case)
	Volunteer     *VolunteerRef `json:"-"`                        // volunteer: the group, resolved by the service
}

// VolunteerRef names a community's volunteer group helping with a case.
type VolunteerRef struct {
	GroupID   string `json:"group_id"`
	Name      string `json:"name"`
	Community string `json:"community"` // the community's region path
}

// ClientUpdate is what a client app (Open311 servicerequestupdates) says of
// the resident's follow-up: kept in the step's data.
type ClientUpdate struct {
	Key      string `json:"key"`                 // the API key's name
	UpdateID string `json:"update_id"`           // the client's own ID of the update
	Name     string `json:"name,omitempty"`      // who wrote it, as the client shows the name
	MediaURL string `json:"media_url,omitempty"` // a link the client sent, never fetched
}

// Policy is what Apply needs from configuration: the calendar, the limits of
// the case's category, and the bounds on extensions and parking.
type Policy struct {
	Calendar      *calendar.Calendar
	Limit         func(stage string, sev sla.Severity) sla.Limit
	YellowShare   float64 // default 0.8
	MaxExtensions int     // default 2
	MaxParks      int     // default 1
	MaxParkDays   int     // default 365
	MaxNote       int     // default 2000 runes
	// ReportInLimits overrides, per whistle kind, the report-in limit of the
	// category's table (stage report_in).
	ReportInLimits map[WhistleKind]sla.Limit
}

func (p Policy) withDefaults() Policy {
	if p.YellowShare <= 0 || p.YellowShare >= 1 {
		p.YellowShare = 0.8
	}
	if p.MaxExtensions <= 0 {
		p.MaxExtensions = 2
	}
	if p.MaxParks <= 0 {
		p.MaxParks = 1
	}
	if p.MaxParkDays <= 0 {
		p.MaxParkDays = 365
	}
	if p.MaxNote <= 0 {
		p.MaxNote = 2000
	}
	if p.Calendar == nil {
		p.Calendar = calendar.Default()
	}
	return p
}

func refuse(format string, args ...any) error {
	return apperr.Newf(apperr.Refused, format, args...)
}

// Allowed reports whether the actor's role may take the action in the case's
// current state, ignoring inputs and scope. The console uses it to show only
// the buttons that would work.
func Allowed(c *Case, a Action, actor Actor) bool {
	r, ok := rules[a]
	if !ok || !slices.Contains(r.From, c.State) || !slices.Contains(r.Roles, actor.Role) {
		return false
	}
	return guard(c, a, actor) == nil
}

// Actions lists the actions the actor may take on the case now, in table order.
func Actions(c *Case, actor Actor) []Action {
	var out []Action
	for _, r := range Table {
		if r.Action == ActWarn {
			continue
		}
		if Allowed(c, r.Action, actor) {
			out = append(out, r.Action)
		}
	}
	return out
}

// Apply takes one action on a case. It never changes its input: it returns
// the new case with Version incremented and the timeline step, or an error
// (apperr Refused for a transition the rules forbid, Invalid for missing or
// bad inputs, Forbidden for an actor outside the case's scope).
func Apply(c Case, cmd Command, actor Actor, p Policy, now time.Time) (Case, Step, error) {
	p = p.withDefaults()
	r, ok := rules[cmd.Action]
	if !ok {
		return c, Step{}, apperr.Field("action", fmt.Sprintf("未知操作“%s”", cmd.Action))
	}
	if !slices.Contains(r.Roles, actor.Role) {
		return c, Step{}, refuse("%s不能执行“%s”", actor.Role.Label(), r.Label)
	}
	if !CanSee(actor, &c) {
		return c, Step{}, apperr.New(apperr.Forbidden, "无权操作该案件")
	}
	if cmd.Action == ActLeave && c.State.Open() {
		return c, Step{}, refuse("事不完、人不撤：案件办结前不能退出")
	}
	if !slices.Contains(r.From, c.State) {
		return c, Step{}, refuse("案件当前状态为“%s”，不能执行“%s”", c.State.Label(), r.Label)
	}
	if err := guard(&c, cmd.Action, actor); err != nil {
		return c, Step{}, err
	}
	if err := checkInputs(r, cmd, p); err != nil {
		return c, Step{}, err
	}
	n := c.clone()
	step := Step{
		CaseID: c.ID, At: now, ActorID: actor.AccountID, ActorName: actor.Name, Role: actor.Role,
		UnitID: actor.UnitID, Action: cmd.Action, From: c.State, Note: strings.TrimSpace(cmd.Note), Photos: cmd.Photos,
	}
	if r.To != "" {
		n.State = r.To
	}
	if err := effect(&n, &step, cmd, actor, p, now); err != nil {
		return c, Step{}, err
	}
	if c.State.Open() && !n.State.Open() {
		n.endWhistles(now)
		n.endSupervisions(now)
	}
	n.Version = c.Version + 1
	n.UpdatedAt = now
	step.To = n.State
	step.Seq = n.Version
	// The input's clocks count too: an action may stop and replace a clock
	// that had run out (a late accept) or extend it (a late approval).
	n.WasOverdue = n.WasOverdue || clocksOverdue(&c, now) || clocksOverdue(&n, now)
	return n, step, nil
}

// guard holds the rules that depend on the case beyond its state: whose task
// it is, what is pending, what is left.
func guard(c *Case, a Action, actor Actor) error {
	switch a {
	case ActSign:
		i := c.TaskOf(actor.UnitID)
		if i < 0 {
			return refuse("本单位不是该案件的承办单位")
		}
		if c.Tasks[i].State != TaskDispatched {
			return refuse("本单位已签收")
		}
	case ActHandle, ActFeedback:
		i := c.TaskOf(actor.UnitID)
		if i < 0 {
			return refuse("本单位不是该案件的承办单位")
		}
		if c.Tasks[i].State == TaskDispatched {
			return refuse("请先签收")
		}
		if c.Tasks[i].State == TaskFedBack {
			return refuse("本单位已反馈，任务已完成")
		}
	case ActReturn, ActExtendRequest, ActParkRequest:
		i := c.TaskOf(actor.UnitID)
		if i < 0 {
			return refuse("本单位不是该案件的承办单位")
		}
		if c.Tasks[i].State == TaskFedBack && a != ActParkRequest {
			// A finished task is neither handed back nor given more time; the
			// lead's feedback is what the case now waits to verify.
			return refuse("本单位已反馈，任务已完成")
		}
		if a == ActExtendRequest && c.Extension != nil {
			return refuse("已有延期申请待审批")
		}
		if a == ActParkRequest {
			if c.Tasks[i].Role != Lead {
				return refuse("只有主办单位可以申请挂账")
			}
			if c.Park != nil {
				return refuse("已有挂账申请待审批")
			}
		}
	case ActResume:
		if actor.Role == RoleUnit || actor.Role == RoleCommunity {
			if i := c.TaskOf(actor.UnitID); i < 0 || c.Tasks[i].Role != Lead {
				return refuse("只有主办单位可以恢复处置")
			}
		}
	case ActExtendApprove, ActExtendDeny:
		if c.Extension == nil {
			return refuse("没有待审批的延期申请")
		}
	case ActParkApprove, ActParkDeny:
		if c.Park == nil {
			return refuse("没有待审批的挂账申请")
		}
	case ActRate:
		if c.Rating != "" {
			return refuse("该案件已评价")
		}
		if actor.Role != RoleCommander && (actor.AccountID == "" || actor.AccountID != c.Reporter.AccountID) {
			return refuse("只有上报人或指挥中心可以评价")
		}
	case ActVerify:
		if actor.Role != RoleCommander && !strings.HasPrefix(c.RegionPath, actor.RegionPath) {
			return refuse("只有本网格的网格员可以核查")
		}
	case ActEscalate:
		if strings.Count(c.CenterPath, "/") <= 2 {
			return refuse("已是最高一级指挥中心，不能再上提")
		}
	case ActWhistle, ActReportIn, ActLeave, ActRateParty, ActDecisionDone:
		if err := whistleGuard(c, a, actor); err != nil {
			return err
		}
	case ActAppeal, ActAppealReview, ActAppealDecide:
		if err := appealGuard(c, a, actor); err != nil {
			return err
		}
	}
	if isCommanderAction(a) && actor.Role == RoleCommander && !strings.HasPrefix(c.CenterPath, actor.RegionPath) {
		return refuse("案件已上提至上级指挥中心，由上级中心处理")
	}
	return nil
}

func isCommanderAction(a Action) bool {
	switch a {
	case ActRelease, ActAccept, ActReject, ActMerge, ActDispatch, ActRedispatch, ActClose, ActExtendApprove, ActExtendDeny,
		ActParkApprove, ActParkDeny, ActReopen, ActEscalate, ActVerify, ActWhistle, ActPlace, ActHandDown:
		return true
	}
	return false
}

func checkInputs(r Rule, cmd Command, p Policy) error {
	var f apperr.Fields
	for _, need := range r.Requires {
		switch need {
		case FNote:
			if strings.TrimSpace(cmd.Note) == "" {
				f.Add("note", "请填写"+noteLabel(r.Action))
			}
		case FPhotos:
			if len(cmd.Photos) == 0 {
				f.Add("photos", "请上传照片")
			}
		case FLead:
			if cmd.Lead == "" {
				f.Add("lead_unit", "请选择主办单位")
			}
		case FTarget:
			if cmd.Target == "" {
				f.Add("target", "请选择要合并到的案件")
			}
		case FPassed:
			if cmd.Passed == nil {
				f.Add("passed", "请选择核查结果")
			}
		case FRating:
			if !cmd.Rating.Valid() {
				f.Add("rating", "请选择满意、基本满意或不满意")
			}
		case FExtension:
			if err := cmd.Extension.Validate(); err != nil {
				f.Add("extension", "请填写有效的延期时长")
			}
		case FUntil:
			if cmd.Until.IsZero() {
				f.Add("until", "请填写挂账截止时间")
			}
		case FVolunteer:
			if cmd.Volunteer == nil || cmd.Volunteer.GroupID == "" {
				f.Add("group_id", "请选择志愿服务队")
			}
		case FPoint:
			if cmd.Point == nil {
				f.Add("point", "请在地图上标注位置")
			} else if !PointValid(*cmd.Point) {
				f.Add("point", "坐标无效")
			}
		case FParties:
			if len(cmd.Parties) == 0 {
				f.Add("parties", "请选择召集的部门或人员")
			}
		case FWhistle:
			if cmd.WhistleID == "" {
				f.Add("whistle_id", "请指定吹哨")
			}
		case FParty:
			if cmd.PartyKey == "" {
				f.Add("party_key", "请指定报到单位")
			}
		case FMeeting:
			if cmd.Meeting == nil {
				f.Add("meeting", "请填写会议情况")
			}
		case FDecision:
			if cmd.DecisionID == "" {
				f.Add("decision_id", "请指定会议决定")
			}
		}
	}
	if len([]rune(cmd.Note)) > p.MaxNote {
		f.Addf("note", "不能超过%d字", p.MaxNote)
	}
	if BadText(cmd.Note) {
		f.Add("note", "含有控制字符或无效的编码")
	}
	appealInputs(cmd, &f)
	if cmd.Action == ActVerify && cmd.Passed != nil && !*cmd.Passed && strings.TrimSpace(cmd.Note) == "" {
		f.Add("note", "核查不通过时请说明原因")
	}
	if cmd.Action == ActDispatch || cmd.Action == ActRedispatch {
		seen := map[string]bool{cmd.Lead: true}
		for i, u := range cmd.Co {
			if u == "" || seen[u] {
				f.Addf(fmt.Sprintf("co_units[%d]", i), "协办单位重复或为空")
			}
			seen[u] = true
		}
	}
	if cmd.Severity != "" && !cmd.Severity.Valid() {
		f.Add("severity", "紧急程度无效")
	}
	return f.Err()
}

func noteLabel(a Action) string {
	switch a {
	case ActReject, ActReturn, ActReopen, ActExtendRequest, ActParkRequest, ActEscalate, ActHandDown:
		return "原因"
	case ActFeedback:
		return "处置结果"
	case ActWhistle:
		return "吹哨事由"
	case ActAppeal:
		return "申诉理由"
	}
	return "说明"
}
