// Package cases is the case loop: what a case is, the actions that move it,
// and the rules that decide who may take which action in which state. It is
// pure: no SQL, no HTTP. The state machine is the table in machine.go; Apply
// turns (case, command, actor, now) into a new case and one timeline step, or
// an error that says why the action is refused.
package cases

import (
	"slices"
	"time"

	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

// State is where a case stands in its loop.
type State string

// The states of a case.
const (
	Held       State = "held"       // 待甄别: an anonymous report held for screening, no clock running (hold.go)
	Reported   State = "reported"   // 待受理: waiting for the center to accept
	Accepted   State = "accepted"   // 待派遣: registered, waiting for dispatch
	Dispatched State = "dispatched" // 待签收: sent to units, lead has not signed
	Handling   State = "handling"   // 处置中: lead unit signed and is working
	FedBack    State = "fed_back"   // 待核查: lead unit fed back, waiting for verification
	Parked     State = "parked"     // 挂账中: off the active clock, on approval
	Closed     State = "closed"     // 已结案
	Rejected   State = "rejected"   // 不予受理
	Merged     State = "merged"     // 已合并: duplicate of an earlier case
)

// States lists every state in loop order.
var States = []State{Held, Reported, Accepted, Dispatched, Handling, FedBack, Parked, Closed, Rejected, Merged}

// Label is the state's Chinese name for the console and Open311.
func (s State) Label() string {
	switch s {
	case Held:
		return "待甄别"
	case Reported:
		return "待受理"
	case Accepted:
		return "待派遣"
	case Dispatched:
		return "待签收"
	case Handling:
		return "处置中"
	case FedBack:
		return "待核查"
	case Parked:
		return "挂账中"
	case Closed:
		return "已结案"
	case Rejected:
		return "不予受理"
	case Merged:
		return "已合并"
	}
	return string(s)
}

// Open reports whether the case still needs work.
func (s State) Open() bool {
	switch s {
	case Closed, Rejected, Merged:
		return false
	}
	return s != ""
}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, k := range States {
		if k == s {
			return true
		}
	}
	return false
}

// Source is how a case entered the platform.
type Source string

// The sources of a case.
const (
	SourcePatrol     Source = "patrol"     // 网格巡查
	SourceResident   Source = "resident"   // 居民上报
	SourceEnterprise Source = "enterprise" // 企业诉求
	SourceHotline    Source = "hotline"    // 12345热线
	SourceSensor     Source = "sensor"     // 感知设备
	SourceVisit      Source = "visit"      // 领导现场办公
	SourceOpen311    Source = "open311"    // 第三方应用
	SourceOperation  Source = "operation"  // 大型活动的预置任务
)

// Sources lists every source.
var Sources = []Source{SourcePatrol, SourceResident, SourceEnterprise, SourceHotline, SourceSensor, SourceVisit, SourceOpen311, SourceOperation}

// Label is the source's Chinese name.
func (s Source) Label() string {
	switch s {
	case SourcePatrol:
		return "网格巡查"
	case SourceResident:
		return "居民上报"
	case SourceEnterprise:
		return "企业诉求"
	case SourceHotline:
		return "12345热线"
	case SourceSensor:
		return "感知设备"
	case SourceVisit:
		return "现场办公"
	case SourceOpen311:
		return "第三方应用"
	case SourceOperation:
		return "大型活动"
	}
	return string(s)
}

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	for _, k := range Sources {
		if k == s {
			return true
		}
	}
	return false
}

// Rating is the reporter's or the center's verdict on a closed case.
type Rating string

// The three ratings.
const (
	Satisfied      Rating = "satisfied"       // 满意
	BasicSatisfied Rating = "basic_satisfied" // 基本满意
	Unsatisfied    Rating = "unsatisfied"     // 不满意
)

// Label is the rating's Chinese name.
func (r Rating) Label() string {
	switch r {
	case Satisfied:
		return "满意"
	case BasicSatisfied:
		return "基本满意"
	case Unsatisfied:
		return "不满意"
	}
	return string(r)
}

// Valid reports whether r is one of the three ratings.
func (r Rating) Valid() bool { return r == Satisfied || r == BasicSatisfied || r == Unsatisfied }

// Photo is an uploaded image, stored outside the database by content hash.
type Photo struct {
	Hash string `json:"hash"` // hex SHA-256 of the content
	Type string `json:"type"` // MIME type, checked on upload
	Size int64  `json:"size"`
	// URL is where a reader may fetch the photo: a signed address the edges
	// fill in for an answer (service.WithPhotoURLs); never stored.
	URL string `json:"url,omitempty"`
	// ThumbURL is the signed address of its thumbnail (longest side 320
	// pixels, JPEG), for lists and timelines; filled in with URL.
	ThumbURL string `json:"thumb_url,omitempty"`
}

// Reporter is who raised the case. Phone is personal data: the edges mask it
// for anyone whose role does not need it.
type Reporter struct {
	AccountID string `json:"account_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// TaskRole is a unit's part in a case.
type TaskRole string

// Lead and co-unit.
const (
	Lead TaskRole = "lead" // 主办
	Co   TaskRole = "co"   // 协办
)

// TaskState is where one unit's part of a case stands.
type TaskState string

// The states of a task.
const (
	TaskDispatched TaskState = "dispatched" // waiting for the unit to sign
	TaskSigned     TaskState = "signed"     // the unit is handling
	TaskFedBack    TaskState = "fed_back"   // the unit reported its result
	TaskDone       TaskState = "done"       // the unit fed back and the case closed
	TaskUnfinished TaskState = "unfinished" // the case closed before the unit fed back: never counted as done
	TaskCancelled  TaskState = "cancelled"  // returned, re-dispatched or escalated away
)

// Task is one unit's part of a case, with its own clocks.
type Task struct {
	UnitID       string    `json:"unit_id"`
	Role         TaskRole  `json:"role"`
	State        TaskState `json:"state"`
	Sign         sla.Clock `json:"sign"`
	Handle       sla.Clock `json:"handle"`
	DispatchedAt time.Time `json:"dispatched_at"`
	SignedAt     time.Time `json:"signed_at,omitzero"`
	FedBackAt    time.Time `json:"fed_back_at,omitzero"`
	Feedback     string    `json:"feedback,omitempty"`
	Photos       []Photo   `json:"photos,omitempty"`
	Reworks      int       `json:"reworks,omitempty"`
	Extensions   int       `json:"extensions,omitempty"`
}

// Active reports whether the task still counts toward the case.
func (t Task) Active() bool {
	return t.State == TaskDispatched || t.State == TaskSigned || t.State == TaskFedBack
}

// ExtensionRequest is a unit's pending request to move its deadline.
type ExtensionRequest struct {
	UnitID string    `json:"unit_id"`
	By     sla.Limit `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// ParkRequest is a unit's pending request to park the case.
type ParkRequest struct {
	UnitID string    `json:"unit_id"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Stage names the case-level clock that is running.
type Stage string

// Case-level stages with a clock (task clocks are sign and handle).
const (
	StageAccept   Stage = "accept"
	StageDispatch Stage = "dispatch"
	StageVerify   Stage = "verify"
)

// RouteRule is the entry of the graded classification library a case was
// dispatched under: the category, the entry's version and its owning level
// at that moment. Later edits to the library do not change it.
type RouteRule struct {
	Category string `json:"category"`
	Version  int    `json:"version"`
	Level    string `json:"level"`
}

// Case is one problem, from report to rating.
type Case struct {
	ID          string            `json:"id"`
	Number      string            `json:"number"`
	Version     int               `json:"version"`
	Source      Source            `json:"source"`
	Reporter    Reporter          `json:"reporter"`
	Point       *geo.Point        `json:"point,omitempty"`
	Address     string            `json:"address,omitempty"`
	GridCode    string            `json:"grid_code,omitempty"` // "" when no grid holds the point: 无网格
	RegionPath  string            `json:"region_path"`         // materialised path of the grid, or of the region it fell back to
	CenterPath  string            `json:"center_path"`         // the center that owns the case: a street, district or city path
	Category    string            `json:"category"`
	Board       string            `json:"board"`
	Severity    sla.Severity      `json:"severity"`
	Description string            `json:"description"`
	Answers     map[string]any    `json:"answers,omitempty"`
	Photos      []Photo           `json:"photos,omitempty"`
	Extra       []Extra           `json:"extra,omitempty"` // a client app's fields beyond the category's questions
	State       State             `json:"state"`
	Stage       Stage             `json:"stage,omitempty"`
	Clock       sla.Clock         `json:"clock,omitzero"` // the case-level clock of Stage
	Tasks       []Task            `json:"tasks,omitempty"`
	Whistles    []Whistle         `json:"whistles,omitempty"`     // 吹哨报到
	Meetings    []Meeting         `json:"meetings,omitempty"`     // 调度会、议事会…
	Appeals     []Appeal          `json:"appeals,omitempty"`      // 超时申诉 (appeal.go)
	Visit       *ReturnVisit      `json:"return_visit,omitempty"` // the hotline's return visit (回访, visit.go)
	MergedInto  string            `json:"merged_into,omitempty"`
	Rating      Rating            `json:"rating,omitempty"`
	RatingNote  string            `json:"rating_note,omitempty"`
	Extension   *ExtensionRequest `json:"extension,omitempty"`
	Park        *ParkRequest      `json:"park,omitempty"`
	ParkedUntil time.Time         `json:"parked_until,omitzero"`
	Parks       int               `json:"parks,omitempty"`
	Reworks     int               `json:"reworks,omitempty"`
	Reopens     int               `json:"reopens,omitempty"`
	Urges       int               `json:"urges,omitempty"`
	// Volunteers are the community volunteer groups helping as co-handlers
	// (ActVolunteer): no task and no clock, a record of who helped.
	Volunteers  []VolunteerRef `json:"volunteers,omitempty"`
	Escalations int            `json:"escalations,omitempty"`
	Supervised  bool           `json:"supervised,omitempty"`
	// Supervisions are the deadlines of the supervisions (督办) with one
	// (supervision.go): each its own clock, swept like the others.
	Supervisions []Supervision `json:"supervisions,omitempty"`
	Rule         *RouteRule    `json:"rule,omitempty"`       // the library entry of the last dispatch
	OnSpot       bool          `json:"on_spot,omitempty"`    // solved on the spot by the reporter
	ClientRef    string        `json:"client_ref,omitempty"` // the reporter's own ID for the report (offline phones)
	Hold         *Hold         `json:"hold,omitempty"`       // held for screening at the report (hold.go)
	WasOverdue   bool          `json:"was_overdue,omitempty"`
	ReportedAt   time.Time     `json:"reported_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
	ClosedAt     time.Time     `json:"closed_at,omitzero"`
}

// Step is one append-only entry in a case's timeline.
type Step struct {
	ID        string         `json:"id"`
	CaseID    string         `json:"case_id"`
	Seq       int            `json:"seq"` // equals the case version the step produced
	At        time.Time      `json:"at"`
	ActorID   string         `json:"actor_id,omitempty"`
	ActorName string         `json:"actor_name"`
	Role      Role           `json:"role"`
	UnitID    string         `json:"unit_id,omitempty"`
	Action    Action         `json:"action"`
	From      State          `json:"from,omitempty"`
	To        State          `json:"to"`
	Note      string         `json:"note,omitempty"`
	Photos    []Photo        `json:"photos,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
}

// LeadTask returns the index of the active lead task, or -1.
func (c *Case) LeadTask() int {
	for i, t := range c.Tasks {
		if t.Role == Lead && t.Active() {
			return i
		}
	}
	return -1
}

// TaskOf returns the index of unitID's active task, or -1.
func (c *Case) TaskOf(unitID string) int {
	for i, t := range c.Tasks {
		if t.UnitID == unitID && t.Active() {
			return i
		}
	}
	return -1
}

// Units returns the IDs of the units with an active task, lead first.
func (c *Case) Units() []string {
	var out []string
	if i := c.LeadTask(); i >= 0 {
		out = append(out, c.Tasks[i].UnitID)
	}
	for _, t := range c.Tasks {
		if t.Active() && t.Role != Lead {
			out = append(out, t.UnitID)
		}
	}
	return out
}

// clone returns a deep enough copy that Apply never mutates its input.
func (c Case) clone() Case {
	c.Tasks = append([]Task(nil), c.Tasks...)
	c.Photos = append([]Photo(nil), c.Photos...)
	c.cloneWhistles()
	c.Appeals = slices.Clone(c.Appeals)
	c.Supervisions = slices.Clone(c.Supervisions)
	if c.Answers != nil {
		m := make(map[string]any, len(c.Answers))
		for k, v := range c.Answers {
			m[k] = v
		}
		c.Answers = m
	}
	if c.Point != nil {
		p := *c.Point
		c.Point = &p
	}
	if c.Extension != nil {
		e := *c.Extension
		c.Extension = &e
	}
	if c.Park != nil {
		p := *c.Park
		c.Park = &p
	}
	if c.Hold != nil {
		h := *c.Hold
		c.Hold = &h
	}
	return c
}
